import Testing
import LVSCore

/// §2 lc, worked by hand: among servers that are not overloaded and have a non-zero weight, the
/// lowest overhead (active × 256 + inactive, §1.2) wins; a strictly lower overhead is needed to
/// replace the candidate, so ties go to the earliest in list order. Servers added A, B, C give
/// the list C, B, A (§1.1). `picksOpening` adds one active connection to each server picked.
@Suite struct LeastConnectionSchedulerTests {
    func make(_ f: DestinationFixture) -> LeastConnectionScheduler { LeastConnectionScheduler(destinations: f.list) }

    // List C B A with weights 3, 5, 1 (ignored). Start: C active 1 (256), B inactive 300 (300),
    // A inactive 10 (10). Overheads before each pick, C/B/A:
    //   1: 256/300/10  → A (A 266).   2: 256/300/266 → C (C 512).   3: 512/300/266 → A (A 522).
    //   4: 512/300/522 → B (B 556).   5: 512/556/522 → C (C 768).   6: 768/556/522 → A (A 778).
    @Test func goldenSequenceUnderLoad() {
        let f = DestinationFixture(["A": 1, "B": 5, "C": 3])
        #expect(f.listNames == seq("C B A"))
        f.setConnections("C", active: 1)
        f.setConnections("B", active: 0, inactive: 300)
        f.setConnections("A", active: 0, inactive: 10)
        var lc = make(f)
        #expect(f.picksOpening(&lc, 6) == seq("A C A B C A"))
    }

    // From zero, equal overheads go to the earliest in list order, so lc fills servers one by
    // one in list order: C, B, A, then all are at 256 and C is first again.
    @Test func tiesGoToEarliestInListOrder() {
        let f = DestinationFixture(["A": 1, "B": 1, "C": 1])
        var lc = make(f)
        #expect(f.picksOpening(&lc, 7) == seq("C B A C B A C"))

        // B and A tie at 10 below C's 11: B, the earlier of the two.
        let g = DestinationFixture(["A": 1, "B": 1, "C": 1])
        g.setConnections("C", active: 0, inactive: 11)
        g.setConnections("B", active: 0, inactive: 10)
        g.setConnections("A", active: 0, inactive: 10)
        var lc2 = make(g)
        #expect(g.picks(&lc2, 1) == seq("B"))
    }

    // An active connection weighs 256 inactive ones (the code's << 8; the comment's << 5 would
    // make it 32). List B A: B active 1 = 256; A inactive 255 → A; A inactive 256 → tie → B;
    // A inactive 100 (< 256, but > 32) → A.
    @Test func activeCountsAs256Inactive() {
        let f = DestinationFixture(["A": 1, "B": 1])
        f.setConnections("B", active: 1)
        var lc = make(f)
        f.setConnections("A", active: 0, inactive: 255)
        #expect(f.picks(&lc, 1) == seq("A"))
        f.setConnections("A", active: 0, inactive: 256)
        #expect(f.picks(&lc, 1) == seq("B"))
        f.setConnections("A", active: 0, inactive: 100)
        #expect(f.picks(&lc, 1) == seq("A"))
    }

    // List C B A: C weight 0 and B overloaded, both idle; A has 1000 → A, every time. With
    // nothing eligible (A overloaded too), or no server at all → nil.
    @Test func weightZeroAndOverloadedSkipped() {
        let f = DestinationFixture(["A": 1, "B": 1, "C": 0])
        f.setOverloaded("B", true)
        f.setConnections("A", active: 3, inactive: 232)
        var lc = make(f)
        #expect(f.picks(&lc, 3) == seq("A A A"))
        f.setOverloaded("A", true)
        #expect(f.picks(&lc, 1) == seq("-"))

        let empty = DestinationFixture()
        var lcEmpty = make(empty)
        #expect(lcEmpty.schedule(empty.list, context: DestinationFixture.context) == nil)
    }

    // Edits between picks. List C B A, all weight 1 and idle: C B A (each at 256).
    // Quiesce C (weight 0): B 256 ties A → B (512); A (512); tie → B (768); A (768).
    // Restore C (still 256): C (512); 512 < 768 → C (768); all at 768, tie → C (1024);
    // B 768 → B (1024); A 768 → A (1024); all at 1024, tie → C.
    @Test func weightEditMidSequence() {
        let f = DestinationFixture(["A": 1, "B": 1, "C": 1])
        var lc = make(f)
        #expect(f.picksOpening(&lc, 3) == seq("C B A"))
        f.setWeight("C", 0)
        #expect(f.picksOpening(&lc, 4) == seq("B A B A"))
        f.setWeight("C", 1)
        #expect(f.picksOpening(&lc, 6) == seq("C C C B A C"))
    }

    // Connections closing between picks: list B A, both active 2 (512), tie → B (768). Both of
    // A's connections end (A 0): A (256); 256 < 768 → A (512); 512 < 768 → A (768); now a tie
    // at 768 → B, the earlier.
    @Test func countsChangeMidSequence() {
        let f = DestinationFixture(["A": 1, "B": 1])
        f.setConnections("A", active: 2)
        f.setConnections("B", active: 2)
        var lc = make(f)
        #expect(f.picksOpening(&lc, 1) == seq("B"))
        f.setConnections("A", active: 0)
        #expect(f.picksOpening(&lc, 4) == seq("A A A B"))
    }
}
