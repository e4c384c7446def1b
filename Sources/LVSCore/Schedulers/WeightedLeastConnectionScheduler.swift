/// `wlc` (ip_vs_wlc.c), ipvsadm's default: each new connection goes to the server with the
/// lowest connection overhead per unit of weight.
///
/// The kernel has no floating point, so instead of comparing overhead/weight it compares the
/// cross products: the candidate `least` is replaced by a later server `d` only when
/// `overhead(least) × weight(d) > overhead(d) × weight(least)`, both sides widened to 64 bits
/// (`(__s64)`) before the multiplication. The comparison is strict, so a tie keeps the earlier
/// server in list order. The first candidate is the first server that is not overloaded and
/// has a positive weight; after it only overloaded servers are skipped, because a server of
/// weight 0 can never win the comparison (its left side is 0). The overhead is the kernel's
/// 32-bit `int` (`ip_vs_dest_conn_overhead`: active × 256 + inactive), truncated the same way.
public struct WeightedLeastConnectionScheduler: Scheduler {
    public static let name = "wlc"

    public init(destinations: DestinationList, flags: SchedulerFlags) {}

    public mutating func schedule(_ destinations: DestinationList, context: SchedulingContext) -> Int? {
        Self.leastLoaded(destinations) { Int32(truncatingIfNeeded: $0.overhead) }
    }

    /// The kernel's weighted-least walk, shared by wlc, sed (overhead = active + 1) and the wlc
    /// rule of lblc/lblcr: the first server that is not overloaded and has a positive weight is
    /// the first candidate; a later server that is not overloaded replaces it only when
    /// `overhead(least) × weight(d) > overhead(d) × weight(least)` in 64-bit arithmetic.
    @inline(__always)
    static func leastLoaded(_ destinations: DestinationList, overhead: (Destination) -> Int32) -> Int? {
        let n = destinations.count
        var i = 0
        while i < n, destinations[i].isOverloaded || destinations[i].weight <= 0 { i += 1 }
        guard i < n else { return nil }
        var least = i
        var leastOverhead = overhead(destinations[i])
        var leastWeight = destinations[i].weight
        i += 1
        while i < n {
            let d = destinations[i]
            if !d.isOverloaded {
                let o = overhead(d)
                if Int64(leastOverhead) * Int64(d.weight) > Int64(o) * Int64(leastWeight) {
                    least = i
                    leastOverhead = o
                    leastWeight = d.weight
                }
            }
            i += 1
        }
        return least
    }
}
