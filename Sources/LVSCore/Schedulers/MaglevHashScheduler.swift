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
/// path; the build works on flat arrays only. The kernel's fill probes about M ln M slots;
/// `populate` builds the same table with far fewer branches and, for its last claims, without
/// probing (65,537 slots × 1000 servers: ~1 ms). Tests may still use a small prime table size.
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
    /// offers the `primes` list; any prime keeps every skip coprime with M) below 2³¹, so that
    /// slots fit the table's Int32 entries and the build's Int32 state.
    public init(destinations: DestinationList, flags: SchedulerFlags, tableSize: Int) {
        precondition(tableSize >= 3 && tableSize <= Int(Int32.max) && Self.isPrime(tableSize),
                     "the Maglev table size must be a prime below 2^31")
        self.flags = flags
        self.tableSize = tableSize
        tableBits = (Int.bitWidth - tableSize.leadingZeroBitCount) / 2
        lookup = []
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

    /// One weighted server during the fill, 12 bytes so that a round over 1000 servers reads
    /// 12 KB in order. `last` is the slot it claimed last; before its first claim it is
    /// `offset - skip` (mod M), so that every claim starts one step on, at `last + skip`.
    struct Probe {
        var last: Int32
        let turns: Int32
        let position: Int32
    }

    /// How many steps along a permutation a chunked claim looks at once at most (`claimChunk`).
    @inline(__always)
    static var stepsPerServer: Int { 8 }

    /// `ip_vs_mh_permutate` + `ip_vs_mh_populate`. Servers take turns in list order, each
    /// claiming `turns` free slots in a row along its own permutation, until all M are taken.
    ///
    /// Same table as the kernel's loop, built the way that is cheapest as the table fills. A
    /// claim with f of the M slots free probes M/f slots on average (the kernel's fill, for
    /// 65,537 slots and 1000 servers, probes 685,365 slots beyond the first of each claim, over
    /// half of them in the last few hundred claims), and whether a probed slot is free is a coin
    /// toss the branch predictor loses once the table is a third full. So, by free slots left:
    /// - over 11/16 of M: one slot at a time (`claimOne`), as the first probe usually wins;
    /// - over 1/4 of M: four steps at a time (`claimChunk`), without a branch among them;
    /// - over `tail` ≈ √(M/2): eight steps at a time;
    /// - the last `tail` claims pick from the list of free slots (`claimFromFreeList`).
    /// (Measured on 65,537 × 1000: the chunks cut the build time by about a fifth, for a third
    /// more instructions; BENCHMARKS.md has the figures.)
    /// The table is allocated uninitialised: every slot is claimed exactly once, and written then.
    static func populate(_ list: DestinationList, tableSize m: Int, gcd: Int32, rshift: Int32) -> [Int32] {
        let n = list.count
        let width = stepsPerServer
        var probes: [Probe] = []
        probes.reserveCapacity(n)
        // j · skip mod M for j = 1 ... 8, per server: the offsets of its next eight probes.
        var steps: [Int32] = []
        steps.reserveCapacity(n * width)
        for i in 0..<n {
            let d = list[i]
            let lw = d.lastWeight
            let t = (lw / gcd) >> rshift
            let turns = t != 0 ? t : (lw != 0 ? 1 : 0)
            // ip_vs_mh_populate passes over servers without turns; they never claim a slot.
            if turns < 1 { continue }
            let offset = Int(hashKey(address: d.address, port: d.port, key: hash1)) % m
            let skip = Int(hashKey(address: d.address, port: d.port, key: hash2)) % (m - 1) + 1
            probes.append(Probe(last: Int32(truncatingIfNeeded: (offset + m - skip) % m), turns: turns,
                                position: Int32(truncatingIfNeeded: i)))
            var step = 0
            for _ in 0..<width {
                step = addModulo(step, skip, m)
                steps.append(Int32(truncatingIfNeeded: step))
            }
        }
        // gcd ≥ 1 implies a server with turns ≥ 1; without one the fill below would never end.
        guard !probes.isEmpty else { return [Int32](repeating: -1, count: m) }
        // A free-list claim costs f steps where probing costs M/f; they meet near f = √(M/2)
        // (measured best at 128-192 for M = 65,537).
        let tail = Int(Double(m / 2).squareRoot())
        // A byte per slot, twice over: `taken[x]` and `taken[x + M]` are the same slot, so the
        // chunks can look up `c + step` (< 2M) without reducing it mod M first.
        var taken = [UInt8](repeating: 0, count: 2 * m)
        return [Int32](unsafeUninitializedCapacity: m) { table, initialized in
            taken.withUnsafeMutableBufferPointer { taken in
                probes.withUnsafeMutableBufferPointer { probes in
                    steps.withUnsafeBufferPointer { steps in
                        var cursor = FillCursor(remaining: m)
                        cursor.claim(probes, table, until: Swift.max(m / 16 * 11, tail)) { last, k in
                            claimOne(taken, from: last, skip: Int(steps[k &* width]), m: m)
                        }
                        cursor.claim(probes, table, until: Swift.max(m / 4, tail)) { last, k in
                            claimChunk(taken, from: last, steps: steps, at: k &* width, eight: false, m: m)
                        }
                        cursor.claim(probes, table, until: tail) { last, k in
                            claimChunk(taken, from: last, steps: steps, at: k &* width, eight: true, m: m)
                        }
                        claimFromFreeList(taken, probes, steps, table, cursor: &cursor, m: m)
                    }
                }
            }
            initialized = m
        }
    }

    /// Where the fill stands: the server whose turn it is, how many of its turns it has used
    /// this round, and how many slots are still free.
    struct FillCursor {
        var k = 0
        var done = 0
        var remaining: Int

        /// Runs claims in list order, `turns` per server per round, until `stop` slots are free.
        /// `claim` returns the slot server k takes, given the slot it took last.
        @inline(__always)
        mutating func claim(_ probes: UnsafeMutableBufferPointer<Probe>, _ table: UnsafeMutableBufferPointer<Int32>,
                            until stop: Int, _ claim: (Int, Int) -> Int) {
            while remaining > stop {
                var last = Int(probes[k].last)
                let position = probes[k].position
                let left = Int(probes[k].turns) &- done
                // Usually the whole rest of this server's turns; at the end only what `stop` allows.
                let count = Swift.min(left, remaining &- stop)
                for _ in 0..<count {
                    last = claim(last, k)
                    table[last] = position
                }
                probes[k].last = Int32(truncatingIfNeeded: last)
                remaining &-= count
                if count == left {
                    done = 0
                    k &+= 1
                    if k == probes.count { k = 0 }
                } else {
                    done &+= count
                }
            }
        }
    }

    /// (a + b) mod m for a, b < m: `a + b - m` when that is not negative, selected without a
    /// branch, as skips are spread over 1 ..< M and a wrap branch would be a coin toss.
    @inline(__always)
    static func addModulo(_ a: Int, _ b: Int, _ m: Int) -> Int {
        let sum = a &+ b
        let wrapped = sum &- m
        return wrapped < 0 ? sum : wrapped
    }

    /// The kernel's probe: step along the permutation from `last` to the first free slot, and
    /// take it.
    @inline(__always)
    static func claimOne(_ taken: UnsafeMutableBufferPointer<UInt8>, from last: Int, skip: Int, m: Int) -> Int {
        var c = last
        repeat {
            c = addModulo(c, skip, m)
        } while taken[c] != 0
        taken[c] = 1
        taken[c &+ m] = 1
        return c
    }

    /// The same probe, four or eight steps at a time: the next slots of the permutation are
    /// looked up together and the first free one is found from a bit mask, so the only branch
    /// is "all taken", which is rare until the table is nearly full. `steps[at + j]` holds
    /// (j + 1) · skip mod M.
    @inline(__always)
    static func claimChunk(_ taken: UnsafeMutableBufferPointer<UInt8>, from last: Int, steps: UnsafeBufferPointer<Int32>,
                           at: Int, eight: Bool, m: Int) -> Int {
        let allTaken: UInt32 = eight ? 0xff : 0x0f
        var c = last
        while true {
            var mask = lookAhead(taken, from: c, steps: steps, at: at)
            if eight { mask |= lookAhead(taken, from: c, steps: steps, at: at &+ 4) &<< 4 }
            if mask != allTaken {
                c = addModulo(c, Int(steps[at &+ (~mask).trailingZeroBitCount]), m)
                break
            }
            c = addModulo(c, Int(steps[at &+ (eight ? 7 : 3)]), m)
        }
        taken[c] = 1
        taken[c &+ m] = 1
        return c
    }

    /// Whether the four slots `steps[at ..< at + 4]` on from `c` are taken, as bits 0 to 3.
    /// Written out, so that it compiles to straight-line code; `c + step` < 2M indexes the
    /// doubled byte map directly.
    @inline(__always)
    static func lookAhead(_ taken: UnsafeMutableBufferPointer<UInt8>, from c: Int, steps: UnsafeBufferPointer<Int32>,
                          at: Int) -> UInt32 {
        let t0 = UInt32(taken[c &+ Int(steps[at])])
        let t1 = UInt32(taken[c &+ Int(steps[at &+ 1])])
        let t2 = UInt32(taken[c &+ Int(steps[at &+ 2])])
        let t3 = UInt32(taken[c &+ Int(steps[at &+ 3])])
        return t0 | t1 &<< 1 | t2 &<< 2 | t3 &<< 3
    }

    /// The last claims, with few free slots left. The slot that probing from `start` would
    /// reach first is the free slot x with the fewest steps d(x) = (x - start) · skip⁻¹ mod M
    /// (distinct for distinct x, as skip is invertible mod the prime M), so each claim takes
    /// the arg min of d over the free list: f multiplications instead of ~M/f probes.
    /// `x mod M` is a Barrett reduction (`r` = ⌊(2⁶⁴ - 1)/M⌋; x < M² < 2⁶², so the quotient is
    /// short by at most one, which only happens for M > 2²¹), as a hardware divide per free
    /// slot would cost more than the probes it saves.
    static func claimFromFreeList(_ taken: UnsafeMutableBufferPointer<UInt8>, _ probes: UnsafeMutableBufferPointer<Probe>,
                                  _ steps: UnsafeBufferPointer<Int32>, _ table: UnsafeMutableBufferPointer<Int32>,
                                  cursor: inout FillCursor, m: Int) {
        var free: [Int32] = []
        free.reserveCapacity(cursor.remaining)
        // Eight slots at a time: almost every word is all taken.
        let allTaken: UInt64 = 0x0101_0101_0101_0101
        let bytes = UnsafeRawBufferPointer(taken)
        var x = 0
        while x &+ 8 <= m {
            if bytes.loadUnaligned(fromByteOffset: x, as: UInt64.self) != allTaken {
                for y in x..<(x &+ 8) where taken[y] == 0 { free.append(Int32(truncatingIfNeeded: y)) }
            }
            x &+= 8
        }
        for y in x..<m where taken[y] == 0 { free.append(Int32(truncatingIfNeeded: y)) }
        let um = UInt64(m)
        let r = UInt64.max / um
        free.withUnsafeMutableBufferPointer { free in
            var f = free.count
            var inverseFor = -1
            var inverse: UInt64 = 0
            cursor.claim(probes, table, until: 0) { last, k in
                let skip = Int(steps[k &* stepsPerServer])
                if inverseFor != skip {
                    inverse = UInt64(modularInverse(skip, m))
                    inverseFor = skip
                }
                let start = addModulo(last, skip, m)
                var best = UInt64.max
                var bestIndex = 0
                for j in 0..<f {
                    let dx = Int(free[j]) &- start
                    let product = UInt64(truncatingIfNeeded: dx < 0 ? dx &+ m : dx) &* inverse
                    let d = product &- product.multipliedFullWidth(by: r).high &* um
                    let distance = d >= um ? d &- um : d
                    if distance < best {
                        best = distance
                        bestIndex = j
                    }
                }
                let slot = Int(free[bestIndex])
                f &-= 1
                free[bestIndex] = free[f]
                return slot
            }
        }
    }

    /// a⁻¹ mod m for 1 ≤ a < m, m prime (extended Euclid).
    static func modularInverse(_ a: Int, _ m: Int) -> Int {
        var (r0, r1) = (m, a)
        var (t0, t1) = (0, 1)
        while r1 != 0 {
            let q = r0 / r1
            (r0, r1) = (r1, r0 - q * r1)
            (t0, t1) = (t1, t0 - q * t1)
        }
        return t0 < 0 ? t0 + m : t0
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
