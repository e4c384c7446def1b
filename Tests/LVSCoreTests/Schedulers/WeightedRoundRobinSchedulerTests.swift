import Testing
import LVSCore

/// §2 wrr, worked by hand. Notation: list positions head first; di = gcd of weights > 0,
/// mw = max − (di − 1), cw starts at mw. A pick scans from after the cursor for the first
/// non-overloaded server with weight ≥ cw; at the end of the list cw −= di (≤ 0 → back to mw)
/// and the scan continues from the head.
@Suite struct WeightedRoundRobinSchedulerTests {
    func make(_ f: DestinationFixture) -> WeightedRoundRobinScheduler { WeightedRoundRobinScheduler(destinations: f.list) }

    // A=3, B=2, C=1 added A, B, C → list C1 B2 A3; di 1, mw 3, cw 3.
    //   1: C,B < 3, A ≥ 3 → A.         2: end, cw 2: C < 2, B → B.      3: A ≥ 2 → A.
    //   4: end, cw 1: C → C.           5: B → B.                        6: A → A.
    //   7: end, cw 0 → 3: C, B no, A → A (cycle repeats from pick 1).
    // One cycle is A B A C B A.
    @Test func goldenCycleThreeTwoOne() {
        let f = DestinationFixture(["A": 3, "B": 2, "C": 1])
        #expect(f.listNames == seq("C B A"))
        var wrr = make(f)
        #expect(wrr.gcdWeight == 1)
        #expect(wrr.maxWeight == 3)
        #expect(wrr.currentWeight == 3)
        #expect(f.picks(&wrr, 12) == seq("A B A C B A A B A C B A"))
    }

    // Over 600 picks (100 cycles of 6) the split is exactly 300/200/100.
    @Test func exactProportionsOverSixHundredPicks() {
        let f = DestinationFixture(["A": 3, "B": 2, "C": 1])
        var wrr = make(f)
        let picks = f.picks(&wrr, 600)
        #expect(picks.filter { $0 == "A" }.count == 300)
        #expect(picks.filter { $0 == "B" }.count == 200)
        #expect(picks.filter { $0 == "C" }.count == 100)
    }

    // A=2, B=1 → list B1 A2; di 1, mw 2, cw 2:
    //   A (cw 2); end → cw 1, B; A; end → cw 0 → 2 (restart), A; end → cw 1, B; A ...
    // A=4, B=2 → list B2 A4; di 2, mw 4 − 1 = 3, cw 3:
    //   A (4 ≥ 3); end → cw 1, B (2 ≥ 1); A; end → cw −1 → 3, A; end → cw 1, B; A ...
    // Both give A B A A B A: the gcd scales the weights away.
    @Test func gcdGreaterThanOneBehavesLikeReducedWeights() {
        let reduced = DestinationFixture(["A": 2, "B": 1])
        var w1 = make(reduced)
        let scaled = DestinationFixture(["A": 4, "B": 2])
        var w2 = make(scaled)
        #expect(w2.gcdWeight == 2)
        #expect(w2.maxWeight == 3)
        let expected = seq("A B A A B A A B A")
        #expect(reduced.picks(&w1, 9) == expected)
        #expect(scaled.picks(&w2, 9) == expected)
    }

    // Equal weights degrade to round robin in list order: C B A C B A.
    @Test func equalWeightsAreRoundRobin() {
        let f = DestinationFixture(["A": 5, "B": 5, "C": 5])
        var wrr = make(f)
        #expect(wrr.gcdWeight == 5)
        #expect(wrr.maxWeight == 1)
        #expect(f.picks(&wrr, 6) == seq("C B A C B A"))
    }

