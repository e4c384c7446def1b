/// `lc` (ip_vs_lc.c): each new connection goes to the server with the lowest connection
/// overhead, counting an active connection as 256 inactive ones.
///
/// The kernel walks the list once and replaces its candidate only when a server's overhead
/// (`ip_vs_dest_conn_overhead`: active × 256 + inactive) is strictly lower, so a tie goes to the
/// earliest server in list order, which is the most recently added one. Overloaded servers and
/// servers of weight 0 are skipped; any other weight is ignored. The kernel computes the
/// overhead as a 32-bit `int` and keeps it in an `unsigned int`, so it is compared here as a
/// `UInt32` truncated the same way; the two only differ from plain arithmetic past 2²³ active
/// connections on one server.
public struct LeastConnectionScheduler: Scheduler {
    public static let name = "lc"

    public init(destinations: DestinationList, flags: SchedulerFlags) {}

    public mutating func schedule(_ destinations: DestinationList, context: SchedulingContext) -> Int? {
        var least: Int?
        var leastOverhead: UInt32 = 0
        for i in 0..<destinations.count {
            let d = destinations[i]
            if d.isOverloaded || d.weight == 0 { continue }
            let overhead = UInt32(truncatingIfNeeded: d.overhead)
            if least == nil || overhead < leastOverhead {
                least = i
                leastOverhead = overhead
            }
        }
        return least
    }
}
