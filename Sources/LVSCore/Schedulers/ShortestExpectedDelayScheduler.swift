/// `sed` (ip_vs_sed.c): each new connection goes to the server where it would expect the
/// shortest delay, (active connections + 1) / weight.
///
/// The "+ 1" counts the connection being scheduled, which is what separates sed from wlc: with
/// no load, a heavier server is preferred at once instead of after a tie. Inactive connections
/// are ignored. Otherwise the walk is wlc's: the first server that is not overloaded and has a
/// positive weight is the first candidate; a later server that is not overloaded replaces it
/// only when `(active(least) + 1) × weight(d) > (active(d) + 1) × weight(least)` in 64-bit
/// arithmetic (the kernel's `(__s64)` casts), so ties keep the earlier server in list order and
/// a server of weight 0 never wins.
public struct ShortestExpectedDelayScheduler: Scheduler {
    public static let name = "sed"

    public init(destinations: DestinationList, flags: SchedulerFlags) {}

    public mutating func schedule(_ destinations: DestinationList, context: SchedulingContext) -> Int? {
        // `ip_vs_sed_dest_overhead`: an `int`, so the + 1 wraps as the kernel's would.
        WeightedLeastConnectionScheduler.leastLoaded(destinations) { $0.activeConnections &+ 1 }
    }
}
