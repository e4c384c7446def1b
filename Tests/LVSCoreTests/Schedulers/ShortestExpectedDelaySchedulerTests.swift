import Testing
import LVSCore

/// §2 sed, worked by hand: wlc's walk with overhead = active + 1 (inactive connections are
/// ignored). `least` starts as the first server that is not overloaded and has a positive
/// weight; a later server d that is not overloaded replaces it only if
/// (active(least) + 1) × w(d) > (active(d) + 1) × w(least). Servers added A, B give the list
/// B, A (§1.1). `picksOpening` adds one active connection to each server picked.
@Suite struct ShortestExpectedDelaySchedulerTests {
    func make(_ f: DestinationFixture) -> ShortestExpectedDelayScheduler { ShortestExpectedDelayScheduler(destinations: f.list) }

    // A weight 3, B weight 1 → list B A, idle. Overheads B/A (active + 1) before each pick:
    //   1: 1/1: 1 × 3 > 1 × 1 → A.    2: 1/2: 3 > 2 → A.     3: 1/3: 3 > 3? no → B.
    //   4: 2/3: 6 > 3 → A.            5: 2/4: 6 > 4 → A.     6: 2/5: 6 > 5 → A.
    //   7: 2/6: 6 > 6? no → B.        8: 3/6: 9 > 6 → A.     9: 3/7 → A.   10: 3/8 → A.
    //  11: 3/9: 9 > 9? no → B.
    // Unlike wlc (which starts with B at 0/0), the heavier server is taken from the first pick.
    @Test func goldenSequenceThreeToOne() {
        let f = DestinationFixture(["A": 3, "B": 1])
        #expect(f.listNames == seq("B A"))
        var sed = make(f)
        #expect(f.picksOpening(&sed, 11) == seq("A A B A A A B A A A B"))
        #expect(f.activeConnections("A") == 8)
        #expect(f.activeConnections("B") == 3)
    }

    // Inactive connections are ignored: B 1000 inactive, A none, both weight 1 and no active
    // connection: 1 × 1 > 1 × 1? no → B, the earlier (wlc would pick A).
    @Test func inactiveConnectionsIgnored() {
        let f = DestinationFixture(["A": 1, "B": 1])
        f.setConnections("B", active: 0, inactive: 1000)
        var sed = make(f)
        #expect(f.picks(&sed, 1) == seq("B"))
        var wlc = WeightedLeastConnectionScheduler(destinations: f.list)
        #expect(f.picks(&wlc, 1) == seq("A"))
    }

    // Equal expected delay keeps the earlier server: list C (w 2, active 1 → 2), B (w 1,
    // active 0 → 1): 2 × 1 > 1 × 2? no → C.
    @Test func tiesKeepEarliestInListOrder() {
        let f = DestinationFixture(["B": 1, "C": 2])
        f.setConnections("C", active: 1)
        var sed = make(f)
        #expect(f.picks(&sed, 1) == seq("C"))
    }

    // List C (w 0, idle) B (overloaded, idle) A (w 1, active 5) → A. A weight-0 server after
    // the first candidate never wins: list B (w 1, active 9) A (w 0, idle): 10 × 0 > 1 × 1? no
    // → B. Nothing eligible → nil.
    @Test func weightZeroAndOverloadedSkipped() {
        let f = DestinationFixture(["A": 1, "B": 1, "C": 0])
        f.setOverloaded("B", true)
        f.setConnections("A", active: 5)
        var sed = make(f)
        #expect(f.picks(&sed, 2) == seq("A A"))
        f.setOverloaded("A", true)
        #expect(f.picks(&sed, 1) == seq("-"))

        let g = DestinationFixture(["A": 0, "B": 1])
        g.setConnections("B", active: 9)
        var sed2 = make(g)
        #expect(g.picks(&sed2, 1) == seq("B"))
    }

    // Weight edit mid-sequence: the first 3 picks of the golden sequence (A A B) leave B 1,
    // A 2. Set B's weight to 3 (both 3 now); B/A overheads before each pick:
    //   2/3: 2 × 3 > 3 × 3? no → B.   3/3: 9 > 9? no → B.   4/3: 12 > 9 → A.   4/4: tie → B.
    @Test func weightEditMidSequence() {
        let f = DestinationFixture(["A": 3, "B": 1])
        var sed = make(f)
        #expect(f.picksOpening(&sed, 3) == seq("A A B"))
        f.setWeight("B", 3)
        #expect(f.picksOpening(&sed, 4) == seq("B B A B"))
    }

    // 64-bit products: B (w 1, active 30 000 000 → 30 000 001) A (w 100, idle → 1):
    // 30 000 001 × 100 = 3 000 000 100 > 1 × 1 → A (in 32 bits it would wrap negative).
    @Test func productsAreSixtyFourBit() {
        let f = DestinationFixture(["A": 100, "B": 1])
        f.setConnections("B", active: 30_000_000)
        var sed = make(f)
        #expect(f.picks(&sed, 1) == seq("A"))
    }
}
