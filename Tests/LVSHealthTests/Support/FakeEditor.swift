import LVSConfig
import LVSCore
@testable import LVSHealth
import Synchronization

/// A `TableEditor` over an in-memory table with the kernel's rules (`DirectorConfiguration.applying`),
/// recording every batch it was given.
final class FakeEditor: TableEditor {
    struct State {
        var table: DirectorConfiguration
        var batches: [[IpvsadmCommand]] = []
        var refuseNext = 0
    }

    let state: Mutex<State>

    init(_ table: DirectorConfiguration = DirectorConfiguration()) { state = Mutex(State(table: table)) }

    func apply(_ commands: [IpvsadmCommand]) -> IpvsadmError? {
        state.withLock { s -> IpvsadmError? in
            if s.refuseNext > 0 {
                s.refuseNext -= 1
                return IpvsadmError("refused by the test", exitCode: 255)
            }
            do {
                s.table = try s.table.applying(commands)
                s.batches.append(commands)
                return nil
            } catch {
                return (error as? IpvsadmBatchError)?.error ?? IpvsadmError("\(error)")
            }
        }
    }

    func currentTable() -> DirectorConfiguration { state.withLock { $0.table } }

    var batches: [[IpvsadmCommand]] { state.withLock { $0.batches } }

    /// Weight of `address` in the service `key` (nil: not in the table).
    func weight(_ key: VirtualServiceKey, _ address: IPv4Address) -> Int32? {
        currentTable().services.first { $0.key == key }?.realServers.first { $0.address == address }?.weight
    }
}

/// Builders for configurations in tests.
enum Fixture {
    static let vip = IPv4Address(10, 0, 0, 100)
    static let http = VirtualServiceKey(transport: .tcp, address: vip, port: 80)

    static func rs(_ last: UInt8) -> IPv4Address { IPv4Address(10, 0, 0, last) }

    /// A TCP service with `servers` (last octets), each with one TCP_CHECK.
    static func configuration(servers: [UInt8], weight: Int32 = 1, delayLoop: Double = 10, retry: UInt32 = 1,
                              delayBeforeRetry: Double = 1, rise: UInt32 = 1,
                              edit: (inout ServiceHealth) -> Void = { _ in }) -> KeepalivedConfiguration {
        var service = VirtualServiceConfig(key: http, scheduler: "wlc")
        var health = ServiceHealth(key: http)
        health.delayLoop = delayLoop
        for s in servers {
            service.realServers.append(RealServerConfig(address: rs(s), port: 80, weight: weight))
            var h = RealServerHealth(address: rs(s), port: 80)
            h.weight = weight
            h.rise = rise
            var c = CheckerConfig(kind: .tcp)
            c.retry = retry
            c.delayBeforeRetry = delayBeforeRetry
            c.connectTimeout = 1
            h.checkers = [c]
            health.realServers.append(h)
        }
        edit(&health)
        return KeepalivedConfiguration(director: DirectorConfiguration(services: [service]),
                                       health: HealthConfiguration(services: [health]))
    }
}

/// Drives a coordinator the way the monitor's loop does, with a fake clock and scripted
/// outcomes, applying its table changes to a `FakeEditor`.
final class Driver {
    var coordinator: HealthCoordinator
    let editor: FakeEditor
    var now: Double = 0
    var log: [String] = []
    var scripts: [ScriptRequest] = []
    /// Outcome per real-server address for the next attempts (default: success).
    var outcomes: [IPv4Address: CheckOutcome] = [:]
    /// Every attempt started: (time, address).
    var attempts: [(Double, IPv4Address)] = []

    init(_ configuration: KeepalivedConfiguration) {
        coordinator = HealthCoordinator(configuration: configuration, now: 0, random: { 0.5 })
        editor = FakeEditor(HealthMonitor.initialTable(for: configuration))
        drain()
        _ = coordinator.takeDirty()
    }

    /// Advances the clock to `time`, running every attempt due on the way (attempts complete
    /// at once).
    func run(until time: Double) {
        while let next = coordinator.nextDue, next <= time {
            now = max(now, next)
            for (id, plan) in coordinator.takeDue(now: now) {
                attempts.append((now, plan.target.address))
                coordinator.record(id, outcomes[plan.target.address] ?? .success(weight: nil), now: now)
            }
            apply()
        }
        now = time
    }

    func apply() {
        let dirty = coordinator.takeDirty()
        if !dirty.isEmpty {
            var wanted: [RealServerKey: RealServerConfig?] = [:]
            for key in dirty { wanted.updateValue(coordinator.wantedEntry(key), forKey: key) }
            let commands = TablePlan.commands(for: wanted, table: editor.currentTable())
            if !commands.isEmpty, let error = editor.apply(commands) { log.append("REFUSED \(error)") }
        }
        drain()
    }

    func drain() {
        log += coordinator.takeMessages()
        scripts += coordinator.takeScripts()
    }

    func reload(_ configuration: KeepalivedConfiguration) -> [IpvsadmCommand] {
        let next = HealthCoordinator(reloading: coordinator, to: configuration, now: now)
        let removed = coordinator.serviceKeys.filter { !next.serviceKeys.contains($0) }
        var managed = next.managedEntries
        for (key, entries) in coordinator.managedEntries where managed[key] != nil { managed[key]?.formUnion(entries) }
        let commands = TablePlan.reconcile(wanted: next.wantedTable, managed: managed, removed: removed, table: editor.currentTable())
        if !commands.isEmpty, let error = editor.apply(commands) { log.append("REFUSED \(error)") }
        coordinator = next
        _ = coordinator.takeDirty()
        drain()
        return commands
    }

    func weight(_ last: UInt8, service: VirtualServiceKey = Fixture.http) -> Int32? {
        editor.weight(service, Fixture.rs(last))
    }
}
