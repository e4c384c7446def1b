/// `mh` (ip_vs_mh.c): Maglev consistent hashing of the client address (and, with `mh-port`, its
/// port) onto a lookup table of M slots, M prime (4093 by default).
///
/// Each server gets a pseudo-random permutation of the slots, an `offset` and a `skip` from
/// SipHash-1-3 of its address and port under two fixed keys, and the servers take turns claiming
/// their next preferred free slot until the table is full (Eisenbud et al., NSDI 2016, §3.4).
/// Because the keys are the kernel's constants rather than random, every director, SwiftLVS or
/// kernel, builds the same table from the same list; and because a change of the list moves few
/// slots, most clients keep their server when one is added or removed.
///
/// Weights enter as `turns`, the number of slots a server claims per round: its `last_weight`
/// divided by the gcd of all last weights and shifted right so that the largest fits in
/// `IP_VS_MH_TAB_BITS` bits. Using `last_weight` rather than `weight` means that quiescing a server
/// (weight 0) leaves the table as it is; its clients then get no server, or with `mh-fallback`
/// the next available server along their probe sequence. A server *added* with weight 0 has
/// last weight 0 and claims no slots.
///
/// The table stores list positions and is rebuilt on every add, remove and edit, off the packet
/// path; the build works on flat arrays only. Its cost grows with M log M, so tests may use a
/// small prime table size.
public struct MaglevHashScheduler: Scheduler {
    public static let name = "mh"

    /// The kernel's `primes[]`; `CONFIG_IP_VS_MH_TAB_INDEX` n selects `primes[n - 8]`.
    public static let primes: [Int] = [251, 509, 1021, 2039, 4093, 8191, 16381, 32749, 65521, 131071]
    /// `primes[12 - 8]`: the default `CONFIG_IP_VS_MH_TAB_INDEX` of 12.
    public static let defaultTableSize = 4093

    /// `generate_hash_secret`: fixed, so that every director agrees.
    public static let hash1: (UInt64, UInt64) = (2_654_435_761, 2_654_435_761)
    public static let hash2: (UInt64, UInt64) = (2_654_446_892, 2_654_446_892)

    public let flags: SchedulerFlags
    /// M, a prime.
    public let tableSize: Int
    /// `IP_VS_MH_TAB_BITS` = `CONFIG_IP_VS_MH_TAB_INDEX / 2`, where the index is the bit length of
    /// M for the kernel's primes (4093 → 12 → 6).
    public let tableBits: Int
    /// List position per slot; -1 while no server has a non-zero last weight.
    public private(set) var lookup: [Int32]
    /// gcd of the positive last weights (0 if none).
    public private(set) var gcd: Int32 = 0
    /// Right shift that keeps the largest `last_weight / gcd` within `tableBits` bits.
    public private(set) var rshift: Int32 = 0

    public init(destinations: DestinationList, flags: SchedulerFlags) {
        self.init(destinations: destinations, flags: flags, tableSize: Self.defaultTableSize)
    }

    /// A scheduler with a table of `tableSize` slots, which must be a prime (the kernel only
    /// offers the `primes` list; any prime keeps every skip coprime with M).
    public init(destinations: DestinationList, flags: SchedulerFlags, tableSize: Int) {
        precondition(tableSize >= 3 && Self.isPrime(tableSize), "the Maglev table size must be a prime")
        self.flags = flags
        self.tableSize = tableSize
        tableBits = (Int.bitWidth - tableSize.leadingZeroBitCount) / 2
        lookup = [Int32](repeating: -1, count: tableSize)
        reassign(destinations)
    }

    public mutating func destinationAdded(_ destinations: DestinationList) { reassign(destinations) }
    public mutating func destinationRemoved(at position: Int, _ destinations: DestinationList) { reassign(destinations) }
    public mutating func destinationUpdated(_ destinations: DestinationList) { reassign(destinations) }

    /// `ip_vs_mh_hashkey`: `hsiphash` of the 32-bit sum offset + port + address.
    @inlinable
    public static func hashKey(address: IPv4Address, port: UInt16, key: (UInt64, UInt64), offset: UInt32 = 0) -> UInt32 {
        SipHash13.hsiphash(offset &+ UInt32(port) &+ address.value, key: key)
    }

