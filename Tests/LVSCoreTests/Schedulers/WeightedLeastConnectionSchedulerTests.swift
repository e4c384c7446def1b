import Testing
import LVSCore

/// §2 wlc, worked by hand. `least` starts as the first server that is not overloaded and has a
/// positive weight (loh = its overhead, active × 256 + inactive); a later server d that is not
/// overloaded replaces it only if loh × w(d) > oh(d) × w(least), so ties keep the earlier one.
/// Servers added A, B, C give the list C, B, A (§1.1). `picksOpening` adds one active
/// connection to each server picked.
@Suite struct WeightedLeastConnectionSchedulerTests {
    func make(_ f: DestinationFixture) -> WeightedLeastConnectionScheduler {
        WeightedLeastConnectionScheduler(destinations: f.list)
    }

    // The classic case: the heavier server wins while it has more connections, as long as its
    // load per unit of weight is lower. Added H (weight 3), then L (weight 1) → list L H.
    //   L active 1 (256), H active 2 (512): least L; 256 × 3 = 768 > 512 × 1 = 512 → H.
    //   H active 3 (768): 256 × 3 = 768 > 768 × 1? no (tie) → L keeps it.
    //   H active 3 + 1 inactive (769): 768 > 769? no → L.
    @Test func heavierServerWithMoreConnectionsWins() {
        let f = DestinationFixture(["H": 3, "L": 1])
        #expect(f.listNames == seq("L H"))
        f.setConnections("L", active: 1)
        f.setConnections("H", active: 2)
        var wlc = make(f)
        #expect(f.picks(&wlc, 1) == seq("H"))
        f.setConnections("H", active: 3)
        #expect(f.picks(&wlc, 1) == seq("L"))
        f.setConnections("H", active: 3, inactive: 1)
        #expect(f.picks(&wlc, 1) == seq("L"))
    }

    // A weight 3, B weight 1 → list B A, idle. Overheads B/A before each pick (× 256):
    //   1: 0/0: least B, 0 × 3 > 0 × 1? no → B.    2: 1/0: 256 × 3 > 0 → A.
    //   3: 1/1: 768 > 256 → A.                     4: 1/2: 768 > 512 → A.
    //   5: 1/3: 768 > 768? no → B.                 6: 2/3: 1536 > 768 → A.
    //   7: 2/4: 1536 > 1024 → A.                   8: 2/5: 1536 > 1280 → A.
    //   9: 2/6: 1536 > 1536? no → B.
    // 3:1 once running, in a cycle of four.
    @Test func goldenSequenceThreeToOne() {
        let f = DestinationFixture(["A": 3, "B": 1])
        var wlc = make(f)
        #expect(f.picksOpening(&wlc, 9) == seq("B A A A B A A A B"))
        #expect(f.activeConnections("A") == 6)
        #expect(f.activeConnections("B") == 3)
    }

    // Equal load per weight keeps the earlier server: list C (w 2, active 2 = 512), B (w 1,
    // active 1 = 256): 512 × 1 > 256 × 2? no → C. All idle: 0 > 0 never → the first, C.
    @Test func tiesKeepEarliestInListOrder() {
        let f = DestinationFixture(["B": 1, "C": 2])
        #expect(f.listNames == seq("C B"))
        f.setConnections("C", active: 2)
        f.setConnections("B", active: 1)
        var wlc = make(f)
        #expect(f.picks(&wlc, 1) == seq("C"))
        let g = DestinationFixture(["A": 5, "B": 1, "C": 2])
        var wlc2 = make(g)
        #expect(g.picks(&wlc2, 1) == seq("C"))
    }

    // Weight 0 is skipped for the first candidate and can never win later (loh × 0 > x is
    // false). List C (w 0, idle) B (w 1, 100 inactive) A (w 2, 300 inactive): least B (C has
    // weight 0); 100 × 2 = 200 > 300 × 1? no → B (100 per unit of weight against A's 150),
    // although C is idle.
    // List B (w 1, 1000 inactive) A (w 0, idle): least B; 1000 × 0 > 0 × 1? no → B.
    @Test func weightZeroNeverChosen() {
        let f = DestinationFixture(["A": 2, "B": 1, "C": 0])
        f.setConnections("B", active: 0, inactive: 100)
        f.setConnections("A", active: 0, inactive: 300)
        var wlc = make(f)
        #expect(f.picks(&wlc, 1) == seq("B"))

        let g = DestinationFixture(["A": 0, "B": 1])
        g.setConnections("B", active: 0, inactive: 1000)
        var wlc2 = make(g)
        #expect(g.picks(&wlc2, 1) == seq("B"))

        let zero = DestinationFixture(["A": 0, "B": 0])
        var wlc3 = make(zero)
        #expect(zero.picks(&wlc3, 1) == seq("-"))
        let empty = DestinationFixture()
        var wlc4 = make(empty)
        #expect(wlc4.schedule(empty.list, context: DestinationFixture.context) == nil)
    }

    // OVERLOAD is skipped both for the first candidate and later. List C (over, idle), B (1000
    // inactive), A (over, idle), all weight 1 → B. All overloaded → nil.
    @Test func overloadedSkipped() {
        let f = DestinationFixture(["A": 1, "B": 1, "C": 1])
        f.setOverloaded("C", true)
        f.setOverloaded("A", true)
        f.setConnections("B", active: 0, inactive: 1000)
        var wlc = make(f)
        #expect(f.picks(&wlc, 2) == seq("B B"))
        f.setOverloaded("B", true)
        #expect(f.picks(&wlc, 1) == seq("-"))
    }

    // Weight edit mid-sequence. As in the golden sequence, 4 picks B A A A leave B 1, A 3.
    // Set A's weight to 1; B/A before each pick (× 256):
    //   1/3: 256 × 1 > 768 × 1? no → B.   2/3: 512 > 768? no → B.   3/3: tie → B.
    //   4/3: 1024 > 768 → A.              4/4: tie → B.
    @Test func weightEditMidSequence() {
        let f = DestinationFixture(["A": 3, "B": 1])
        var wlc = make(f)
        #expect(f.picksOpening(&wlc, 4) == seq("B A A A"))
        f.setWeight("A", 1)
        #expect(f.picksOpening(&wlc, 5) == seq("B B B A B"))
    }

    // The products are 64-bit, as the kernel's (__s64) casts make them. List B (w 1, active
    // 100000 = 25 600 000), A (w 100, active 200000 = 51 200 000): 25 600 000 × 100 =
    // 2 560 000 000 > 51 200 000 × 1 → A. In 32-bit arithmetic the left side would wrap
    // negative and B would stay.
    @Test func productsAreSixtyFourBit() {
        let f = DestinationFixture(["A": 100, "B": 1])
        f.setConnections("B", active: 100_000)
        f.setConnections("A", active: 200_000)
        var wlc = make(f)
        #expect(f.picks(&wlc, 1) == seq("A"))
    }
}
