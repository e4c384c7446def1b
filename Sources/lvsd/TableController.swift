import LVSConfig
import LVSControlProtocol
import LVSCore
import LVSDataPlane
import LVSHealth
import Synchronization

/// The one owner of the director's table as admins see it. lvsadm's changes (through the
/// control server) and the health monitor's go through `apply`, one at a time under a lock:
/// a batch is checked against a copy of the table with ipvsadm's rules and messages, and only
/// a batch that passes whole is handed to every worker, which reconciles its engine between two
/// packet batches (all workers hold the same table, each with its own connection shard). So a change is atomic and packets in flight never see half of one. Every
/// change is saved (`SavedTable`), so a restart comes back to it.
final class TableController: TableEditor {
    struct State {
        var configuration: DirectorConfiguration
    }

    let state: Mutex<State>
    let pool: WorkerPool
    let savedTable: SavedTable?

    init(configuration: DirectorConfiguration, pool: WorkerPool, savedTable: SavedTable?) {
        state = Mutex(State(configuration: configuration))
        self.pool = pool
        self.savedTable = savedTable
    }

    static let workerSilent = ControlFailure(
        message: "the data plane did not take the request within 10 s (is lvsd stopping?); nothing was changed",
        exitCode: 255)

    func apply(_ commands: [IpvsadmCommand]) -> IpvsadmError? {
        applyBatch(commands).map { IpvsadmError($0.message, exitCode: $0.exitCode) }
    }

    func currentTable() -> DirectorConfiguration { state.withLock { $0.configuration } }

    /// Applies a batch all or nothing: ipvsadm's checks on a copy of the table, then one job
    /// for every worker. Returns the refusal (with the failing command's index), or nil.
    func applyBatch(_ commands: [IpvsadmCommand]) -> ControlFailure? {
        state.withLock { state in applyLocked(commands, state: &state) }
    }

    func applyLocked(_ commands: [IpvsadmCommand], state: inout State) -> ControlFailure? {
        var next = state.configuration
        var services = next.serviceIndex()
        var zeroed: [VirtualServiceKey?] = []
        var timeouts: [TimeoutSetting] = []
        for (index, command) in commands.enumerated() {
            switch command {
            case .zero(let key):
                if let key, services[key] == nil {
                    return ControlFailure(message: "No such service", exitCode: 255, commandIndex: index)
                }
                zeroed.append(key)
            case .setTimeouts(let setting):
                timeouts.append(setting)
            case _ where command.changesTable:
                do {
                    try next.apply(command, index: &services)
                } catch {
                    return ControlFailure(message: error.message, exitCode: error.exitCode, commandIndex: index)
                }
            default:
                return ControlFailure(
                    message: "'\(IpvsadmCommandLine.spelling(of: command))' does not change the table; a change request takes -A -E -D -C -a -e -d -Z --set",
                    exitCode: 2, commandIndex: index)
            }
        }
        let target = next
        let zeroKeys = zeroed
        let timeoutSettings = timeouts
        let outcomes = pool.perform { context -> ControlFailure? in
            do {
                let applied = try context.engine.apply(target)
                for key in zeroKeys { try context.engine.zeroCounters(service: key) }
                for setting in timeoutSettings { context.engine.setTimeouts(setting) }
                if applied.vipSetChanged {
                    try context.virtualAddressesChanged(added: applied.addedVIPs)
                }
                return nil
            } catch let error as EngineConfigurationError {
                return ControlFailure(message: error.description, exitCode: 255)
            } catch is UnknownServiceError {
                return ControlFailure(message: "No such service", exitCode: 255)
            } catch {
                return ControlFailure(message: "\(error)", exitCode: 255)
            }
        }
        guard let outcomes else { return Self.workerSilent }
        // Every worker applies the same change to the same table, so they agree.
        if let failure = outcomes.compactMap({ $0 }).first { return failure }
        let steering = Self.steering(for: next, workerCount: pool.workers.count)
        do {
            try pool.setSteering(steering)
        } catch {
            Log.warning("fanout steering for \(steering.keysOnPorts ? "client address and port" : "client address"): \(error.description); flows stay steered as before")
        }
        let changedTable = next != state.configuration
        let ruleMarks = Set(next.markRules.marks)
        for service in next.services where service.key.isFirewallMark && !ruleMarks.contains(service.key.firewallMark)
            && !state.configuration.services.contains(where: { $0.key == service.key }) {
            Log.warning("\(service.key) gets no traffic: no --fwmark-rules rule gives mark \(service.key.firewallMark)")
        }
        state.configuration = next
        if changedTable, let savedTable {
            do {
                try savedTable.write(next)
            } catch {
                Log.warning(error.description)
            }
        }
        return nil
    }

    /// Persistence needs all of a client's connections on one worker (its templates live in
    /// that worker's shard), so any persistent service keys the fanout on the address alone.
    static func steering(for configuration: DirectorConfiguration, workerCount: Int) -> FlowSteering {
        FlowSteering(workerCount: workerCount,
                     keysOnPorts: !configuration.services.contains { $0.persistence != nil })
    }
}