    /// `ip_vs_mh_dest_changed`: gcd and shift from the last weights, then permutate and populate.
    mutating func reassign(_ list: DestinationList) {
        let n = list.count
        var g: Int32 = 0
        var maxWeight: Int32 = 0
        for i in 0..<n {
            let w = list[i].lastWeight
            if w > 0 { g = g > 0 ? Self.gcd(w, g) : w }
            if w > maxWeight { maxWeight = w }
        }
        gcd = g
        rshift = g < 1 ? 0 : Swift.max(0, Int32(Int32.bitWidth - (maxWeight / g).leadingZeroBitCount) - Int32(tableBits))
        // The kernel refuses more servers than slots with -EINVAL before touching its table, which
        // then still points at the old servers. A table of positions cannot stay valid across a
        // list change, so here the service gets no server until the list fits again.
        if g < 1 || n > tableSize {
            lookup = [Int32](repeating: -1, count: tableSize)
            return
        }
        lookup = Self.populate(list, tableSize: tableSize, gcd: g, rshift: rshift)
    }

    /// `ip_vs_mh_permutate` + `ip_vs_mh_populate`. Servers take turns in list order, each
    /// claiming `turns` free slots in a row along its own permutation, until all M are taken.
    static func populate(_ list: DestinationList, tableSize m: Int, gcd: Int32, rshift: Int32) -> [Int32] {
        let n = list.count
        var next = [Int](repeating: 0, count: n)
        var skip = [Int](repeating: 0, count: n)
        var turns = [Int32](repeating: 0, count: n)
        for i in 0..<n {
            let d = list[i]
            next[i] = Int(hashKey(address: d.address, port: d.port, key: hash1)) % m
            skip[i] = Int(hashKey(address: d.address, port: d.port, key: hash2)) % (m - 1) + 1
            let lw = d.lastWeight
            let t = (lw / gcd) >> rshift
            turns[i] = t != 0 ? t : (lw != 0 ? 1 : 0)
        }
        var table = [Int32](repeating: -1, count: m)
        var taken = [UInt8](repeating: 0, count: m)
        table.withUnsafeMutableBufferPointer { table in
            taken.withUnsafeMutableBufferPointer { taken in
                next.withUnsafeMutableBufferPointer { next in
                    skip.withUnsafeBufferPointer { skip in
                        turns.withUnsafeBufferPointer { turns in
                            var filled = 0
                            var claimed: Int32 = 0
                            // gcd ≥ 1 means some server has turns ≥ 1, so every lap fills a slot.
                            while true {
                                var i = 0
                                while i < n {
                                    let t = turns[i]
                                    if t < 1 {
                                        i += 1
                                        continue
                                    }
                                    var c = next[i]
                                    let s = skip[i]
                                    while taken[c] != 0 {
                                        c += s
                                        if c >= m { c -= m }
                                    }
                                    next[i] = c
                                    taken[c] = 1
                                    table[c] = Int32(truncatingIfNeeded: i)
                                    filled += 1
                                    if filled == m { return }
                                    claimed += 1
                                    if claimed >= t {
                                        claimed = 0
                                        i += 1
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
        return table
    }

    public mutating func schedule(_ destinations: DestinationList, context: SchedulingContext) -> Int? {
        let port = flags.contains(.port) ? context.clientPort : 0
        let address = context.clientAddress
        let m = UInt32(tableSize)
        let ihash = Self.hashKey(address: address, port: port, key: Self.hash1) % m
        let first = lookup[Int(ihash)]
        guard first >= 0 else { return nil }
        if !Self.isUnavailable(destinations[Int(first)]) { return Int(first) }
        guard flags.contains(.fallback) else { return nil }
        // ip_vs_mh_get_fallback: rehash with roffset = ihash, ihash + 1, ... mod M; an empty slot
        // (no weighted server at all) ends the search.
        for offset in 0..<m {
            let roffset = (offset + ihash) % m
            let p = lookup[Int(Self.hashKey(address: address, port: port, key: Self.hash1, offset: roffset) % m)]
            if p < 0 { break }
            if !Self.isUnavailable(destinations[Int(p)]) { return Int(p) }
        }
        return nil
    }

    @inlinable
    static func isUnavailable(_ d: Destination) -> Bool { d.weight <= 0 || d.isOverloaded }

    static func gcd(_ a: Int32, _ b: Int32) -> Int32 {
        var (a, b) = (a, b)
        while b != 0 { (a, b) = (b, a % b) }
        return a
    }

    static func isPrime(_ n: Int) -> Bool {
        if n < 2 { return false }
        var d = 2
        while d * d <= n {
            if n % d == 0 { return false }
            d += 1
        }
        return true
    }
}
