import Glibc
import LVSConfig
import LVSControlProtocol
import LVSCore
import LVSDataPlane
import Synchronization

/// The control thread: accepts lvsadm's requests on the control socket, one at a time, and
/// turns them into jobs for the data-plane workers.
///
/// Table changes go to the `TableController`, which the health monitor shares.
final class ControlServer: @unchecked Sendable {
    // @unchecked: `listener` is used by the control thread only, after `start()`; the other
    // thread only sets `stopRequested` and joins.
    let listener: ControlListener
    let pool: WorkerPool
    let table: TableController
    let sync: SyncDaemon
    let stopRequested = Atomic<Bool>(false)
    var thread: pthread_t?

    init(listener: ControlListener, pool: WorkerPool, table: TableController, sync: SyncDaemon) {
        self.listener = listener
        self.pool = pool
        self.table = table
        self.sync = sync
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
            // Each worker's shard, summed (and listed one after the other).
            let parts = pool.perform { context in
                context.engine.status(now: context.now, includeConnections: includeConnections)
            }
            guard let parts, let status = DirectorStatus.merging(parts) else {
                return .failed(TableController.workerSilent)
            }
            return .ok(status)
        case .change(let commands):
            return change(commands)
        case .startDaemon(let options):
            do {
                try sync.start(SyncDaemonConfiguration(options))
            } catch {
                return .failed(ControlFailure(message: error.description, exitCode: 255))
            }
            return .ok(nil)
        case .stopDaemon(let options):
            do {
                try sync.stop(SyncDaemonConfiguration.Role(options.role))
            } catch {
                return .failed(ControlFailure(message: error.description, exitCode: 255))
            }
            return .ok(nil)
        case .daemons:
            return .daemons(sync.running.map { [SyncDaemonOptions($0)] } ?? [])
        case .syncRole(let role):
            do {
                try sync.setRole(SyncDaemonConfiguration.Role(role))
            } catch {
                return .failed(ControlFailure(message: error.description, exitCode: 255))
            }
            return .ok(nil)
        }
    }

    /// The commands were read with ipvsadm's grammar in lvsadm and came as typed records whose
    /// fields the codec checked; the table's own checks are `TableController`'s.
    func change(_ commands: [IpvsadmCommand]) -> ControlResponse {
        if let failure = table.applyBatch(commands) { return .failed(failure) }
        return .ok(nil)
    }
}
