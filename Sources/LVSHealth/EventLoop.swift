import CLinuxNet
import Glibc

/// What a socket, pidfd or eventfd registered with the loop is told when it is ready.
protocol EventHandler: AnyObject {
    /// `events` is the epoll mask (EPOLLIN, EPOLLOUT, EPOLLERR, EPOLLHUP...).
    func handleEvents(_ events: UInt32)
}

/// The health checker's one thread of I/O: epoll for readiness and a min-heap of deadlines.
/// Every check attempt is a few non-blocking system calls and a registration here, so 10 000
/// checks a second cost no thread each and no busy wait. Other threads reach the loop through
/// an eventfd registered like any other descriptor (`HealthMonitor` owns it).
///
/// Not thread-safe: everything but `wake(_:)` runs on the loop's thread.
final class EventLoop {
    struct Registration {
        var handler: (any EventHandler)?
        var generation: UInt32 = 0
    }

    let epollFD: Int32
    /// Indexed by descriptor number. The generation is packed with the fd into the epoll data,
    /// so an event for a descriptor closed and reused within one epoll_wait batch is dropped.
    var registrations: [Registration] = []
    var timers = TimerHeap()
    /// Work to run on the next turn, after the current handlers (so that a check that completes
    /// inside its own start never re-enters the caller).
    var soon: [() -> Void] = []
    var events: UnsafeMutablePointer<epoll_event>
    let eventCapacity = 1024

    init() throws(HealthSystemError) {
        epollFD = try Posix.call("epoll_create1") { epoll_create1(Int32(EPOLL_CLOEXEC)) }
        events = .allocate(capacity: eventCapacity)
    }

    deinit {
        events.deallocate()
        Glibc.close(epollFD)
    }

    /// Wakes a loop that watches eventfd `fd` out of epoll_wait (safe from any thread).
    static func wake(_ fd: Int32) {
        var one: UInt64 = 1
        _ = write(fd, &one, 8)
    }

    /// Starts watching `fd` for `events` (EPOLLIN/EPOLLOUT; errors and hang-ups always come).
    /// Returns errno on failure (EMFILE-like pressure shows up at socket(), not here).
    @discardableResult
    func register(_ fd: Int32, events: UInt32, handler: any EventHandler) -> Int32 {
        let index = Int(fd)
        if index >= registrations.count {
            registrations.append(contentsOf: repeatElement(Registration(), count: max(64, index + 1 - registrations.count, registrations.count)))
        }
        registrations[index].generation &+= 1
        registrations[index].handler = handler
        var ev = epoll_event()
        ev.events = events
        ev.data.u64 = UInt64(UInt32(bitPattern: fd)) | UInt64(registrations[index].generation) << 32
        if epoll_ctl(epollFD, EPOLL_CTL_ADD, fd, &ev) != 0 {
            let e = errno
            registrations[index].handler = nil
            return e
        }
        return 0
    }

    /// Changes the events watched for an fd registered earlier.
    func modify(_ fd: Int32, events: UInt32) {
        let index = Int(fd)
        guard index < registrations.count else { return }
        var ev = epoll_event()
        ev.events = events
        ev.data.u64 = UInt64(UInt32(bitPattern: fd)) | UInt64(registrations[index].generation) << 32
        _ = epoll_ctl(epollFD, EPOLL_CTL_MOD, fd, &ev)
    }

    /// Stops watching `fd` and closes it (close removes it from the epoll set by itself).
    func closeRegistered(_ fd: Int32) {
        let index = Int(fd)
        if index < registrations.count {
            registrations[index].handler = nil
            registrations[index].generation &+= 1
        }
        Posix.close(fd)
    }

    /// Runs `action` once at `deadline` (monotonic seconds).
    @discardableResult
    func schedule(at deadline: Double, _ action: @escaping () -> Void) -> TimerHandle {
        let handle = TimerHandle(action)
        timers.push(deadline: deadline, handle: handle)
        return handle
    }

    func runSoon(_ action: @escaping () -> Void) { soon.append(action) }

    /// One turn: wait for readiness until the next timer (at most `maxWait` seconds), dispatch
    /// the ready handlers, then the timers that are due and the deferred work.
    func runOnce(maxWait: Double) {
        var wait = maxWait
        if !soon.isEmpty { wait = 0 }
        if let next = timers.nextDeadline {
            wait = min(wait, max(0, next - Posix.monotonicSeconds()))
        }
        // Round up so that a timer due in 0.3 ms does not spin on 0 ms waits.
        let millis = Int32(min(60_000, (wait * 1000).rounded(.up)))
        let n = epoll_wait(epollFD, events, Int32(eventCapacity), millis)
        if n > 0 {
            for i in 0..<Int(n) {
                let ev = events[i]
                let data = ev.data.u64
                let fd = Int(UInt32(truncatingIfNeeded: data))
                let generation = UInt32(truncatingIfNeeded: data >> 32)
                guard fd < registrations.count, registrations[fd].generation == generation,
                      let handler = registrations[fd].handler
                else { continue }
                handler.handleEvents(ev.events)
            }
        }
        runDue(now: Posix.monotonicSeconds())
    }

    /// Runs the timers due at `now` and the deferred work (until neither has anything left
    /// that is due: deferred work may complete checks that schedule more deferred work).
    func runDue(now: Double) {
        var rounds = 0
        repeat {
            while let handle = timers.popDue(now: now) {
                if let action = handle.action {
                    handle.action = nil
                    action()
                }
            }
            let work = soon
            soon.removeAll(keepingCapacity: true)
            for action in work { action() }
            rounds += 1
        } while !soon.isEmpty && rounds < 16
    }
}