    // A=2, B=0, C=1 → list C1 B0 A2; di 1, mw 2, cw 2:
    //   A; end → cw 1: C; B (0 < 1) skipped, A; end → cw 0 → 2: A; end → cw 1: C; A ...
    // B never appears because 0 ≥ cw is false for cw ≥ 1.
    @Test func weightZeroNeverChosen() {
        let f = DestinationFixture(["A": 2, "B": 0, "C": 1])
        var wrr = make(f)
        #expect(f.picks(&wrr, 6) == seq("A C A A C A"))
        let many = f.picks(&wrr, 300)
        #expect(!many.contains("B"))
        #expect(many.filter { $0 == "A" }.count == 200)
    }

    // All weights 0 → mw = 0 → nil at once, every time.
    @Test func allWeightsZeroGivesNil() {
        let f = DestinationFixture(["A": 0, "B": 0])
        var wrr = make(f)
        #expect(wrr.maxWeight == 0)
        #expect(f.picks(&wrr, 3) == seq("- - -"))
        let empty = DestinationFixture()
        var wrrEmpty = make(empty)
        #expect(wrrEmpty.schedule(empty.list, context: DestinationFixture.context) == nil)
    }

    // A=3 overloaded, B=2, C=1 → list C1 B2 A3(over); mw stays 3 (overload does not change it):
    //   1: C,B < 3, A over; end → cw 2: C no, B → B.   2: A over; end → cw 1: C.   3: B.
    //   4: A over; end → cw 0 → 3 (restart), C,B,A no; end → cw 2: C no, B → B.   5: … C.  6: B.
    // Steady B C B: A is skipped, B:C stays 2:1.
    @Test func overloadedSkipped() {
        let f = DestinationFixture(["A": 3, "B": 2, "C": 1])
        f.setOverloaded("A", true)
        var wrr = make(f)
        #expect(f.picks(&wrr, 9) == seq("B C B B C B B C B"))
    }

    // Everything overloaded → nil and no endless loop, from the head (the first full pass at
    // cw 1 ends it) and from mid-list (the stop marker ends the last pass at the cursor).
    @Test func allOverloadedGivesNil() {
        let f = DestinationFixture(["A": 3, "B": 2, "C": 1])
        var fromHead = make(f)
        for name in ["A", "B", "C"] { f.setOverloaded(name, true) }
        #expect(f.picks(&fromHead, 2) == seq("- -"))

        let g = DestinationFixture(["A": 3, "B": 2, "C": 1])
        var midList = make(g)
        #expect(g.picks(&midList, 4) == seq("A B A C"))
        for name in ["A", "B", "C"] { g.setOverloaded(name, true) }
        #expect(g.picks(&midList, 3) == seq("- - -"))
        for name in ["A", "B", "C"] { g.setOverloaded(name, false) }
        #expect(g.picks(&midList, 1).count == 1)
        #expect(g.picks(&midList, 6).allSatisfy { $0 != "-" })
    }

    // Weight edit with a gcd change (dest_changed: cursor → head, cw rounded to the new gcd).
    // A=3, B=2, C=2 → list C2 B2 A3; di 1, mw 3, cw 3. Picks: A (cw 3); end → cw 2, C.
    // Edit A to 4: weights 2,2,4 → di 2, mw 4 − 1 = 3; cw 2 is ≤ mw and ≠ 0, di > 1 →
    // cw = (2/2)·2 + 1 = 3; cursor = head. Then:
    //   A (4 ≥ 3); end → cw 1: C; B; A; end → cw −1 → 3: A; end → cw 1: C; B; A; …
    // (Without the cw rounding, cw 2 would have picked C first.)
    @Test func weightEditRoundsCurrentWeightToGCD() {
        let f = DestinationFixture(["A": 3, "B": 2, "C": 2])
        var wrr = make(f)
        #expect(f.picks(&wrr, 2) == seq("A C"))
        #expect(wrr.currentWeight == 2)
        f.setWeight("A", 4)
        wrr.destinationUpdated(f.list)
        #expect(wrr.cursor == -1)
        #expect(wrr.gcdWeight == 2)
        #expect(wrr.maxWeight == 3)
        #expect(wrr.currentWeight == 3)
        #expect(f.picks(&wrr, 9) == seq("A C B A A C B A A"))
    }

