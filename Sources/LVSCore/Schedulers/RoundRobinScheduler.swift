/// `rr` (ip_vs_rr.c): each new connection goes to the next server in list order that has a
/// non-zero weight and is not overloaded. Weights are otherwise ignored.
public struct RoundRobinScheduler: Scheduler {
    public static let name = "rr"

    /// Position of the last server picked; -1 is the list head (nothing picked yet).
    public private(set) var cursor: Int = -1

    public init(destinations: DestinationList, flags: SchedulerFlags) {}

    /// A server inserted at the head shifts every position by one; the cursor follows its server.
    public mutating func destinationAdded(_ destinations: DestinationList) {
        if cursor >= 0 { cursor += 1 }
    }

    /// If the cursor pointed at the removed server it moves to that server's predecessor, as the
    /// kernel's `p->next->prev` does; a cursor behind it shifts with the list.
    public mutating func destinationRemoved(at position: Int, _ destinations: DestinationList) {
        if cursor == position {
            cursor = position - 1
        } else if cursor > position {
            cursor -= 1
        }
    }

    public mutating func schedule(_ destinations: DestinationList, context: SchedulingContext) -> Int? {
        let n = destinations.count
        let last = min(cursor, n - 1)
        var start = last
        var pass = 0
        // At most one full lap: from after the cursor to the end, then from the head up to and
        // including the cursor. A cursor at the head needs only the first pass.
        repeat {
            var i = start + 1
            while i < n {
                let d = destinations[i]
                if !d.isOverloaded && d.weight > 0 {
                    cursor = i
                    return i
                }
                if i == last { return nil }
                i += 1
            }
            start = -1
            pass += 1
        } while pass < 2 && last != -1
        return nil
    }
}
