import CLinuxNet
import Glibc
import LVSConfig
import LVSCore

/// The loop thread's state: the coordinator, the attempts in flight, the event loop.
final class HealthRunner {
    var coordinator: HealthCoordinator
    let editor: any TableEditor
    let log: HealthMonitor.Logger
    let loop: EventLoop
    let reaper: ChildReaper
    let environment: CheckEnvironment
    let maximumInFlight: Int
    var attempts: [Int: any CheckAttempt] = [:]
    /// The eventfd other threads write to; registered with the loop so it ends a wait.
    let externalWake: Int32

    final class WakeHandler: EventHandler {
        let fd: Int32
        init(fd: Int32) { self.fd = fd }
        func handleEvents(_ events: UInt32) {
            var value: UInt64 = 0
            _ = read(fd, &value, 8)
        }
    }

    let wakeHandler: WakeHandler

    init(configuration: KeepalivedConfiguration, editor: any TableEditor, log: @escaping HealthMonitor.Logger,
         maximumInFlight: Int, externalWake: Int32, path: DirectRoutingPath? = nil,
         now: Double = Posix.monotonicSeconds()) throws(HealthSystemError) {
        loop = try EventLoop()
        reaper = ChildReaper(loop: loop)
        environment = CheckEnvironment(loop: loop, reaper: reaper, path: path)
        coordinator = HealthCoordinator(configuration: configuration, now: now)
        self.editor = editor
        self.log = log
        self.maximumInFlight = maximumInFlight
        self.externalWake = externalWake
        wakeHandler = WakeHandler(fd: externalWake)
        if externalWake >= 0 { loop.register(externalWake, events: EPOLLIN.rawValue, handler: wakeHandler) }
    }

    /// Brings the table to the configuration's wanted state, then reports what happened.
    func begin() {
        let commands = TablePlan.reconcile(wanted: coordinator.wantedTable, managed: coordinator.managedEntries,
                                           removed: [], table: editor.currentTable())
        if !commands.isEmpty, let error = editor.apply(commands) {
            log(.error, "health: the table could not be set to the configuration's services: \(error.explanation)")
        }
        _ = coordinator.takeDirty()
        flush()
        let servers = coordinator.services.reduce(0) { $0 + $1.servers.count }
        log(.info, "health: checking \(coordinator.checkers.count) checkers of \(servers) real servers in \(coordinator.services.count) virtual services")
    }

    /// One loop turn: start what is due, wait for readiness or the next due time (at most 1 s),
    /// then apply the table changes and run the scripts the results called for.
    func turn() {
        startDue()
        var wait = 1.0
        if attempts.count < maximumInFlight, let next = coordinator.nextDue {
            wait = min(wait, max(0, next - Posix.monotonicSeconds()))
        }
        loop.runOnce(maxWait: wait)
        startDue()
        applyChanges()
        flush()
    }

    func startDue() {
        let room = maximumInFlight - attempts.count
        guard room > 0 else { return }
        let now = Posix.monotonicSeconds()
        for (id, plan) in coordinator.takeDue(now: now, limit: room) {
            var checker = plan.kind.makeChecker()
            if let vip = plan.target.viaVIP, plan.kind.handshakesThroughVIP {
                checker = ViaVIPChecker(inner: plan.kind.isPlainTCP ? nil : checker, vip: vip, keyword: checker.keyword)
            }
            let attempt = checker.start(plan.target, environment: environment) { [unowned self] outcome in
                self.completed(id, outcome)
            }
            attempts[id] = attempt
        }
    }

    func completed(_ id: Int, _ outcome: CheckOutcome) {
        attempts[id] = nil
        coordinator.record(id, outcome, now: Posix.monotonicSeconds())
    }

    func applyChanges() {
        let dirty = coordinator.takeDirty()
        guard !dirty.isEmpty else { return }
        var wanted: [RealServerKey: RealServerConfig?] = [:]
        for key in dirty { wanted.updateValue(coordinator.wantedEntry(key), forKey: key) }
        for attempt in 0..<2 {
            let commands = TablePlan.commands(for: wanted, table: editor.currentTable())
            guard !commands.isEmpty else { return }
            guard let error = editor.apply(commands) else { return }
            // An admin may have changed the table between our read and our batch: read again once.
            if attempt == 1 {
                log(.error, "health: table change refused: \(error.explanation) (commands: \(commands.map { "\($0)" }.joined(separator: "; ")))")
            }
        }
    }

    func flush() {
        for message in coordinator.takeMessages() { log(.info, message) }
        runScripts(coordinator.takeScripts())
    }

    func runScripts(_ scripts: [ScriptRequest]) {
        for script in scripts {
            let log = self.log
            let reason = script.reason
            let result = reaper.spawn(script.arguments) { status in
                let decoded = ChildReaper.decode(status)
                if decoded.exit != 0 {
                    log(.warning, "health: \(reason): '\(script.arguments.joined(separator: " "))' \(decoded.exit.map { "exited with status \($0)" } ?? "was killed by signal \(decoded.signal ?? 0)")")
                }
            }
            if case .failure(let error) = result {
                log(.warning, "health: \(reason): cannot run '\(script.arguments.joined(separator: " "))': \(error)")
            }
        }
    }

    func reload(to configuration: KeepalivedConfiguration) -> Result<[IpvsadmCommand], HealthReloadError> {
        let next = HealthCoordinator(reloading: coordinator, to: configuration, now: Posix.monotonicSeconds())
        let removed = coordinator.serviceKeys.filter { key in !next.serviceKeys.contains(key) }
        var managed = next.managedEntries
        for (key, entries) in coordinator.managedEntries where managed[key] != nil { managed[key]?.formUnion(entries) }
        let commands = TablePlan.reconcile(wanted: next.wantedTable, managed: managed, removed: removed,
                                           table: editor.currentTable())
        if !commands.isEmpty, let error = editor.apply(commands) {
            return .failure(HealthReloadError("the table refused the new configuration: \(error.explanation); nothing was changed"))
        }
        for id in next.orphanedCheckers(of: coordinator) {
            attempts.removeValue(forKey: id)?.cancel()
        }
        coordinator = next
        _ = coordinator.takeDirty()
        flush()
        return .success(commands)
    }

    func finish() {
        for attempt in attempts.values { attempt.cancel() }
        attempts = [:]
        runScripts(coordinator.shutdownScripts())
        flush()
        // Give the stop scripts a moment, then make sure nothing of ours outlives lvsd.
        let deadline = Posix.monotonicSeconds() + 1
        while reaper.running > 0 && Posix.monotonicSeconds() < deadline {
            loop.runOnce(maxWait: 0.05)
        }
        reaper.killAll(waitingAtMost: 1)
    }
}
