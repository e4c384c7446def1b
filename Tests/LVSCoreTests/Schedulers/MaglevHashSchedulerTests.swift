import Testing
import LVSCore

/// §2 mh. Golden tables come from an independent Python model of ip_vs_mh.c (the SipHash-1-3
/// in SipHash13Tests plus this populate loop, with gcd, rshift and turns as in the kernel):
///
///     def mh_table(lst, M, lw):               # lst: (addr, port) in kernel list order
///         g = reduce(gcd, [w for w in lw if w > 0], 0)
///         rshift = max(0, (max(lw) // g).bit_length() - M.bit_length() // 2)
///         off  = [hsiphash(a + p, H1) % M for a, p in lst]
///         skip = [hsiphash(a + p, H2) % (M - 1) + 1 for a, p in lst]
///         turns = [((w // g) >> rshift) or (1 if w else 0) for w in lw]
///         perm, table, n, dt = off[:], [None] * M, 0, 0
///         while True:
///             i = 0
///             while i < len(lst):
///                 if turns[i] < 1: i += 1; continue
///                 c = perm[i]
///                 while table[c] is not None: c = (c + skip[i]) % M
///                 perm[i] = c; table[c] = i; n += 1
///                 if n == M: return table
///                 dt += 1
///                 if dt >= turns[i]: dt = 0; i += 1
///
/// with H1 = 2654435761 and H2 = 2654446892 (both halves of each key), and a client's slot
/// `hsiphash(port + addr, H1) % M`. The fixture adds server k as 10.0.1.k:80.
@Suite struct MaglevHashSchedulerTests {
    static func client(_ k: UInt8, port: UInt16 = 1000) -> SchedulingContext {
        DestinationFixture.context(client: IPv4Address(192, 0, 2, k), port: port)
    }

    func table(_ f: DestinationFixture, _ mh: MaglevHashScheduler) -> String {
        mh.lookup.map { f.name(at: $0 < 0 ? nil : Int($0)) }.joined()
    }

    func counts(_ mh: MaglevHashScheduler, servers n: Int) -> [Int] {
        var c = [Int](repeating: 0, count: n)
        for p in mh.lookup where p >= 0 { c[Int(p)] += 1 }
        return c
    }

    // Per-server permutation parameters for M = 251 (Python): C = 10.0.1.3 offset 183 skip 63,
    // B = 10.0.1.2 offset 18 skip 158, A = 10.0.1.1 offset 0 skip 44. The first lap therefore
    // gives C slot 183, B slot 18, A slot 0, and so on; the whole table is below.
    @Test func goldenTable251() {
        let f = DestinationFixture(["A": 1, "B": 1, "C": 1])
        let mh = MaglevHashScheduler(destinations: f.list, flags: [], tableSize: 251)
        #expect(MaglevHashScheduler.hashKey(address: IPv4Address(10, 0, 1, 1), port: 80, key: MaglevHashScheduler.hash1) == 1_726_403_853)
        #expect(MaglevHashScheduler.hashKey(address: IPv4Address(10, 0, 1, 1), port: 80, key: MaglevHashScheduler.hash2) == 1_174_503_793)
        #expect(mh.tableBits == 4)
        let expected = "ACCCCCCBBCCACACBABBACACBABABCAABABABBAAAABABABAAABABABBBAACCCCCCBCCCCCACBBCCCCACBBBBCCACABBABCACAABABAACAABABABBAAAABABBBCCCCCCACBCCACCACBBCACCACABBBCCACABBBBAACABBBBBACABABBBBBABAABACCCCCCACCCCBCCACCCCABCACCACABBBCAACABABBAACABABBBAAABABBBBBABABCCCCB"
        #expect(table(f, mh) == expected)
        #expect(counts(mh, servers: 3) == [84, 84, 83])    // C, B, A
    }

