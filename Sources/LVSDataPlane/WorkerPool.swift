import CLinuxNet
import Dispatch
import Glibc
import LVSCore
import Synchronization

/// The data plane's workers, as the control plane sees them: one per core given to it, each
/// with its own ring, engine (connection-table shard, counters, scheduler state) and thread,
/// their sockets in one PACKET_FANOUT group steered by `FlowSteering` (docs/DATAPLANE.md,
/// "Several workers"). Jobs go to every worker (the same table on each), answers are summed.
///
/// With one worker nothing of this is in the way: no fanout group, and every job goes to that
/// worker as before.
public final class WorkerPool: Sendable {
    public let workers: [DataPlaneWorker]
    let currentSteering: Mutex<FlowSteering>

    /// Joins the workers' sockets to one fanout group in worker order (with more than one) and
    /// lets worker 0 hand the MACs it learns to the others. Call before `start()`.
    public init(workers: [DataPlaneWorker], steering: FlowSteering) throws(SystemError) {
        precondition(!workers.isEmpty, "a pool has at least one worker")
        self.workers = workers
        currentSteering = Mutex(steering)
        guard workers.count > 1 else { return }
        // Unique per lvsd in a network namespace; a second lvsd on the same interface of one
        // namespace is an operator error anyway (both would answer ARP).
        let group = UInt16(truncatingIfNeeded: getpid())
        for worker in workers { try worker.socket.joinFanout(group: group, steering: steering) }
        let others = Array(workers.dropFirst())
        workers[0].onNeighbors = { learned in
            for other in others { other.post { $0.engine.adoptNeighbors(learned, now: $0.now) } }
        }
    }

    /// The CPUs this process may run on (sched_getaffinity), ascending; [0] if unknown.
    public static func allowedCPUs() -> [Int] {
        var cpus = [Int32](repeating: 0, count: 4096)
        let n = clinuxnet_allowed_cpus(&cpus, Int32(cpus.count))
        return n > 0 ? cpus[..<Int(n)].map(Int.init) : [0]
    }

    /// Worker 0: the one that sees ARP, and whose readiness the director reports.
    public var primary: DataPlaneWorker { workers[0] }

    /// Which worker owns a flow now (the fanout program's function).
    public var steering: FlowSteering { currentSteering.withLock { $0 } }

    public func start() throws(SystemError) {
        for (i, worker) in workers.enumerated() {
            do {
                try worker.start()
            } catch {
                for started in workers[..<i] { started.stop() }
                throw error
            }
        }
    }

    public func stop() {
        for worker in workers { worker.shared.stopRequested.store(true, ordering: .releasing) }
        for worker in workers { worker.stop() }
    }

    /// Runs `body` on every worker (all queued first, then all awaited) and returns the results
    /// in worker order; nil if any worker did not answer within `timeoutSeconds`.
    public func perform<T: Sendable>(timeoutSeconds: Int = 10,
                                     _ body: @escaping @Sendable (WorkerContext) -> T) -> [T]? {
        if workers.count == 1 { return workers[0].perform(timeoutSeconds: timeoutSeconds, body).map { [$0] } }
        let pending = workers.map { $0.submit(body) }
        let deadline = DispatchTime.now() + .seconds(timeoutSeconds)
        var results: [T] = []
        results.reserveCapacity(pending.count)
        for p in pending {
            guard let r = p.wait(until: deadline) else { return nil }
            results.append(r)
        }
        return results
    }

    /// The director's snapshot: the workers' published ones, summed.
    public func snapshot() -> DataPlaneSnapshot {
        DataPlaneSnapshot.merging(workers.map { w in w.shared.snapshot.withLock { $0 } })
    }

    /// Installs another steering (keyed on ports or not) in the fanout group. Flows already
    /// running may move to another worker and start over there (docs/DATAPLANE.md).
    public func setSteering(_ steering: FlowSteering) throws(SystemError) {
        guard workers.count > 1, steering != self.steering else { return }
        let outcome = workers[0].perform { context -> SystemError? in
            do throws(SystemError) {
                try context.setSteering(steering)
                return nil
            } catch {
                return error
            }
        }
        guard let outcome else {
            throw SystemError(call: "PACKET_FANOUT_DATA", subject: "steering program (worker 0 did not answer)", errno: ETIMEDOUT)
        }
        if let outcome { throw outcome }
        currentSteering.withLock { $0 = steering }
    }
}
