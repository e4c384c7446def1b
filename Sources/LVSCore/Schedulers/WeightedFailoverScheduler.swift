/// `fo` (ip_vs_fo.c): every new connection goes to the server with the highest weight; the
/// others only take over when it is overloaded or quiesced.
///
/// The kernel keeps the highest weight seen so far, starting from 0, and replaces its candidate
/// only when a server that is not overloaded has a strictly higher weight. Servers of equal
/// weight therefore go to the earliest in list order (the most recently added), and a server
/// of weight 0 is never chosen. Connection counts play no part, so failing over means lowering
/// a weight, or the server reaching its upper threshold (OVERLOAD).
public struct WeightedFailoverScheduler: Scheduler {
    public static let name = "fo"

    public init(destinations: DestinationList, flags: SchedulerFlags) {}

    public mutating func schedule(_ destinations: DestinationList, context: SchedulingContext) -> Int? {
        var highest: Int?
        var highestWeight: Int32 = 0
        for i in 0..<destinations.count {
            let d = destinations[i]
            if !d.isOverloaded && d.weight > highestWeight {
                highest = i
                highestWeight = d.weight
            }
        }
        return highest
    }
}
