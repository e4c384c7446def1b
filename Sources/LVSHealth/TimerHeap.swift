/// A timer the loop runs once at its deadline unless it is cancelled first.
final class TimerHandle {
    var action: (() -> Void)?

    init(_ action: @escaping () -> Void) { self.action = action }

    func cancel() { action = nil }
}

/// A binary min-heap of deadlines: schedule and pop in O(log n) for any number of timers.
/// Cancelled timers stay in the heap until their deadline and are skipped then.
struct TimerHeap {
    struct Entry {
        var deadline: Double
        var sequence: UInt64
        var handle: TimerHandle
    }

    var entries: [Entry] = []
    var sequence: UInt64 = 0

    var count: Int { entries.count }

    /// The earliest deadline of a live timer (cancelled ones at the top are dropped first).
    var nextDeadline: Double? {
        mutating get {
            while let first = entries.first, first.handle.action == nil { _ = popFirst() }
            return entries.first?.deadline
        }
    }

    mutating func push(deadline: Double, handle: TimerHandle) {
        sequence &+= 1
        entries.append(Entry(deadline: deadline, sequence: sequence, handle: handle))
        var i = entries.count - 1
        while i > 0 {
            let parent = (i - 1) / 2
            guard Self.less(entries[i], entries[parent]) else { break }
            entries.swapAt(i, parent)
            i = parent
        }
    }

    mutating func popDue(now: Double) -> TimerHandle? {
        while let first = entries.first {
            if first.handle.action == nil {
                _ = popFirst()
                continue
            }
            guard first.deadline <= now else { return nil }
            return popFirst()?.handle
        }
        return nil
    }

    mutating func popFirst() -> Entry? {
        guard !entries.isEmpty else { return nil }
        let first = entries[0]
        let last = entries.removeLast()
        if !entries.isEmpty {
            entries[0] = last
            var i = 0
            let n = entries.count
            while true {
                let l = 2 * i + 1
                let r = l + 1
                var smallest = i
                if l < n && Self.less(entries[l], entries[smallest]) { smallest = l }
                if r < n && Self.less(entries[r], entries[smallest]) { smallest = r }
                if smallest == i { break }
                entries.swapAt(i, smallest)
                i = smallest
            }
        }
        return first
    }

    static func less(_ a: Entry, _ b: Entry) -> Bool {
        a.deadline < b.deadline || (a.deadline == b.deadline && a.sequence < b.sequence)
    }
}
