import Testing
import LVSCore

/// §2 nq, worked by hand. Walking the list, skipping overloaded and weight-0 servers, the
/// first server with no active connection is taken at once; otherwise sed's rule applies:
/// overhead = active + 1, and a later server d replaces `least` only if
/// oh(least) × w(d) > oh(d) × w(least). Servers added A, B, C give the list C, B, A (§1.1).
/// `picksOpening` adds one active connection to each server picked.
@Suite struct NeverQueueSchedulerTests {
    func make(_ f: DestinationFixture) -> NeverQueueScheduler { NeverQueueScheduler(destinations: f.list) }

    // The first idle server in list order wins, even over a heavier idle one later in the list
    // and whatever its inactive count. List C (w 1, active 3) B (w 5, idle, 50 inactive)
    // A (w 10, idle) → B.
    @Test func firstIdleServerWins() {
        let f = DestinationFixture(["A": 10, "B": 5, "C": 1])
        f.setConnections("C", active: 3)
        f.setConnections("B", active: 0, inactive: 50)
        var nq = make(f)
        #expect(f.picks(&nq, 1) == seq("B"))
    }

    // No idle server: sed's rule. List C (w 1, active 1 → 2), B (w 2, active 3 → 4),
    // A (w 4, active 5 → 6): least C; B: 2 × 2 > 4 × 1? no; A: 2 × 4 = 8 > 6 × 1 → A.
    @Test func noIdleServerUsesShortestExpectedDelay() {
        let f = DestinationFixture(["A": 4, "B": 2, "C": 1])
        f.setConnections("C", active: 1)
        f.setConnections("B", active: 3)
        f.setConnections("A", active: 5)
        var nq = make(f)
        #expect(f.picks(&nq, 1) == seq("A"))
    }

    // A weight 2, B weight 1 → list B A, idle. B/A active before each pick:
    //   1: 0/0: B idle → B.                 2: 1/0: A idle → A.
    //   3: 1/1: oh 2/2: 2 × 2 > 2 × 1 → A.  4: 1/2: oh 2/3: 4 > 3 → A.
    //   5: 1/3: oh 2/4: 4 > 4? no → B.      6: 2/3: oh 3/4: 6 > 4 → A.
    //   7: 2/4: oh 3/5: 6 > 5 → A.          8: 2/5: oh 3/6: 6 > 6? no → B.
    // (sed would start with A: 1 × 2 > 1 × 1.)
    @Test func goldenSequence() {
        let f = DestinationFixture(["A": 2, "B": 1])
        var nq = make(f)
        #expect(f.picksOpening(&nq, 8) == seq("B A A A B A A B"))
    }

    // Equal expected delay keeps the earlier server: C (w 1, active 1), B (w 1, active 1) → C.
    @Test func tiesKeepEarliestInListOrder() {
        let f = DestinationFixture(["B": 1, "C": 1])
        f.setConnections("C", active: 1)
        f.setConnections("B", active: 1)
        var nq = make(f)
        #expect(f.picks(&nq, 1) == seq("C"))
    }

    // An idle server is still skipped when it has weight 0 or is overloaded: list C (w 0,
    // idle) B (overloaded, idle) A (w 1, active 7) → A. Nothing eligible → nil.
    @Test func weightZeroAndOverloadedSkipped() {
        let f = DestinationFixture(["A": 1, "B": 1, "C": 0])
        f.setOverloaded("B", true)
        f.setConnections("A", active: 7)
        var nq = make(f)
        #expect(f.picks(&nq, 2) == seq("A A"))
        f.setOverloaded("A", true)
        #expect(f.picks(&nq, 1) == seq("-"))
        let empty = DestinationFixture()
        var nqEmpty = make(empty)
        #expect(nqEmpty.schedule(empty.list, context: DestinationFixture.context) == nil)
    }

    // Counts change mid-sequence: the first 4 picks of the golden sequence (B A A A) leave
    // B 1, A 3. B's connection closes (B 0): B idle → B. Then B 1, A 3: oh 2/4: 2 × 2 > 4 × 1?
    // no → B. B 2, A 3: oh 3/4: 6 > 4 → A.
    @Test func countsChangeMidSequence() {
        let f = DestinationFixture(["A": 2, "B": 1])
        var nq = make(f)
        #expect(f.picksOpening(&nq, 4) == seq("B A A A"))
        f.setConnections("B", active: 0)
        #expect(f.picksOpening(&nq, 3) == seq("B B A"))
    }

    // Weight edit mid-sequence: B 1, A 1 after B A. Quiesce A (weight 0): only B → B, B.
    // Restore A's weight 2 (B 3, A 1): oh 4/2: 4 × 2 > 2 × 1 → A.
    @Test func weightEditMidSequence() {
        let f = DestinationFixture(["A": 2, "B": 1])
        var nq = make(f)
        #expect(f.picksOpening(&nq, 2) == seq("B A"))
        f.setWeight("A", 0)
        #expect(f.picksOpening(&nq, 2) == seq("B B"))
        f.setWeight("A", 2)
        #expect(f.picksOpening(&nq, 1) == seq("A"))
    }
}
