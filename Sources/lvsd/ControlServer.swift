import Glibc
import LVSConfig
import LVSControlProtocol
import LVSCore
import LVSDataPlane
import Synchronization

/// The control thread: accepts lvsadm's requests on the control socket, one at a time, and
/// turns them into jobs for the data-plane worker.
///
/// It owns the configuration as lvsadm sees it. A change batch is parsed and applied to a copy
/// first, with ipvsadm's checks and messages; only a batch that passes whole is handed to the
/// worker, which reconciles its engine between two packet batches. So a command is applied
/// atomically, and packets in flight never see half a change.
final class ControlServer: @unchecked Sendable {
    // @unchecked: `configuration` and `listener` are used by the control thread only, after
    // `start()`; the other thread only sets `stopRequested` and joins.
    let listener: ControlListener
    let worker: DataPlaneWorker
    var configuration: DirectorConfiguration
    let savedTable: SavedTable?
    let parser = IpvsadmCommandLine(serviceNames: .system())
    let stopRequested = Atomic<Bool>(false)
    var thread: pthread_t?

    init(listener: ControlListener, worker: DataPlaneWorker, configuration: DirectorConfiguration, savedTable: SavedTable?) {
        self.listener = listener
        self.worker = worker
        self.configuration = configuration
        self.savedTable = savedTable
    }

    func start() throws(SystemError) {
        let box = Unmanaged.passRetained(self)
        var tid = pthread_t()
        let r = pthread_create(&tid, nil, { arg in
            guard let arg else { return nil }
            let server = Unmanaged<ControlServer>.fromOpaque(arg).takeRetainedValue()
            server.run()
            return nil
        }, box.toOpaque())
        guard r == 0 else {
            box.release()
            throw SystemError(call: "pthread_create", subject: "control thread", errno: r)
        }
        thread = tid
    }

    func stop() {
        stopRequested.store(true, ordering: .releasing)
        if let thread { pthread_join(thread, nil) }
        thread = nil
    }

    func run() {
        while !stopRequested.load(ordering: .acquiring) {
            guard let connection = listener.accept(timeoutMillis: 200) else { continue }
            // The socket is 0600 and root's; say so plainly if something else got a descriptor.
            if let uid = connection.peerUserID, uid != 0, uid != getuid() {
                try? connection.send(ControlResponse.failed(ControlFailure(
                    message: "Permission denied (you must be root)", exitCode: 255)).encoded())
                continue
            }
            let response: ControlResponse
            do {
                response = handle(try connection.readRequest())
            } catch {
                Log.warning("control socket: \(error.description)")
                continue
            }
            do {
                try connection.send(response.encoded())
            } catch {
                Log.warning("control socket: \(error.description)")
            }
        }
    }

    func handle(_ text: String) -> ControlResponse {
        let request: ControlRequest
        do {
            request = try ControlRequest.decode(text)
        } catch {
            return .failed(ControlFailure(message: error.message, exitCode: 2))
        }
        switch request {
        case .status(let includeConnections):
            let status = worker.perform { context in
                context.engine.status(now: monotonicNanos(), includeConnections: includeConnections)
            }
            guard let status else { return .failed(Self.workerSilent) }
            return .ok(status)
        case .change(let commands):
            return change(commands)
        }
    }

    static let workerSilent = ControlFailure(
        message: "the data plane did not take the request within 10 s (is lvsd stopping?); nothing was changed",
        exitCode: 255)

    /// Applies a batch all or nothing: ipvsadm's checks on a copy of the table, then one job
    /// for the worker.
    func change(_ commands: [[String]]) -> ControlResponse {
        var next = configuration
        var zeroed: [VirtualServiceKey?] = []
        var timeouts: [TimeoutSetting] = []
        for (index, arguments) in commands.enumerated() {
            let command: IpvsadmCommand
            do {
                command = try parser.parse(arguments)
            } catch {
                return .failed(ControlFailure(message: error.message, exitCode: error.exitCode, commandIndex: index))
            }
            switch command {
            case .zero(let key):
                if let key, !next.services.contains(where: { $0.key == key }) {
                    return .failed(ControlFailure(message: "No such service", exitCode: 255, commandIndex: index))
                }
                zeroed.append(key)
            case .setTimeouts(let setting):
                timeouts.append(setting)
            case _ where command.changesTable:
                do {
                    next = try next.applying(command)
                } catch {
                    return .failed(ControlFailure(message: error.message, exitCode: error.exitCode, commandIndex: index))
                }
            default:
                return .failed(ControlFailure(
                    message: "'\(arguments.joined(separator: " "))' does not change the table; a change request takes -A -E -D -C -a -e -d -Z --set",
                    exitCode: 2, commandIndex: index))
            }
        }
        let target = next
        let zeroKeys = zeroed
        let timeoutSettings = timeouts
        let outcome = worker.perform { context -> ControlFailure? in
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
        guard let outcome else { return .failed(Self.workerSilent) }
        if let failure = outcome { return .failed(failure) }
        let changedTable = next != configuration
        configuration = next
        if changedTable, let savedTable {
            do {
                try savedTable.write(next)
            } catch {
                Log.warning(error.description)
            }
        }
        return .ok(nil)
    }
}

func monotonicNanos() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts)
    return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
}
