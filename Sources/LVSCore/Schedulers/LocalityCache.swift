/// The destination-address cache that lblc and lblcr keep, with the kernel's garbage collection
/// done lazily from the scheduling calls instead of by a timer.
///
/// ip_vs_lblc.c and ip_vs_lblcr.c hash the packet's destination address into 1024 buckets and arm
/// a timer every 60 s. Each tick either runs a full check (every 30th counting tick: drop entries
/// unused for `expiration`, 24 h by default), or, when the table holds more than 16384 entries,
/// drops entries unused for 6 min, walking the buckets from a rover until a goal of
/// `(entries − max) × 4/3`, capped at max/2, is met. The counter only advances on ticks that find
/// the table within bounds, so a table that stays oversized never gets a full check; that is
/// reproduced. SwiftLVS has no timers in the core: `collectGarbage(now:)` replays every tick that
/// fell due since the last call, each at its own time. The first call starts the clock, standing
/// in for the timer the kernel arms when the service is created.
struct LocalityCache<Value: Sendable>: Sendable {
    struct Entry: Sendable {
        var address: IPv4Address
        var value: Value
        var lastUse: UInt64
    }

    static var tableBits: Int { 10 }
    static var tableSize: Int { 1 << tableBits }
    /// `tbl->max_size` = table size × 16.
    static var maxEntries: Int { tableSize * 16 }
    /// `CHECK_EXPIRE_INTERVAL` in nanoseconds.
    static var checkInterval: UInt64 { 60 * 1_000_000_000 }
    /// `ENTRY_TIMEOUT` in nanoseconds.
    static var entryTimeout: UInt64 { 6 * 60 * 1_000_000_000 }
    /// `COUNT_FOR_FULL_EXPIRATION`.
    static var countForFullExpiration: Int { 30 }

    /// `sysctl lblc_expiration` / `lblcr_expiration`, in nanoseconds.
    let expiration: UInt64
    private(set) var buckets: [[Entry]]
    private(set) var count = 0
    private(set) var rover = 0
    private(set) var counter = 1
    /// Time of the next timer tick; nil until the first call.
    private(set) var nextCheck: UInt64?

    init(expiration: UInt64) {
        self.expiration = expiration
        buckets = Array(repeating: [], count: Self.tableSize)
    }

    /// `ip_vs_lblc_hashkey` / `ip_vs_lblcr_hashkey`.
    static func bucket(for address: IPv4Address) -> Int {
        Int(GoldenRatioHash.hash32(address.value, bits: tableBits))
    }

    /// The entry for `address`, as (bucket, index).
    func find(_ address: IPv4Address) -> (Int, Int)? {
        let b = Self.bucket(for: address)
        guard let i = buckets[b].firstIndex(where: { $0.address == address }) else { return nil }
        return (b, i)
    }

    subscript(index: (Int, Int)) -> Entry {
        get { buckets[index.0][index.1] }
        set { buckets[index.0][index.1] = newValue }
    }

    /// Adds an entry for an address that has none.
    mutating func insert(_ address: IPv4Address, value: Value, now: UInt64) {
        buckets[Self.bucket(for: address)].append(Entry(address: address, value: value, lastUse: now))
        count += 1
    }

    /// Every cached value, in no particular order.
    var values: [Value] { buckets.flatMap { $0.map(\.value) } }

    mutating func remove(at index: (Int, Int)) {
        buckets[index.0].remove(at: index.1)
        count -= 1
    }

    /// Runs the timer ticks that fell due up to `now`.
    mutating func collectGarbage(now: UInt64) {
        guard var tick = nextCheck else {
            nextCheck = now &+ Self.checkInterval
            return
        }
        let interval = Self.checkInterval
        let period = UInt64(Self.countForFullExpiration)
        while tick <= now {
            if counter % Self.countForFullExpiration == 0 {
                if count <= Self.maxEntries {
                    // Full checks only remove, so the table stays within bounds and the ticks in
                    // between only count: of a run of due full checks, the latest subsumes the rest.
                    tick += (now - tick) / (interval * period) * (interval * period)
                }
                fullCheck(at: tick)
                counter = 1
                tick += interval
            } else if count <= Self.maxEntries {
                // Counting ticks up to the next full check, in one step.
                let due = (now - tick) / interval + 1
                let skip = Swift.min(due, UInt64(Self.countForFullExpiration - counter % Self.countForFullExpiration))
                counter += Int(skip)
                tick += skip * interval
            } else {
                partialCheck(at: tick)
                tick += interval
            }
        }
        nextCheck = tick
    }

    /// `ip_vs_lblc_full_check`: drops entries unused for `expiration`; the rover ends where it began.
    mutating func fullCheck(at time: UInt64) {
        for b in 0..<Self.tableSize where !buckets[b].isEmpty {
            let before = buckets[b].count
            buckets[b].removeAll { time >= $0.lastUse &+ expiration }
            count -= before - buckets[b].count
        }
    }

    /// The oversized-table branch of `ip_vs_lblc_check_expire`.
    mutating func partialCheck(at time: UInt64) {
        var goal = (count - Self.maxEntries) * 4 / 3
        if goal > Self.maxEntries / 2 { goal = Self.maxEntries / 2 }
        var j = rover
        for _ in 0..<Self.tableSize {
            j = (j + 1) & (Self.tableSize - 1)
            let before = buckets[j].count
            buckets[j].removeAll { time >= $0.lastUse &+ Self.entryTimeout }
            let removed = before - buckets[j].count
            count -= removed
            goal -= removed
            if goal <= 0 { break }
        }
        rover = j
    }
}

extension DestinationList {
    /// The destination in `slot`, whether or not it is still linked into this list: lblc and
    /// lblcr keep servers in their caches after `ipvsadm -d`, as the kernel keeps them in the
    /// trash, and read their counters.
    @inlinable
    func destination(inSlot slot: Int32) -> Destination { slots[Int(slot)] }

    /// The list position of `slot`, or nil once it has been unlinked.
    func position(ofSlot slot: Int32) -> Int? { order.firstIndex(of: slot) }
}
