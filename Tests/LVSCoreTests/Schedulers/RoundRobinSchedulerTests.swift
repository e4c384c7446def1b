import Testing
import LVSCore

/// §2 rr: the cursor starts at the list head; each pick scans from the entry after the cursor,
/// wraps, and stops at the cursor; the first entry with weight > 0 and no OVERLOAD wins.
/// Servers are added A, B, C, so the kernel list is C, B, A (§1.1).
@Suite struct RoundRobinSchedulerTests {
    func make(_ fixture: DestinationFixture) -> RoundRobinScheduler { RoundRobinScheduler(destinations: fixture.list) }

    // Added A, B, C → list C, B, A; from the head the scan goes C, B, A and wraps.
    @Test func goldenSequenceOverThreeServers() {
        let f = DestinationFixture(["A": 1, "B": 1, "C": 1])
        #expect(f.listNames == seq("C B A"))
        var rr = make(f)
        #expect(f.picks(&rr, 7) == seq("C B A C B A C"))
    }

    // Weights above zero are ignored: 5:1:3 still alternates one by one.
    @Test func weightsAreIgnored() {
        let f = DestinationFixture(["A": 5, "B": 1, "C": 3])
        var rr = make(f)
        #expect(f.picks(&rr, 6) == seq("C B A C B A"))
    }

    // Weight 0 (quiesced) is skipped: C, A, C, A.
    @Test func weightZeroSkipped() {
        let f = DestinationFixture(["A": 1, "B": 0, "C": 1])
        var rr = make(f)
        #expect(f.picks(&rr, 4) == seq("C A C A"))
    }

    // OVERLOAD is skipped the same way, and picked again once cleared: the cursor is A (the
    // tail), so the scan wraps to the head: C, B, A.
    @Test func overloadedSkipped() {
        let f = DestinationFixture(["A": 1, "B": 1, "C": 1])
        f.setOverloaded("B", true)
        var rr = make(f)
        #expect(f.picks(&rr, 4) == seq("C A C A"))
        f.setOverloaded("B", false)
        #expect(f.picks(&rr, 3) == seq("C B A"))
    }

    // Nothing eligible → nil ("no destination available"), from the head and from mid-list;
    // the cursor does not move, so the lap resumes where it was once a server returns.
    @Test func allIneligibleGivesNil() {
        let f = DestinationFixture(["A": 1, "B": 1, "C": 1])
        var rr = make(f)
        #expect(f.picks(&rr, 2) == seq("C B"))
        f.setWeight("A", 0)
        f.setWeight("B", 0)
        f.setOverloaded("C", true)
        #expect(f.picks(&rr, 2) == seq("- -"))
        #expect(rr.cursor == 1)
        f.setWeight("A", 1)
        f.setWeight("B", 1)
        f.setOverloaded("C", false)
        #expect(f.picks(&rr, 3) == seq("A C B"))

        let empty = DestinationFixture()
        var rrEmpty = make(empty)
        #expect(rrEmpty.schedule(empty.list, context: DestinationFixture.context) == nil)
        let zero = DestinationFixture(["A": 0])
        var rrZero = make(zero)
        #expect(rrZero.schedule(zero.list, context: DestinationFixture.context) == nil)
    }

    // A single server is picked every time: the scan from after it wraps back to it.
    @Test func singleServer() {
        let f = DestinationFixture(["A": 1])
        var rr = make(f)
        #expect(f.picks(&rr, 3) == seq("A A A"))
    }

    // Deleting the cursor's server moves the cursor to its predecessor (§2 rr del_dest):
    // after C, B the cursor is B; delete B → cursor C; the next scan starts after C: A.
    @Test func deleteCursorServerMidSequence() {
        let f = DestinationFixture(["A": 1, "B": 1, "C": 1])
        var rr = make(f)
        #expect(f.picks(&rr, 2) == seq("C B"))
        let position = f.remove("B")
        rr.destinationRemoved(at: position, f.list)
        #expect(f.listNames == seq("C A"))
        #expect(f.picks(&rr, 4) == seq("A C A C"))
    }

    // Deleting the cursor's server at the head moves the cursor to the list head: after C,
    // delete C → the next scan starts at the first entry, B.
    @Test func deleteCursorServerAtHead() {
        let f = DestinationFixture(["A": 1, "B": 1, "C": 1])
        var rr = make(f)
        #expect(f.picks(&rr, 1) == seq("C"))
        rr.destinationRemoved(at: f.remove("C"), f.list)
        #expect(f.picks(&rr, 3) == seq("B A B"))
    }

    // Deleting another server: the cursor stays on its server. After C (cursor C), delete A
    // (behind it) → B, C, B; after C, B (cursor B), delete C (before it) → A, B, A.
    @Test func deleteOtherServer() {
        let f = DestinationFixture(["A": 1, "B": 1, "C": 1])
        var rr = make(f)
        #expect(f.picks(&rr, 1) == seq("C"))
        rr.destinationRemoved(at: f.remove("A"), f.list)
        #expect(f.picks(&rr, 3) == seq("B C B"))

        let g = DestinationFixture(["A": 1, "B": 1, "C": 1])
        var rr2 = make(g)
        #expect(g.picks(&rr2, 2) == seq("C B"))
        rr2.destinationRemoved(at: g.remove("C"), g.list)
        #expect(g.picks(&rr2, 3) == seq("A B A"))
    }

    // Two deletions in a row: after C, B (cursor B) delete B (cursor → C) then C (cursor →
    // head) → only A remains and is picked.
    @Test func deleteTwice() {
        let f = DestinationFixture(["A": 1, "B": 1, "C": 1])
        var rr = make(f)
        #expect(f.picks(&rr, 2) == seq("C B"))
        rr.destinationRemoved(at: f.remove("B"), f.list)
        rr.destinationRemoved(at: f.remove("C"), f.list)
        #expect(f.picks(&rr, 2) == seq("A A"))
    }

    // Adding mid-sequence puts the new server at the head; the cursor stays on its server.
    // After C, B (cursor B) add D → list D, C, B, A: next A, then the wrap reaches D first.
    @Test func addMidSequence() {
        let f = DestinationFixture(["A": 1, "B": 1, "C": 1])
        var rr = make(f)
        #expect(f.picks(&rr, 2) == seq("C B"))
        f.add("D", weight: 1)
        rr.destinationAdded(f.list)
        #expect(f.listNames == seq("D C B A"))
        #expect(f.picks(&rr, 5) == seq("A D C B A"))
    }

    // Adding before any pick: the cursor is the list head, so the new head server goes first.
    @Test func addBeforeFirstPick() {
        let f = DestinationFixture(["A": 1, "B": 1])
        var rr = make(f)
        f.add("C", weight: 1)
        rr.destinationAdded(f.list)
        #expect(f.picks(&rr, 4) == seq("C B A C"))
    }
}
