import Testing
import LVSCore

/// §2 fo, worked by hand: the highest weight among servers that are not overloaded, with hw
/// starting at 0 and a strictly higher weight needed to replace the candidate, so ties go to
/// the earliest in list order and weight 0 is never chosen. Servers added A, B, C give the
/// list C, B, A (§1.1).
@Suite struct WeightedFailoverSchedulerTests {
    func make(_ f: DestinationFixture) -> WeightedFailoverScheduler { WeightedFailoverScheduler(destinations: f.list) }

    // List C 2, B 3, A 1 → B every time, however many connections it has.
    @Test func highestWeightTakesEverything() {
        let f = DestinationFixture(["A": 1, "B": 3, "C": 2])
        #expect(f.listNames == seq("C B A"))
        f.setConnections("B", active: 1000, inactive: 5000)
        var fo = make(f)
        #expect(f.picksOpening(&fo, 4) == seq("B B B B"))
    }

    // List C 1, B 5, A 5: C (1 > 0), B (5 > 1), A (5 > 5? no) → B, the earlier of the tie.
    @Test func tiesGoToEarliestInListOrder() {
        let f = DestinationFixture(["A": 5, "B": 5, "C": 1])
        var fo = make(f)
        #expect(f.picks(&fo, 2) == seq("B B"))
    }

    // All weights 0 → nil (0 > 0 is false); an empty list → nil.
    @Test func weightZeroNeverChosen() {
        let f = DestinationFixture(["A": 0, "B": 0])
        var fo = make(f)
        #expect(f.picks(&fo, 1) == seq("-"))
        let empty = DestinationFixture()
        var foEmpty = make(empty)
        #expect(foEmpty.schedule(empty.list, context: DestinationFixture.context) == nil)
    }

    // Failing over by edits between picks, list C 2, B 3, A 1:
    //   B, B; B's weight → 1: C (2); C overloaded: B (1) ties A (1) → B; B's weight → 0: A;
    //   A overloaded: nothing → nil; C back (OVERLOAD cleared): C.
    @Test func failoverMidSequence() {
        let f = DestinationFixture(["A": 1, "B": 3, "C": 2])
        var fo = make(f)
        #expect(f.picks(&fo, 2) == seq("B B"))
        f.setWeight("B", 1)
        #expect(f.picks(&fo, 2) == seq("C C"))
        f.setOverloaded("C", true)
        #expect(f.picks(&fo, 1) == seq("B"))
        f.setWeight("B", 0)
        #expect(f.picks(&fo, 1) == seq("A"))
        f.setOverloaded("A", true)
        #expect(f.picks(&fo, 1) == seq("-"))
        f.setOverloaded("C", false)
        #expect(f.picks(&fo, 1) == seq("C"))
    }
}