    // Default M = 4093 (index 12, bits 6). Slots of clients 192.0.2.1 … 8 (Python):
    // 2891 A, 746 A, 998 C, 3044 A, 3958 C, 4037 B, 1589 C, 1122 C; shares 1365 C, 1364 B, 1364 A.
    @Test func goldenDefaultTable() {
        let f = DestinationFixture(["A": 1, "B": 1, "C": 1])
        var mh = MaglevHashScheduler(destinations: f.list)
        #expect(mh.tableSize == 4093)
        #expect(mh.tableBits == 6)
        #expect(counts(mh, servers: 3) == [1365, 1364, 1364])
        #expect((1...8).map { f.name(at: mh.schedule(f.list, context: Self.client($0))) } == seq("A A C A C B C C"))
    }

    // mh-port: 192.0.2.1 from ports 1000, 1001, 1002 → slots 1155 A, 1735 B, 1801 C.
    @Test func portFlag() {
        let f = DestinationFixture(["A": 1, "B": 1, "C": 1])
        var mh = MaglevHashScheduler(destinations: f.list, flags: .port)
        let ports: [UInt16] = [1000, 1001, 1002]
        #expect(ports.map { f.name(at: mh.schedule(f.list, context: Self.client(1, port: $0))) } == seq("A B C"))
    }

    // Weights 1:2:3 (gcd 1, max 3 → rshift 0, turns 1, 2, 3): Python gives 41/84/126 of 251 and
    // 682/1364/2047 of 4093, i.e. within a slot or two of 1/6, 2/6, 3/6.
    @Test func weightedShares() {
        let f = DestinationFixture(["A": 1, "B": 2, "C": 3])
        let small = MaglevHashScheduler(destinations: f.list, flags: [], tableSize: 251)
        #expect(counts(small, servers: 3) == [126, 84, 41])
        #expect(table(f, small).hasPrefix("ACCCCCCCBCCCCACCBBBCCACCBBABCACCCBABBACA"))
        let large = MaglevHashScheduler(destinations: f.list)
        #expect(counts(large, servers: 3) == [2047, 1364, 682])
    }

    // gcd and rshift: weights 100:200:300 behave like 1:2:3 (gcd 100). With 1 and 1000 at
    // M = 4093 (bits 6), fls(1000) = 10 → rshift 4, turns 1000 >> 4 = 62 and 1 >> 4 = 0 → 1.
    @Test func gcdAndShift() {
        let scaled = DestinationFixture(["A": 100, "B": 200, "C": 300])
        let mh = MaglevHashScheduler(destinations: scaled.list)
        #expect(mh.gcd == 100 && mh.rshift == 0)
        #expect(counts(mh, servers: 3) == [2047, 1364, 682])
        let wide = DestinationFixture(["A": 1, "B": 1000])
        let shifted = MaglevHashScheduler(destinations: wide.list)
        #expect(shifted.gcd == 1 && shifted.rshift == 4)
        let c = counts(shifted, servers: 2)    // list B A
        // B claims 62 slots per A's 1 until the table is full.
        #expect(c[0] + c[1] == 4093)
        #expect(abs(c[1] - 4093 / 63) <= 1)
    }

    // Equal weights: every server owns ⌊M/N⌋ or ⌈M/N⌉ slots (the turn-taking guarantees it).
    @Test(arguments: [2, 3, 7, 10, 50, 100])
    func equalWeightsWithinOneSlot(servers n: Int) {
        let f = DestinationFixture(capacity: n)
        for k in 0..<n { f.add("S\(k)", weight: 1) }
        let mh = MaglevHashScheduler(destinations: f.list)
        for owned in counts(mh, servers: n) {
            #expect(owned == 4093 / n || owned == 4093 / n + 1)
        }
    }

    // Weighted: each server's share is its weight's share, within one round of turns.
    @Test func weightsProportional() {
        let weights: [Int32] = [1, 2, 3, 4, 5, 6, 7, 8]
        let f = DestinationFixture(capacity: weights.count)
        for (k, w) in weights.enumerated() { f.add("S\(k)", weight: w) }
        let mh = MaglevHashScheduler(destinations: f.list)
        let c = counts(mh, servers: weights.count)
        let total = weights.reduce(0, +)
        for p in 0..<weights.count {
            let w = Int(f.list[p].weight)
            let share = Double(4093 * w) / Double(total)
            #expect(abs(Double(c[p]) - share) <= Double(w) + 1)
        }
    }

