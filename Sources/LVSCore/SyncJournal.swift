import Synchronization

/// The master's outbox of connection changes: a fixed ring of `SyncConnection` records that
/// the worker thread fills and the sync thread empties (one producer, one consumer).
///
/// Allocated once: recording a change writes one 40-byte slot and publishes it with one
/// release store, with no lock and no allocation, and a full ring never makes the worker wait:
/// the record is dropped and counted in `overflows` (the backup then misses that change, as a
/// kernel backup misses one when the master's `sync_qlen_max` is reached).
public final class SyncJournal: @unchecked Sendable {
    // @unchecked: `slots` is written only by the producer at `tail` and read only by the
    // consumer below `tail`; the two atomics order those accesses.
    let slots: UnsafeMutablePointer<SyncConnection>
    let mask: Int
    /// The next slot the consumer reads.
    let head = Atomic<Int>(0)
    /// The next slot the producer writes.
    let tail = Atomic<Int>(0)
    /// Records dropped because the ring was full.
    public let overflows = Atomic<UInt64>(0)
    /// Records accepted.
    public let recorded = Atomic<UInt64>(0)

    /// - Parameter capacity: rounded up to a power of two (at least 16).
    public init(capacity: Int) {
        var size = 16
        while size < capacity { size <<= 1 }
        slots = .allocate(capacity: size)
        mask = size - 1
    }

    deinit { slots.deallocate() }

    public var capacity: Int { mask + 1 }

    /// Adds `record` (producer side). False when the ring is full.
    @discardableResult
    public func push(_ record: SyncConnection) -> Bool {
        let t = tail.load(ordering: .relaxed)
        let h = head.load(ordering: .acquiring)
        guard t &- h <= mask else {
            overflows.add(1, ordering: .relaxed)
            return false
        }
        (slots + (t & mask)).initialize(to: record)
        tail.store(t &+ 1, ordering: .releasing)
        recorded.add(1, ordering: .relaxed)
        return true
    }

    /// Hands up to `limit` waiting records to `body`, oldest first (consumer side), and returns
    /// how many.
    @discardableResult
    public func drain(limit: Int = .max, _ body: (SyncConnection) -> Void) -> Int {
        let h = head.load(ordering: .relaxed)
        let t = tail.load(ordering: .acquiring)
        let n = min(t &- h, limit)
        var i = 0
        while i < n {
            body(slots[(h &+ i) & mask])
            i += 1
        }
        head.store(h &+ n, ordering: .releasing)
        return n
    }

    public var overflowCount: UInt64 { overflows.load(ordering: .relaxed) }
    public var recordedCount: UInt64 { recorded.load(ordering: .relaxed) }

    public var isEmpty: Bool { tail.load(ordering: .acquiring) == head.load(ordering: .relaxed) }
}
