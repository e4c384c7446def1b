import Testing
import LVSCore

/// §2 twos, worked by hand. total = Σ weights of the servers that are not overloaded and have
/// weight > 0, plus 1; each draw d becomes r = (d × total) >> 32 (the kernel's
/// get_random_u32_below multiply-shift). Walking those servers in list order, r −= weight;
/// the first server where r ≤ 0 is the choice. choice2 wins only if
/// w2 × overhead1 > w1 × overhead2 (overhead = active × 256 + inactive).
///
/// Most tests use weights that sum to 7, so total = 8 and r = d >> 29: the draw `r << 29`
/// gives r exactly. List C 1, B 2, A 4 (added A, B, C): C for r ∈ {0, 1} (1 − r ≤ 0 needs
/// r ≤ 1), B for {2, 3} (r − 3 ≤ 0), A for {4 … 7}.
@Suite struct PowerOfTwoChoicesSchedulerTests {
    func make(_ f: DestinationFixture) -> PowerOfTwoChoicesScheduler { PowerOfTwoChoicesScheduler(destinations: f.list) }

    static func fixture() -> DestinationFixture { DestinationFixture(["A": 4, "B": 2, "C": 1]) }

    /// The draw that reduces to `r` when total = 8.
    static func draw(_ r: UInt32) -> UInt32 { r << 29 }

    // r = 0 picks the first eligible server: 0 − w ≤ 0.
    @Test func rZeroPicksFirstEligible() {
        let f = Self.fixture()
        #expect(f.listNames == seq("C B A"))
        var twos = make(f)
        #expect(f.pick(&twos, random: (0, 0)) == "C")
        // With C overloaded, the first eligible is B (total 6 + 1 = 7; r 0 → B).
        f.setOverloaded("C", true)
        #expect(f.pick(&twos, random: (0, 0)) == "B")
        // With C back but quiesced (weight 0), B is the first eligible again.
        f.setOverloaded("C", false)
        f.setWeight("C", 0)
        #expect(f.pick(&twos, random: (0, 0)) == "B")
    }

    // With both draws equal, choice2 = choice1 and the comparison cannot switch (x > x is
    // false), so each r shows the walk alone: the first server gets weight + 1 values of r.
    @Test func drawsMapToServersByWeight() {
        let f = Self.fixture()
        var twos = make(f)
        let picks = (UInt32(0)..<8).map { f.pick(&twos, random: (Self.draw($0), Self.draw($0))) }
        #expect(picks == seq("C C B B A A A A"))
        // The largest draw: (0xFFFF_FFFF × 8) >> 32 = 7 → A.
        #expect(f.pick(&twos, random: (.max, .max)) == "A")
    }

    // choice1 = C (r1 0), choice2 = A (r2 4). C has active 1 (256), weight 1; A weight 4:
    //   A active 2 (512): 4 × 256 = 1024 > 1 × 512 → A.
    //   A active 3 (768): 1024 > 768 → A.
    //   A active 4 (1024): 1024 > 1024? no → C (equal load per weight keeps choice1).
    //   A active 4 + 1 inactive (1025): no → C.
    // Swapped (choice1 = A, choice2 = C): A 1025, C 256: 1 × 1025 > 4 × 256 = 1024 → C.
    @Test func comparisonBetweenChoices() {
        let f = Self.fixture()
        f.setConnections("C", active: 1)
        var twos = make(f)
        let cThenA = (Self.draw(0), Self.draw(4))
        f.setConnections("A", active: 2)
        #expect(f.pick(&twos, random: cThenA) == "A")
        f.setConnections("A", active: 3)
        #expect(f.pick(&twos, random: cThenA) == "A")
        f.setConnections("A", active: 4)
        #expect(f.pick(&twos, random: cThenA) == "C")
        f.setConnections("A", active: 4, inactive: 1)
        #expect(f.pick(&twos, random: cThenA) == "C")
        #expect(f.pick(&twos, random: (Self.draw(4), Self.draw(0))) == "C")
        // Both idle: 4 × 0 > 1 × 0 is false → choice1, whichever it is.
        let g = Self.fixture()
        var twos2 = make(g)
        #expect(g.pick(&twos2, random: cThenA) == "C")
        #expect(g.pick(&twos2, random: (Self.draw(4), Self.draw(0))) == "A")
    }

