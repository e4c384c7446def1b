/// `ovf` (ip_vs_ovf.c): new connections go to the server with the highest weight until its
/// active connections exceed its weight, then overflow to the next highest.
///
/// The weight is read as a connection limit. The kernel skips a server when it is overloaded,
/// has weight 0, or has `active > weight`; the test is strict, so a server still accepts when
/// `active == weight` and ends up holding weight + 1 active connections before it overflows.
/// Among the rest it keeps the highest weight, replacing its candidate only on a strictly higher
/// one, so ties go to the earliest server in list order. Inactive connections are ignored.
public struct WeightedOverflowScheduler: Scheduler {
    public static let name = "ovf"

    public init(destinations: DestinationList, flags: SchedulerFlags) {}

    public mutating func schedule(_ destinations: DestinationList, context: SchedulingContext) -> Int? {
        var highest: Int?
        var highestWeight: Int32 = 0
        for i in 0..<destinations.count {
            let d = destinations[i]
            let w = d.weight
            if d.isOverloaded || d.activeConnections > w || w == 0 { continue }
            if highest == nil || w > highestWeight {
                highest = i
                highestWeight = w
            }
        }
        return highest
    }
}
