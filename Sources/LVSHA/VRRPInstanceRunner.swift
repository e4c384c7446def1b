import CLinuxNet
import Glibc
import LVSCore
import LVSDataPlane
import Synchronization

/// What a VRRP instance does to the rest of lvsd. Each runs on the instance's thread.
public struct VRRPHooks: Sendable {
    /// Take (true) or release (false) the VIPs in the data plane; taking them sends the first
    /// gratuitous ARP for each.
    public var setOwnership: @Sendable (Bool) -> Void
    /// One more gratuitous ARP for each VIP (the rest of a takeover burst, the delayed one).
    public var announce: @Sendable () -> Void
    /// Called after every state change (instance name, new state): the place to tie the
    /// connection sync daemon's master/backup role to the instance (`lvs_sync_daemon`).
    public var onStateChange: @Sendable (String, VRRPState) -> Void
    /// Consulted before preempting a lower-priority master (default: always).
    public var mayPreempt: @Sendable () -> Bool
    /// Log lines.
    public var log: @Sendable (String) -> Void

    public init(setOwnership: @escaping @Sendable (Bool) -> Void, announce: @escaping @Sendable () -> Void,
                onStateChange: @escaping @Sendable (String, VRRPState) -> Void = { _, _ in },
                mayPreempt: @escaping @Sendable () -> Bool = { true },
                log: @escaping @Sendable (String) -> Void = { Log.info($0) }) {
        self.setOwnership = setOwnership
        self.announce = announce
        self.onStateChange = onStateChange
        self.mayPreempt = mayPreempt
        self.log = log
    }
}

/// Counters and state of one instance, for logs and tests.
public struct VRRPStatus: Sendable, Equatable, CustomStringConvertible {
    public var state: VRRPState = .initialize
    public var advertisementsSent: UInt64 = 0
    public var advertisementsReceived: UInt64 = 0
    public var priorityZeroReceived: UInt64 = 0
    public var becameMaster: UInt64 = 0
    /// Datagrams dropped, by reason.
    public var dropped: [VRRPDropReason: UInt64] = [:]
    /// Adverts accepted although their address list differs from `virtual_ipaddress`
    /// (outside strict mode; in strict mode they are `dropped[.addressListMismatch]`).
    public var addressListMismatchAccepted: UInt64 = 0

    public var description: String {
        var parts = ["state \(state.rawValue)", "adverts sent \(advertisementsSent)", "received \(advertisementsReceived)",
                     "priority-0 received \(priorityZeroReceived)", "became master \(becameMaster)"]
        if addressListMismatchAccepted > 0 { parts.append("accepted with another address list \(addressListMismatchAccepted)") }
        parts += VRRPDropReason.allCases.compactMap { r in dropped[r].map { "dropped \(r.rawValue) \($0)" } }
        return parts.joined(separator: ", ")
    }
}

/// Runs one VRRP instance on its own thread: the socket, the state machine's timer, the
/// tracked interfaces, the takeover's gratuitous ARPs and the notify scripts.
public final class VRRPInstanceRunner: @unchecked Sendable {
    // @unchecked: `machine`, `socket` and the GARP schedule are used by the instance's thread
    // only (after start); the control thread reads `status` and sets `stopRequested`.
    var machine: VRRPStateMachine
    let socket: VRRPSocket
    var filter: VRRPReceiveFilter
    /// The receive checks' log lines, one per problem and change (instance's thread only).
    var checkLog: VRRPCheckLog
    let hooks: VRRPHooks
    let wakeup: Int32
    let stopRequested = Atomic<Bool>(false)
    public let status = Mutex(VRRPStatus())
    var thread: pthread_t?
    /// When the next gratuitous-ARP burst of a takeover is due (nil: none).
    var nextAnnouncementAt: UInt64?
    var children: [pid_t] = []

    /// The configuration the instance started with (its name, interface and router id never
    /// change; a reload's other settings are in `machine`, read on the instance's thread only).
    public let configuration: VRRPInstanceConfiguration
    /// A reloaded configuration waiting for the instance's thread (`reconfigure`).
    let pendingConfiguration = Mutex<VRRPInstanceConfiguration?>(nil)

    public init(configuration: VRRPInstanceConfiguration, interface: NetworkInterface, hooks: VRRPHooks) throws(SystemError) {
        socket = try VRRPSocket(interface: interface, unicastSource: configuration.unicastSource)
        self.configuration = configuration
        machine = VRRPStateMachine(configuration: configuration, primaryAddress: socket.source)
        machine.mayPreempt = hooks.mayPreempt
        filter = VRRPReceiveFilter(configuration: configuration, localAddress: socket.source)
        checkLog = VRRPCheckLog(instance: configuration.name, virtualRouterID: configuration.virtualRouterID)
        self.hooks = hooks
        wakeup = clinuxnet_eventfd()
    }

