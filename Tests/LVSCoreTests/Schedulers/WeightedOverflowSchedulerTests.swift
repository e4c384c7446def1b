import Testing
import LVSCore

/// §2 ovf, worked by hand: a server is skipped when it is overloaded, has weight 0, or has
/// active > weight; among the rest the highest weight wins (strictly higher replaces, so ties
/// go to the earliest in list order). Servers added A, B give the list B, A (§1.1).
/// `picksOpening` adds one active connection to each server picked.
@Suite struct WeightedOverflowSchedulerTests {
    func make(_ f: DestinationFixture) -> WeightedOverflowScheduler { WeightedOverflowScheduler(destinations: f.list) }

    // The off-by-one: A weight 2, B weight 3 → list B A, idle. B is picked while its active
    // count is 0, 1, 2 and 3 (3 > 3 is false), so it takes 4 = weight + 1; then A at 0, 1, 2
    // takes 3; then both exceed their weight → nil.
    @Test func eachServerTakesWeightPlusOne() {
        let f = DestinationFixture(["A": 2, "B": 3])
        #expect(f.listNames == seq("B A"))
        var ovf = make(f)
        #expect(f.picksOpening(&ovf, 8) == seq("B B B B A A A -"))
        #expect(f.activeConnections("B") == 4)
        #expect(f.activeConnections("A") == 3)
    }

    // Equal weights: the earlier in list order fills first. A 2, B 2 → list B A: B ×3, A ×3.
    @Test func tiesGoToEarliestInListOrder() {
        let f = DestinationFixture(["A": 2, "B": 2])
        var ovf = make(f)
        #expect(f.picksOpening(&ovf, 7) == seq("B B B A A A -"))
    }

    // List C (w 0, idle: 0 > 0 is false, but weight 0 skips it), B (overloaded, w 9),
    // A (w 1, 100 inactive: ignored) → A.
    @Test func weightZeroOverloadedSkippedInactiveIgnored() {
        let f = DestinationFixture(["A": 1, "B": 9, "C": 0])
        f.setOverloaded("B", true)
        f.setConnections("A", active: 0, inactive: 100)
        var ovf = make(f)
        #expect(f.picks(&ovf, 1) == seq("A"))
        let empty = DestinationFixture()
        var ovfEmpty = make(empty)
        #expect(ovfEmpty.schedule(empty.list, context: DestinationFixture.context) == nil)
    }

    // Edits between picks, A 2, B 3 → list B A. B fills: B ×4 (active 4). Two of B's
    // connections close (B 2): B (3), B (4), then A (0). Raise A's weight to 5 (A active 1):
    // A at 1, 2, 3, 4, 5 → five picks; then A 6 > 5 and B 4 > 3 → nil.
    @Test func editsMidSequence() {
        let f = DestinationFixture(["A": 2, "B": 3])
        var ovf = make(f)
        #expect(f.picksOpening(&ovf, 4) == seq("B B B B"))
        f.setConnections("B", active: 2)
        #expect(f.picksOpening(&ovf, 3) == seq("B B A"))
        f.setWeight("A", 5)
        #expect(f.picksOpening(&ovf, 6) == seq("A A A A A -"))
    }
}