    // Weight 0 and OVERLOAD are left out of both the sum and the walk. Added A 4, B 2, C 1,
    // D 0 → list D C B A; B overloaded → eligible C 1, A 4, total 6, r = (d × 6) >> 32:
    //   d 0 → 0 → C;  0x5555_5555 (= (2³² − 1) / 3) × 6 = 2³³ − 2 → 1 → C (1 − 1 = 0);
    //   0x5555_5556 × 6 = 2³³ + 4 → 2 → A;  0xFFFF_FFFF → 5 → A.
    // Everything ineligible → nil.
    @Test func weightZeroAndOverloadedLeftOut() {
        let f = DestinationFixture(["A": 4, "B": 2, "C": 1, "D": 0])
        #expect(f.listNames == seq("D C B A"))
        f.setOverloaded("B", true)
        var twos = make(f)
        #expect(f.pick(&twos, random: (0, 0)) == "C")
        #expect(f.pick(&twos, random: (0x5555_5555, 0x5555_5555)) == "C")
        #expect(f.pick(&twos, random: (0x5555_5556, 0x5555_5556)) == "A")
        #expect(f.pick(&twos, random: (.max, .max)) == "A")
        f.setOverloaded("A", true)
        f.setWeight("C", 0)
        #expect(f.pick(&twos, random: (0, 0)) == "-")
        let empty = DestinationFixture()
        var twosEmpty = make(empty)
        #expect(twosEmpty.schedule(empty.list, context: DestinationFixture.context) == nil)
    }

    // The reduction is a multiply-shift, not a modulo. List C 1, A 1 (total 3): C for r ∈
    // {0, 1}, A for r = 2. 0xAAAA_AAAA × 3 = 2³³ − 2 → 1 → C (modulo 3 would give 2 → A);
    // 0xAAAA_AAAB × 3 = 2³³ + 1 → 2 → A (modulo 3 would give 0 → C).
    @Test func reductionIsMultiplyShift() {
        let f = DestinationFixture(["A": 1, "C": 1])
        var twos = make(f)
        #expect(f.pick(&twos, random: (0xAAAA_AAAA, 0xAAAA_AAAA)) == "C")
        #expect(f.pick(&twos, random: (0xAAAA_AAAB, 0xAAAA_AAAB)) == "A")
    }

    // The kernel multiplies in 32-bit int (no s64 cast here, unlike wlc), and it wraps. Added
    // A 100, C 1 → list C A, total 102; r1 0 → C, r2 from 0xFFFF_FFFF = 101 → A.
    // C active 1000 (256 000), A idle: 100 × 256 000 = 25 600 000 > 0 → A.
    // C active 100 000 (25 600 000): 100 × 25 600 000 = 2 560 000 000 wraps to
    // −1 734 967 296, which is not > 0 → C, the loaded server, as the kernel picks it.
    @Test func productsWrapInThirtyTwoBits() {
        let f = DestinationFixture(["A": 100, "C": 1])
        var twos = make(f)
        f.setConnections("C", active: 1000)
        #expect(f.pick(&twos, random: (0, .max)) == "A")
        f.setConnections("C", active: 100_000)
        #expect(f.pick(&twos, random: (0, .max)) == "C")
    }

    // Through the registry's enum dispatch, the context's draws reach the scheduler: r 0 → C,
    // r 7 → A (both idle, so choice1 stays).
    @Test func drawsReachTheSchedulerThroughTheRegistry() throws {
        let f = Self.fixture()
        var s = try #require(SchedulerRegistry.make("twos", destinations: f.list))
        #expect(s.name == "twos")
        var context = DestinationFixture.context
        context.random = (Self.draw(0), Self.draw(0))
        #expect(f.name(at: s.schedule(f.list, context: context)) == "C")
        context.random = (Self.draw(7), Self.draw(7))
        #expect(f.name(at: s.schedule(f.list, context: context)) == "A")
    }

    // Edits between picks, with the same draws every time (r1 = r2 from 0x4000_0000):
    //   list C 1, B 2, A 4, total 8: r 2 → B.
    //   B's weight → 0: total 6, (0x4000_0000 × 6) >> 32 = 1 → C (1 − 1 = 0).
    //   B's weight → 5: total 11, (0x4000_0000 × 11) >> 32 = 2 → B (2 − 1 − 5 ≤ 0).
    //   C overloaded: B 5, A 4, total 10, r 2 → B.
    @Test func weightEditMidSequence() {
        let f = Self.fixture()
        var twos = make(f)
        let draws: (UInt32, UInt32) = (0x4000_0000, 0x4000_0000)
        #expect(f.pick(&twos, random: draws) == "B")
        f.setWeight("B", 0)
        #expect(f.pick(&twos, random: draws) == "C")
        f.setWeight("B", 5)
        #expect(f.pick(&twos, random: draws) == "B")
        f.setOverloaded("C", true)
        #expect(f.pick(&twos, random: draws) == "B")
    }
}