    // Weight edit lowering the maximum below cw: cw = mw. A=3, B=2, C=1 → pick A (cw 3).
    // Edit A to 1: weights C1 B2 A1 → di 1, mw 2; cw 3 > 2 → cw 2; cursor head:
    //   C < 2, B → B; A < 2, end → cw 1: C; B; A; end → cw 0 → 2: C no, B; …
    @Test func weightEditBelowCurrentWeightResetsToMax() {
        let f = DestinationFixture(["A": 3, "B": 2, "C": 1])
        var wrr = make(f)
        #expect(f.picks(&wrr, 1) == seq("A"))
        f.setWeight("A", 1)
        wrr.destinationUpdated(f.list)
        #expect(wrr.currentWeight == 2)
        #expect(f.picks(&wrr, 8) == seq("B C B A B C B A"))
    }

    // Weight edit that keeps cw (di 1, cw ≤ mw): only the cursor moves back to the head.
    // A=3, B=2, C=1: picks A, B (cw 2, cursor B). Edit C to 2: weights C2 B2 A3 → di 1,
    // mw 3, cw stays 2; from the head: C (2 ≥ 2), B, A; end → cw 1: C, B, A; end → cw 0 → 3: A.
    @Test func weightEditKeepsCurrentWeight() {
        let f = DestinationFixture(["A": 3, "B": 2, "C": 1])
        var wrr = make(f)
        #expect(f.picks(&wrr, 2) == seq("A B"))
        f.setWeight("C", 2)
        wrr.destinationUpdated(f.list)
        #expect(wrr.currentWeight == 2)
        #expect(wrr.cursor == -1)
        #expect(f.picks(&wrr, 7) == seq("C B A C B A A"))
    }

    // From all-zero (mw 0, cw 0) an edit to a positive weight takes the `cw == 0` branch:
    // A=2, B=0 → di 2 (the only positive weight), mw = 2 − (2 − 1) = 1, cw = mw = 1.
    @Test func weightEditFromAllZero() {
        let f = DestinationFixture(["A": 0, "B": 0])
        var wrr = make(f)
        #expect(wrr.currentWeight == 0)
        f.setWeight("A", 2)
        wrr.destinationUpdated(f.list)
        #expect(wrr.gcdWeight == 2)
        #expect(wrr.maxWeight == 1)
        #expect(wrr.currentWeight == 1)
        #expect(f.picks(&wrr, 3) == seq("A A A"))
    }

    // Adding a server mid-sequence is a dest_changed too: A=3, B=2, C=1, pick A (cw 3); add
    // D=3 → list D3 C1 B2 A3, di 1, mw 3, cw 3 kept, cursor head:
    //   D; C,B no, A; end → cw 2: D, B, A; end → cw 1: D, C, B, A.
    @Test func addMidSequence() {
        let f = DestinationFixture(["A": 3, "B": 2, "C": 1])
        var wrr = make(f)
        #expect(f.picks(&wrr, 1) == seq("A"))
        f.add("D", weight: 3)
        wrr.destinationAdded(f.list)
        #expect(f.picks(&wrr, 9) == seq("D A D B A D C B A"))
    }

    // Removing a server: C B A with weights 1 2 3, pick A, B (cw 2); remove A → list C1 B2,
    // di 1, mw 2, cw 2 kept, cursor head: B; end → cw 1: C, B; end → cw 0 → 2: B.
    @Test func removeMidSequence() {
        let f = DestinationFixture(["A": 3, "B": 2, "C": 1])
        var wrr = make(f)
        #expect(f.picks(&wrr, 2) == seq("A B"))
        wrr.destinationRemoved(at: f.remove("A"), f.list)
        #expect(wrr.maxWeight == 2)
        #expect(f.picks(&wrr, 4) == seq("B C B B"))
    }
}
