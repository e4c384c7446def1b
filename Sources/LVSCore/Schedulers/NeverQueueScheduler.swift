/// `nq` (ip_vs_nq.c): a new connection goes to an idle server if there is one, and otherwise to
/// the server with the shortest expected delay, as sed would choose.
///
/// The kernel walks the list once, skipping overloaded servers and servers of weight 0. The
/// first remaining server with no active connection is returned at once, even if a later server
/// is heavier or also idle; inactive connections do not count. Until then it keeps sed's
/// candidate: a server replaces it only when `(active(least) + 1) × weight(d) >
/// (active(d) + 1) × weight(least)` in 64-bit arithmetic (the `(__s64)` casts), so ties keep the
/// earlier server in list order.
public struct NeverQueueScheduler: Scheduler {
    public static let name = "nq"

    public init(destinations: DestinationList, flags: SchedulerFlags) {}

    public mutating func schedule(_ destinations: DestinationList, context: SchedulingContext) -> Int? {
        var least: Int?
        var leastOverhead: Int32 = 0
        var leastWeight: Int32 = 0
        for i in 0..<destinations.count {
            let d = destinations[i]
            if d.isOverloaded || d.weight == 0 { continue }
            if d.activeConnections == 0 { return i }
            // `ip_vs_nq_dest_overhead`: an `int`, so the + 1 wraps as the kernel's would.
            let overhead = d.activeConnections &+ 1
            if least == nil || Int64(leastOverhead) * Int64(d.weight) > Int64(overhead) * Int64(leastWeight) {
                least = i
                leastOverhead = overhead
                leastWeight = d.weight
            }
        }
        return least
    }
}