    deinit { if wakeup >= 0 { close(wakeup) } }

    public func start() throws(SystemError) {
        let box = Unmanaged.passRetained(self)
        var tid = pthread_t()
        let r = pthread_create(&tid, nil, { arg in
            guard let arg else { return nil }
            let runner = Unmanaged<VRRPInstanceRunner>.fromOpaque(arg).takeRetainedValue()
            _ = clinuxnet_set_thread_name("lvsd-vrrp")
            runner.run()
            return nil
        }, box.toOpaque())
        guard r == 0 else {
            box.release()
            throw SystemError(call: "pthread_create", subject: "VRRP instance", errno: r)
        }
        thread = tid
    }

    /// Stops the instance as keepalived does: a master sends a priority-0 advert (the backup
    /// takes over after its skew time) and releases the VIPs; notify_stop runs. Waits for it.
    public func stop() {
        stopRequested.store(true, ordering: .releasing)
        var one: UInt64 = 1
        _ = write(wakeup, &one, 8)
        if let thread { pthread_join(thread, nil) }
        thread = nil
    }

    /// Hands a reloaded configuration (SIGHUP) to the instance's thread, which applies it
    /// between two events without leaving its state. False, and nothing changes, when it is
    /// not the same instance (another name, interface, router id, version or peers): that
    /// needs a restart.
    public func reconfigure(_ new: VRRPInstanceConfiguration) -> Bool {
        guard VRRPStateMachine(configuration: configuration, primaryAddress: socket.source).canReconfigure(to: new) else {
            return false
        }
        pendingConfiguration.withLock { $0 = new }
        var one: UInt64 = 1
        _ = write(wakeup, &one, 8)
        return true
    }

    /// On the instance's thread: the reloaded configuration, if one is waiting.
    func applyPendingConfiguration(now: UInt64) {
        guard let new = pendingConfiguration.withLock({ pending -> VRRPInstanceConfiguration? in
            defer { pending = nil }
            return pending
        }) else { return }
        var drain: UInt64 = 0
        _ = read(wakeup, &drain, 8)
        let old = machine.configuration
        guard new != old else { return }
        filter = VRRPReceiveFilter(configuration: new, localAddress: socket.source)
        // Problems still there are logged again, against the new settings.
        checkLog = VRRPCheckLog(instance: new.name, virtualRouterID: new.virtualRouterID)
        let actions = machine.reconfigure(new, now: now)
        hooks.log("VRRP \(new.name): reloaded in state \(machine.state.rawValue): priority \(old.priority) -> \(new.priority), advert_int \(Double(new.advertIntervalCentiseconds) / 100) s, \(new.preempt ? "preempt" : "nopreempt")")
        execute(actions, now: now)
    }

    var trackedInterfaces: [String] { [socket.interface.name] + machine.configuration.trackInterfaces }

    func linksUp() -> Bool { trackedInterfaces.allSatisfy(VRRPSocket.linkIsUp) }

    func run() {
        let c = configuration
        hooks.log("VRRP \(c.name): VRRPv\(c.version.rawValue)\(c.authentication == .none ? "" : " with auth_type PASS"), vrid \(c.virtualRouterID), priority \(c.priority), advert_int \(Double(c.advertIntervalCentiseconds) / 100) s, \(c.preempt ? "preempt" + (c.preemptDelaySeconds > 0 ? " after \(c.preemptDelaySeconds) s" : "") : "nopreempt"), \(c.unicastPeers.isEmpty ? "multicast 224.0.0.18" : "unicast to \(c.unicastPeers.map(\.description).joined(separator: ", "))") on \(socket.interface.name), VIPs \(c.virtualAddresses.map(\.description).joined(separator: ", "))")
        var now = Linux.monotonicNanos()
        execute(machine.handle(.startup, now: now), now: now)
        var linkUp = linksUp()
        if !linkUp { execute(machine.handle(.interfaceDown, now: now), now: now) }
        var nextLinkCheck = now &+ 100_000_000
        while !stopRequested.load(ordering: .acquiring) {
            now = Linux.monotonicNanos()
            var wait: UInt64 = nextLinkCheck &- min(nextLinkCheck, now)
            if let d = machine.deadline { wait = min(wait, d &- min(d, now)) }
            if let g = nextAnnouncementAt { wait = min(wait, g &- min(g, now)) }
            var pfds = (pollfd(fd: socket.fd, events: Int16(POLLIN), revents: 0),
                        pollfd(fd: wakeup, events: Int16(POLLIN), revents: 0))
            let millis = Int32(min(1000, (wait + 999_999) / 1_000_000))
            _ = withUnsafeMutableBytes(of: &pfds) { raw in
                poll(raw.baseAddress?.assumingMemoryBound(to: pollfd.self), 2, millis)
            }
            if stopRequested.load(ordering: .acquiring) { break }
            now = Linux.monotonicNanos()
            applyPendingConfiguration(now: now)
            while let datagram = socket.receive() { receive(datagram, now: now) }
            if now >= nextLinkCheck {
                nextLinkCheck = now &+ 100_000_000
                let up = linksUp()
                if up != linkUp {
                    linkUp = up
                    hooks.log("VRRP \(c.name): tracked interfaces \(up ? "up again" : "down (\(trackedInterfaces.filter { !VRRPSocket.linkIsUp($0) }.joined(separator: ", ")))")")
                    execute(machine.handle(up ? .interfaceUp : .interfaceDown, now: now), now: now)
                }
            }
            if let d = machine.deadline, now >= d {
                execute(machine.handle(.timerExpired, now: now), now: now)
            }
            if let g = nextAnnouncementAt, now >= g {
                nextAnnouncementAt = nil
                if machine.state == .master {
                    for _ in 0..<machine.configuration.garpMasterRepeat { hooks.announce() }
                }
            }
            reapChildren()
        }
        now = Linux.monotonicNanos()
        execute(machine.handle(.shutdown, now: now), now: now)
        reapChildren()
    }

