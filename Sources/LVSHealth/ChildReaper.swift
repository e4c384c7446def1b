import CLinuxNet
import Glibc

/// Starts the health checker's child processes (MISC_CHECK programs, notify and quorum
/// scripts) and reaps them on the loop's thread: a pidfd per child polls readable when it
/// exits (Linux ≥ 5.3); without pidfds, a 50 ms timer polls waitpid(WNOHANG) while any child
/// runs. Children run in their own process group so a timeout kills everything they started.
final class ChildReaper {
    final class Child: EventHandler {
        let pid: Int32
        var pidfd: Int32
        var onExit: ((Int32) -> Void)?
        weak var reaper: ChildReaper?

        init(pid: Int32, pidfd: Int32, onExit: ((Int32) -> Void)?, reaper: ChildReaper) {
            self.pid = pid
            self.pidfd = pidfd
            self.onExit = onExit
            self.reaper = reaper
        }

        func handleEvents(_ events: UInt32) { reaper?.poll(self) }
    }

    let loop: EventLoop
    var children: [Int32: Child] = [:]
    var pidfdsWork = true
    var pollTimer: TimerHandle?

    init(loop: EventLoop) { self.loop = loop }

    var running: Int { children.count }

    /// Starts `arguments` (no shell; the first is looked up in PATH if it has no slash).
    /// `onExit` gets the wait status. Returns the pid, or the errno of the failure.
    func spawn(_ arguments: [String], onExit: ((Int32) -> Void)?) -> Result<Int32, HealthSystemError> {
        guard let file = arguments.first else { return .failure(HealthSystemError(call: "posix_spawn", errno: ENOENT)) }
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) }
        argv.append(nil)
        defer { for p in argv { free(p) } }
        let pid = argv.withUnsafeBufferPointer { clinuxnet_spawn_in_group(file, $0.baseAddress) }
        guard pid > 0 else { return .failure(HealthSystemError(call: "posix_spawn \(file)", errno: errno)) }
        var pidfd: Int32 = -1
        if pidfdsWork {
            pidfd = clinuxnet_pidfd_open(pid)
            if pidfd < 0 && (errno == ENOSYS || errno == EPERM) { pidfdsWork = false }
        }
        let child = Child(pid: pid, pidfd: pidfd, onExit: onExit, reaper: self)
        children[pid] = child
        if pidfd >= 0 {
            if loop.register(pidfd, events: EPOLLIN.rawValue, handler: child) != 0 {
                loop.closeRegistered(pidfd)
                child.pidfd = -1
            }
        }
        if child.pidfd < 0 { armPolling() }
        return .success(pid)
    }

    /// Kills the child's whole process group (it was started as its leader).
    func killGroup(_ pid: Int32) {
        guard children[pid] != nil else { return }
        kill(-pid, SIGKILL)
    }

    /// Keeps reaping `pid` but no longer reports its exit.
    func forget(_ pid: Int32) { children[pid]?.onExit = nil }

    func poll(_ child: Child) {
        var status: Int32 = 0
        let r = waitpid(child.pid, &status, WNOHANG)
        if r == 0 { return }
        // r == pid: exited; r < 0 (ECHILD): someone else reaped it — nothing more will come.
        children[child.pid] = nil
        if child.pidfd >= 0 {
            loop.closeRegistered(child.pidfd)
            child.pidfd = -1
        }
        let onExit = child.onExit
        child.onExit = nil
        onExit?(r == child.pid ? status : -1)
    }

    func armPolling() {
        guard pollTimer == nil else { return }
        pollTimer = loop.schedule(at: Posix.monotonicSeconds() + 0.05) { [weak self] in
            guard let self else { return }
            self.pollTimer = nil
            for child in self.children.values where child.pidfd < 0 { self.poll(child) }
            if self.children.values.contains(where: { $0.pidfd < 0 }) { self.armPolling() }
        }
    }

    /// At shutdown: kill every child's group and wait for them, at most `seconds` in all.
    func killAll(waitingAtMost seconds: Double) {
        for pid in children.keys { kill(-pid, SIGKILL) }
        let deadline = Posix.monotonicSeconds() + seconds
        while !children.isEmpty && Posix.monotonicSeconds() < deadline {
            for child in Array(children.values) { poll(child) }
            if !children.isEmpty { usleep(10_000) }
        }
    }

    /// Decodes a wait status: the exit code, or nil with the signal that killed the process.
    static func decode(_ status: Int32) -> (exit: Int32?, signal: Int32?) {
        if status < 0 { return (nil, nil) }
        let signal = status & 0x7f
        if signal == 0 { return ((status >> 8) & 0xff, nil) }
        return (nil, signal)
    }
}