    // Minimal disruption, measured. Removing one of N equal servers must move every slot it
    // owned; the kernel's turn-taking then shifts some others, because each survivor's claims
    // come at different points of the fill once a server's turns are gone. How many depends on
    // M/N. Measured here and with the Python model (moved slots ÷ M/N, worst over the removals
    // tried): N = 10, M = 4093 → 1.12; N = 100, M = 65537 → 1.59; N = 100, M = 4093 (the kernel
    // default, only ~41 slots per server) → 4.57. The asserted bounds sit just above those, so
    // a regression in the populate loop shows, and the last case documents that big services
    // want a bigger table.
    @Test(arguments: [(10, 4093, 1.5), (100, 65537, 2.0), (100, 4093, 5.0)])
    func removingOneServerMovesBoundedShare(servers n: Int, tableSize m: Int, bound: Double) {
        let f = DestinationFixture(capacity: n)
        for k in 0..<n { f.add("S\(k)", weight: 1) }
        let base = MaglevHashScheduler(destinations: f.list, flags: [], tableSize: m)
        let before = base.lookup.map { f.list.slot(at: Int($0)) }
        let share = Double(m) / Double(n)
        for index in stride(from: 0, to: n, by: Swift.max(1, n / 10)) {
            let g = DestinationFixture(capacity: n)
            for k in 0..<n { g.add("S\(k)", weight: 1) }
            var mh = base
            let slot = g.slot("S\(index)")
            mh.destinationRemoved(at: g.remove("S\(index)"), g.list)
            let after = mh.lookup.map { g.list.slot(at: Int($0)) }
            let owned = before.filter { $0 == slot }.count
            let moved = zip(before, after).filter { $0 != $1 }.count
            #expect(!after.contains(slot))
            #expect(moved >= owned)
            #expect(Double(moved) <= bound * share, "removing S\(index) moved \(moved) slots; share \(share)")
        }
    }

    // Adding one server to N: it gets its share (±1) and the total moved stays within the same
    // kind of bound (measured: N = 10 → 1.12 × share; N = 100 at M = 65537 → 1.59 ×).
    @Test(arguments: [(10, 4093, 1.5), (100, 65537, 2.0)])
    func addingOneServerMovesBoundedShare(servers n: Int, tableSize m: Int, bound: Double) {
        let f = DestinationFixture(capacity: n + 1)
        for k in 0..<n { f.add("S\(k)", weight: 1) }
        var mh = MaglevHashScheduler(destinations: f.list, flags: [], tableSize: m)
        let before = mh.lookup.map { f.list.slot(at: Int($0)) }
        let slot = f.add("new", weight: 1)
        mh.destinationAdded(f.list)
        let after = mh.lookup.map { f.list.slot(at: Int($0)) }
        let moved = zip(before, after).filter { $0 != $1 }.count
        let gained = after.filter { $0 == slot }.count
        #expect(gained == m / (n + 1) || gained == m / (n + 1) + 1)
        #expect(Double(moved) <= bound * Double(m) / Double(n + 1))
    }

    // Quiescing (weight 0, last_weight kept) leaves the table unchanged; the quiesced server's
    // clients get nil, or with mh-fallback the next server on their probe sequence. Python:
    // clients 1, 2, 4 (all on A) fall back to C, C, B; client 7 stays on C.
    @Test func quiescingKeepsTableAndFallsBack() {
        let f = DestinationFixture(["A": 1, "B": 1, "C": 1])
        var mh = MaglevHashScheduler(destinations: f.list)
        var fallback = MaglevHashScheduler(destinations: f.list, flags: .fallback)
        let before = mh.lookup
        f.editWeight("A", 0)
        #expect(f.list[2].lastWeight == 1)
        mh.destinationUpdated(f.list)
        fallback.destinationUpdated(f.list)
        #expect(mh.lookup == before)
        let clients: [UInt8] = [1, 2, 4, 7]
        #expect(clients.map { f.name(at: mh.schedule(f.list, context: Self.client($0))) } == seq("- - - C"))
        #expect(clients.map { f.name(at: fallback.schedule(f.list, context: Self.client($0))) } == seq("C C B C"))
        // Overload is unavailability too.
        f.setOverloaded("C", true)
        #expect(f.name(at: fallback.schedule(f.list, context: Self.client(7))) == "B")
        // Back to weight 1: same table, A serves its clients again.
        f.setOverloaded("C", false)
        f.editWeight("A", 1)
        mh.destinationUpdated(f.list)
        #expect(mh.lookup == before)
        #expect(f.name(at: mh.schedule(f.list, context: Self.client(1))) == "A")
    }

