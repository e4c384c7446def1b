/// `wrr` (ip_vs_wrr.c): interleaved weighted round robin. A current weight `cw` steps down
/// from the maximum by the weights' gcd; each pass over the list picks the servers whose weight
/// reaches `cw`, so a 3:2:1 service gives A B A C B A per cycle of six.
public struct WeightedRoundRobinScheduler: Scheduler {
    public static let name = "wrr"

    /// Position of the last server picked; -1 is the list head.
    public private(set) var cursor: Int = -1
    /// gcd of the positive weights (1 if there are none).
    public private(set) var gcdWeight: Int32 = 1
    /// Maximum weight minus (gcd − 1); 0 means no server can be picked.
    public private(set) var maxWeight: Int32 = 0
    public private(set) var currentWeight: Int32 = 0

    public init(destinations: DestinationList, flags: SchedulerFlags) {
        cursor = -1
        gcdWeight = Self.gcd(destinations)
        maxWeight = Self.max(destinations) - (gcdWeight - 1)
        currentWeight = maxWeight
    }

    public mutating func destinationAdded(_ destinations: DestinationList) { destinationsChanged(destinations) }
    public mutating func destinationRemoved(at position: Int, _ destinations: DestinationList) { destinationsChanged(destinations) }
    public mutating func destinationUpdated(_ destinations: DestinationList) { destinationsChanged(destinations) }

    /// `ip_vs_wrr_dest_changed`: back to the head; `cw` is kept where it still makes sense.
    mutating func destinationsChanged(_ destinations: DestinationList) {
        cursor = -1
        gcdWeight = Self.gcd(destinations)
        maxWeight = Self.max(destinations) - (gcdWeight - 1)
        if currentWeight > maxWeight || currentWeight == 0 {
            currentWeight = maxWeight
        } else if gcdWeight > 1 {
            currentWeight = (currentWeight / gcdWeight) * gcdWeight + 1
        }
    }

    public mutating func schedule(_ destinations: DestinationList, context: SchedulingContext) -> Int? {
        if maxWeight == 0 { return nil }
        let n = destinations.count
        let last = min(cursor, n - 1)
        var start = last
        var stop = Int.min
        var lastPass = false
        var restarted = false
        while true {
            var i = start + 1
            while i < n {
                let d = destinations[i]
                if !d.isOverloaded && d.weight >= currentWeight {
                    cursor = i
                    return i
                }
                if i == stop { return nil }
                i += 1
            }
            start = -1
            currentWeight -= gcdWeight
            if currentWeight <= 0 {
                currentWeight = maxWeight
                // Either this was already the pass for weight >= 1 over every server, or the scan
                // began at the head and so has seen them all: nothing is eligible.
                if lastPass || last == -1 { return nil }
                restarted = true
            }
            lastPass = currentWeight <= gcdWeight
            if lastPass && restarted && last != -1 {
                // The first pass for weight >= 1 covered only the servers after `last`; this one
                // covers the rest and stops at `last`.
                stop = last
            }
        }
    }

    static func gcd(_ list: DestinationList) -> Int32 {
        var g: Int32 = 0
        for i in 0..<list.count {
            let w = list[i].weight
            if w > 0 { g = g == 0 ? w : gcd(w, g) }
        }
        return g == 0 ? 1 : g
    }

    static func gcd(_ a: Int32, _ b: Int32) -> Int32 {
        var (a, b) = (a, b)
        while b != 0 { (a, b) = (b, a % b) }
        return a
    }

    static func max(_ list: DestinationList) -> Int32 {
        var m: Int32 = 0
        for i in 0..<list.count where list[i].weight > m { m = list[i].weight }
        return m
    }
}