    func receive(_ datagram: [UInt8], now: UInt64) {
        let outcome = filter.check(datagram)
        for line in checkLog.lines(for: outcome) { hooks.log(line) }
        switch outcome {
        case .dropped(let drop):
            status.withLock { $0.dropped[drop.reason, default: 0] += 1 }
        case .accepted(let event, let mismatch):
            if case .advertisement(let priority, _, _) = event {
                status.withLock {
                    $0.advertisementsReceived += 1
                    if priority == 0 { $0.priorityZeroReceived += 1 }
                    if mismatch != nil { $0.addressListMismatchAccepted += 1 }
                }
            }
            execute(machine.handle(event, now: now), now: now)
            if case .advertisement(let priority, _, let source) = event, priority > 0, machine.state == .backup,
               let line = checkLog.masterIntervalLine(machine.masterAdvertInterval, from: source,
                                                      own: machine.configuration.advertIntervalCentiseconds,
                                                      masterDownNanoseconds: machine.masterDownInterval) {
                hooks.log(line)
            }
        }
    }

    func execute(_ actions: [VRRPAction], now: UInt64) {
        for action in actions {
            switch action {
            case .sendAdvertisement(let priority):
                let c = machine.configuration
                let advert = VRRPMessage.advertisement(for: c, priority: priority)
                let destinations = c.unicastPeers.isEmpty ? [VRRPInstanceConfiguration.multicastGroup] : c.unicastPeers
                for d in destinations where socket.send(advert, to: d) {
                    status.withLock { $0.advertisementsSent += 1 }
                }
            case .enter(let state):
                enter(state, now: now)
            }
        }
    }

    func enter(_ state: VRRPState, now: UInt64) {
        let c = machine.configuration
        let was = status.withLock { s -> VRRPState in
            let old = s.state
            s.state = state
            if state == .master { s.becameMaster += 1 }
            return old
        }
        if state == .master {
            hooks.setOwnership(true)
            for _ in 1..<max(1, c.garpMasterRepeat) { hooks.announce() }
            nextAnnouncementAt = c.garpMasterDelaySeconds > 0 ? now &+ UInt64(c.garpMasterDelaySeconds) * 1_000_000_000 : nil
        } else if was == .master {
            hooks.setOwnership(false)
            nextAnnouncementAt = nil
        }
        let stopping = state == .initialize
        hooks.log("VRRP \(c.name): \(was.rawValue) -> \(stopping ? "STOP" : state.rawValue)")
        let name = stopping ? "STOP" : state.rawValue
        let specific: [String]? = switch state {
        case .master: c.notify.master
        case .backup: c.notify.backup
        case .fault: c.notify.fault
        case .initialize: c.notify.stop
        }
        if let specific { spawn(specific) }
        if let any = c.notify.any { spawn(any + ["INSTANCE", c.name, name, String(c.priority)]) }
        hooks.onStateChange(c.name, state)
    }

    /// Starts a notify script without a shell and without waiting for it (keepalived's way).
    func spawn(_ command: [String]) {
        guard let file = command.first else { return }
        var argv: [UnsafeMutablePointer<CChar>?] = command.map { strdup($0) }
        argv.append(nil)
        defer { for p in argv { free(p) } }
        let pid = clinuxnet_spawn_in_group(file, argv)
        if pid > 0 {
            children.append(pid)
        } else {
            hooks.log("VRRP \(configuration.name): cannot run \(file): \(String(cString: strerror(errno)))")
        }
    }

    func reapChildren() {
        children.removeAll { pid in
            var status: Int32 = 0
            let r = waitpid(pid, &status, WNOHANG)
            return r != 0
        }
    }
}