    // A server added with weight 0 has last weight 0: no slots. With every last weight 0 the
    // table is empty and even the fallback finds nothing.
    @Test func addedWithWeightZeroGetsNoSlots() {
        let f = DestinationFixture(["A": 1, "B": 0])
        let mh = MaglevHashScheduler(destinations: f.list, flags: [], tableSize: 251)
        #expect(counts(mh, servers: 2) == [0, 251])
        let none = DestinationFixture(["A": 0, "B": 0])
        var empty = MaglevHashScheduler(destinations: none.list, flags: .fallback)
        #expect(empty.gcd == 0)
        #expect(empty.lookup.allSatisfy { $0 == -1 })
        #expect(empty.schedule(none.list, context: Self.client(1)) == nil)
    }

    // More servers than slots: the kernel refuses with -EINVAL; here the table empties.
    @Test func moreServersThanSlots() {
        let f = DestinationFixture(capacity: 252)
        for k in 0..<252 { f.add("S\(k)", weight: 1) }
        var mh = MaglevHashScheduler(destinations: f.list, flags: [], tableSize: 251)
        #expect(mh.lookup.allSatisfy { $0 == -1 })
        #expect(mh.schedule(f.list, context: Self.client(1)) == nil)
    }

    @Test func registry() {
        let f = DestinationFixture(["A": 1, "B": 1, "C": 1])
        var instance = SchedulerRegistry.make("mh", destinations: f.list, flags: [.fallback, .port])
        #expect(instance?.name == "mh")
        #expect(f.name(at: instance?.schedule(f.list, context: Self.client(1, port: 1001))) == "B")
    }

    // The size, 65537 slots × 1000 servers, bit for bit: the FNV-1a 64 digest of the
    // table's Int32 slots (little-endian) and its first slots, from the Python model above with
    // the fixture's addresses (server k is 10.0.(1 + k / 250).(k % 250 + 1):80, list newest
    // first). The second list has zero weights and, with weights up to 1000 against 8 table
    // bits, rshift 2, so turns of up to 250 slots a round. It guards the optimised populate loop.
    @Test(arguments: [
        (0, UInt64(0xf7f5_011f_66e3_32e5), [166, 568, 782, 694, 470, 107] as [Int32]),
        (1, UInt64(0x8a41_5f77_9170_83a7), [166, 495, 648, 545, 470, 348] as [Int32]),
    ])
    func goldenLargeTableDigest(weighting: Int, digest: UInt64, first: [Int32]) {
        let n = 1000
        let f = DestinationFixture(capacity: n)
        for k in 0..<n {
            let weight = weighting == 0 ? Int32(1 + k % 3) : (k % 5 == 0 ? 0 : Int32(k * 37 % 1000 + 1))
            f.add("S\(k)", weight: weight)
        }
        let mh = MaglevHashScheduler(destinations: f.list, flags: [], tableSize: 65537)
        #expect(mh.rshift == (weighting == 0 ? 0 : 2))
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for slot in mh.lookup {
            let bits = UInt32(bitPattern: slot)
            for byte in 0..<4 { h = (h ^ UInt64(bits >> (8 * UInt32(byte)) & 0xff)) &* 0x100_0000_01b3 }
        }
        #expect(h == digest)
        #expect(Array(mh.lookup.prefix(6)) == first)
    }

