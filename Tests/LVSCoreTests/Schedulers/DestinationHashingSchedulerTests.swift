import Testing
import LVSCore

/// §2 dh. The bucket is `hash_32(daddr, 8)`; Python (`((v * 0x61C88647) & 0xffffffff) >> 24`)
/// gives 10.0.0.100 → 248, 10.0.0.101 → 90, 10.0.0.102 → 187, 198.51.100.7 → 171. Buckets are
/// dealt one per server in list order, so with three servers bucket b → position b mod 3.
@Suite struct DestinationHashingSchedulerTests {
    static let vips = [IPv4Address(10, 0, 0, 100), IPv4Address(10, 0, 0, 101), IPv4Address(10, 0, 0, 102),
                       IPv4Address(198, 51, 100, 7)]

    func picks(_ f: DestinationFixture, _ dh: inout DestinationHashingScheduler) -> [String] {
        Self.vips.map { f.name(at: dh.schedule(f.list, context: DestinationFixture.context(client: IPv4Address(192, 0, 2, 1), vip: $0))) }
    }

    @Test func bucketsMatchPython() {
        #expect(Self.vips.map { DestinationHashingScheduler.bucket(address: $0) } == [248, 90, 187, 171])
    }

    // List C B A: 248 mod 3 = 2 → A, 90 → 0 C, 187 → 1 B, 171 → 0 C. Weights are ignored by the
    // table (A=5 changes nothing) and the client does not matter.
    @Test func golden() {
        let f = DestinationFixture(["A": 5, "B": 1, "C": 1])
        var dh = DestinationHashingScheduler(destinations: f.list)
        #expect(dh.buckets.prefix(6) == [0, 1, 2, 0, 1, 2])
        #expect(picks(f, &dh) == seq("A C B C"))
        let other = DestinationFixture.context(client: IPv4Address(203, 0, 113, 9), port: 5555, vip: Self.vips[0])
        #expect(f.name(at: dh.schedule(f.list, context: other)) == "A")
    }

    // Weight 0, overload and unavailability give no server; there is no fallback.
    @Test func unusableServerGivesNil() {
        let f = DestinationFixture(["A": 1, "B": 1, "C": 1])
        var dh = DestinationHashingScheduler(destinations: f.list)
        f.setWeight("A", 0)
        f.setOverloaded("B", true)
        #expect(picks(f, &dh) == seq("- C - C"))
        f.setWeight("A", 1)
        f.setOverloaded("B", false)
        f.setAvailable("C", false)
        #expect(picks(f, &dh) == seq("A - B -"))
    }

    // An edit has no hook (weights do not enter the table); add and remove re-deal it.
    @Test func addAndRemove() {
        let f = DestinationFixture(["A": 1, "B": 1, "C": 1])
        var dh = DestinationHashingScheduler(destinations: f.list)
        f.add("D", weight: 1)                  // list D C B A: 248→0 D, 90→2 B, 187→3 A, 171→3 A
        dh.destinationAdded(f.list)
        #expect(picks(f, &dh) == seq("D B A A"))
        dh.destinationRemoved(at: f.remove("C"), f.list)  // list D B A: 248→2 A, 90→0 D, 187→1 B, 171→0 D
        #expect(picks(f, &dh) == seq("A D B D"))
        let empty = DestinationFixture()
        var none = DestinationHashingScheduler(destinations: empty.list)
        #expect(none.schedule(empty.list, context: DestinationFixture.context) == nil)
    }

    @Test func registry() {
        let f = DestinationFixture(["A": 1])
        var instance = SchedulerRegistry.make("dh", destinations: f.list)
        #expect(instance?.name == "dh")
        #expect(instance?.schedule(f.list, context: DestinationFixture.context) == 0)
    }
}