    /// The kernel's populate loop as written (the Python model above, line for line), for
    /// checking the optimised build against it.
    static func kernelTable(_ list: DestinationList, tableSize m: Int) -> [Int32] {
        let n = list.count
        let lw = (0..<n).map { Int(list[$0].lastWeight) }
        var g = 0
        for w in lw where w > 0 {
            var (a, b) = (w, g)
            while b != 0 { (a, b) = (b, a % b) }
            g = a
        }
        if g == 0 || n > m { return [Int32](repeating: -1, count: m) }
        let bits = (Int.bitWidth - m.leadingZeroBitCount) / 2
        let rshift = max(0, (Int.bitWidth - (lw.max()! / g).leadingZeroBitCount) - bits)
        let h = { (i: Int, key: (UInt64, UInt64)) in
            Int(MaglevHashScheduler.hashKey(address: list[i].address, port: list[i].port, key: key))
        }
        var perm = (0..<n).map { h($0, MaglevHashScheduler.hash1) % m }
        let skip = (0..<n).map { h($0, MaglevHashScheduler.hash2) % (m - 1) + 1 }
        let turns = lw.map { w in (w / g) >> rshift != 0 ? (w / g) >> rshift : (w != 0 ? 1 : 0) }
        var table = [Int32](repeating: -1, count: m)
        var filled = 0
        var dt = 0
        while true {
            var i = 0
            while i < n {
                if turns[i] < 1 { i += 1; continue }
                var c = perm[i]
                while table[c] >= 0 { c = (c + skip[i]) % m }
                perm[i] = c
                table[c] = Int32(i)
                filled += 1
                if filled == m { return table }
                dt += 1
                if dt >= turns[i] { dt = 0; i += 1 }
            }
        }
    }

    // The optimised build (probing, then the free-list claims for the last ~√(M/2) slots)
    // against the kernel loop above, on random lists: random addresses and ports, weights
    // 0 … 5000 (so zeros, large gcds and non-zero rshift), 1 … M servers, several primes.
    @Test(arguments: [3, 251, 509, 4093, 8191])
    func matchesKernelLoopOnRandomLists(tableSize m: Int) {
        var rng = SplitMix64(seed: 0x3A61_E5 &+ UInt64(m))
        let capacity = min(m, 300)
        let slots = UnsafeMutablePointer<Destination>.allocate(capacity: capacity)
        defer { slots.deallocate() }
        for round in 0..<40 {
            let n = Int.random(in: 1...capacity, using: &rng)
            let scale = Int32([1, 7, 100][round % 3])
            for k in 0..<n {
                let weight = Int.random(in: 0..<4, using: &rng) == 0 ? 0 : scale * Int32.random(in: 1...50, using: &rng)
                (slots + k).initialize(to: Destination(address: IPv4Address(UInt32.random(in: 0...UInt32.max, using: &rng)),
                                                       port: UInt16.random(in: 0...UInt16.max, using: &rng), weight: weight))
            }
            let list = DestinationList(slots: slots, order: (0..<Int32(n)).shuffled(using: &rng))
            let mh = MaglevHashScheduler(destinations: list, flags: [], tableSize: m)
            #expect(mh.lookup == Self.kernelTable(list, tableSize: m), "M \(m), round \(round), \(n) servers")
            slots.deinitialize(count: n)
        }
    }

    // Build cost at the target, 65537 slots × 1000 servers. Printed, not asserted: run
    // `swift test -c release --filter MaglevHashSchedulerTests/buildTime` for a meaningful number.
    @Test func buildTime() {
        let n = 1000
        let f = DestinationFixture(capacity: n)
        for k in 0..<n { f.add("S\(k)", weight: Int32(1 + k % 3)) }
        let clock = ContinuousClock()
        var mh = MaglevHashScheduler(destinations: f.list, flags: [], tableSize: 65537)
        var best = Duration.seconds(1000)
        for _ in 0..<5 {
            let elapsed = clock.measure { mh.destinationUpdated(f.list) }
            best = min(best, elapsed)
        }
        #expect(mh.lookup.allSatisfy { $0 >= 0 })
        print("mh build, 65537 slots × \(n) servers: best of 5 = \(best)")
    }
}
