import Testing
import LVSCore

/// §2 lblcr, worked by hand. Each destination address keeps a set of servers, newest first.
/// With an entry: pick the weighted-least member (skipping OVERLOAD, weight 0, unavailable);
/// if the set has > 1 member and was last changed more than `expiration` ago, drop its most
/// loaded member; use the pick unless it is missing or lblc-overloaded (active > weight while
/// some server is below half its weight), else wlc over the service and add the result.
@Suite struct LocalityBasedLeastConnectionReplicationSchedulerTests {
    static let vip = IPv4Address(10, 0, 0, 100)
    static let day: UInt64 = 86400

    func pick(_ f: DestinationFixture, _ s: inout LocalityBasedLeastConnectionReplicationScheduler,
              _ seconds: UInt64 = 0, vip: IPv4Address = vip) -> String {
        f.name(at: s.schedule(f.list, context: DestinationFixture.context(client: IPv4Address(192, 0, 2, 1), vip: vip,
                                                                          seconds: seconds)))
    }

    func members(_ f: DestinationFixture, _ s: LocalityBasedLeastConnectionReplicationScheduler) -> [String] {
        (s.cachedSet(for: Self.vip) ?? []).map { slot in f.names[Int(slot)] }
    }

    // List C B A, idle: wlc gives C and the set is {C}. C at 2 active (> weight 1) with A idle
    // (0 < 1/2) is overloaded: wlc over the service (C 512, B 0, A 0 → B) and B joins at the
    // head: {B, C}. The next pick is the least loaded member, B.
    @Test func setGrowsWhenItsServersAreOverloaded() {
        let f = DestinationFixture(["A": 1, "B": 1, "C": 1])
        var s = LocalityBasedLeastConnectionReplicationScheduler(destinations: f.list)
        #expect(pick(f, &s) == "C")
        #expect(members(f, s) == ["C"])
        f.setConnections("C", active: 2)
        #expect(pick(f, &s, 10) == "B")
        #expect(members(f, s) == ["B", "C"])
        f.setConnections("B", active: 1)
        #expect(pick(f, &s, 20) == "B")      // B 256 < C 512; B not overloaded (1 > 1 is false)
        // Members beat a lighter non-member: A (0) is not in the set and is not chosen.
        #expect(members(f, s) == ["B", "C"])
        #expect(s.cachedEntries == 1)
    }

    // After `expiration` without a change, a set of two loses its most loaded member, once per
    // expiration period (the erase itself counts as a change). Calls every hour keep the entry
    // alive through the collector's 24 h full checks.
    @Test func setShrinksAfterExpiration() {
        let f = DestinationFixture(["A": 1, "B": 1, "C": 1])
        var s = LocalityBasedLeastConnectionReplicationScheduler(destinations: f.list)
        #expect(pick(f, &s) == "C")
        f.setConnections("C", active: 2)
        #expect(pick(f, &s, 0) == "B")       // {B, C}, last modified at 0
        for hour in stride(from: 3600 as UInt64, through: Self.day, by: 3600) {
            #expect(pick(f, &s, hour) == "B")
        }
        #expect(members(f, s) == ["B", "C"])  // at exactly 24 h: not yet (now > lastmod + exp)
        #expect(pick(f, &s, Self.day + 1) == "B")
        #expect(members(f, s) == ["B"])       // C (512 vs 0) dropped
    }

    // When the least and the most loaded member are the same (equal loads: both rules keep the
    // first member), the kernel drops it from the set yet still returns it.
    @Test func droppedMemberIsStillReturned() {
        let f = DestinationFixture(["A": 1, "B": 1, "C": 1])
        var s = LocalityBasedLeastConnectionReplicationScheduler(destinations: f.list)
        #expect(pick(f, &s) == "C")
        f.setConnections("C", active: 2)
        #expect(pick(f, &s, 0) == "B")       // {B, C}
        f.setConnections("C", active: 0)
        for hour in stride(from: 3600 as UInt64, through: Self.day, by: 3600) { _ = pick(f, &s, hour) }
        #expect(members(f, s) == ["B", "C"])
        #expect(pick(f, &s, Self.day + 1) == "B")
        #expect(members(f, s) == ["C"])
    }

    // Members that were removed from the service, quiesced or flagged are skipped by the pick.
    @Test func unusableMembersAreSkipped() {
        let f = DestinationFixture(["A": 1, "B": 1, "C": 1])
        var s = LocalityBasedLeastConnectionReplicationScheduler(destinations: f.list)
        #expect(pick(f, &s) == "C")
        f.setConnections("C", active: 2)
        #expect(pick(f, &s) == "B")          // {B, C}
        f.setConnections("C", active: 0)
        f.setConnections("B", active: 1)
        #expect(pick(f, &s) == "C")          // C 0 < B 256
        s.destinationRemoved(at: f.remove("C"), f.list)
        #expect(pick(f, &s) == "B")          // C gone: B is the only usable member
        f.setWeight("B", 0)
        #expect(pick(f, &s) == "A")          // no usable member: wlc over B0 A1 → A joins
        #expect(members(f, s) == ["A", "B", "C"])
        f.setOverloaded("A", true)
        f.setWeight("B", 1)
        #expect(pick(f, &s) == "B")
    }

    // An unused entry goes at the collector's full check once 24 h have passed (see lblc).
    @Test func entryExpires() {
        let f = DestinationFixture(["A": 1, "B": 1, "C": 1])
        var kept = LocalityBasedLeastConnectionReplicationScheduler(destinations: f.list)
        #expect(pick(f, &kept) == "C")
        var dropped = kept
        f.setConnections("C", active: 1)
        #expect(pick(f, &kept, Self.day - 1) == "C")
        #expect(pick(f, &dropped, Self.day) == "B")
        #expect(members(f, dropped) == ["B"])
    }

    @Test func noServer() {
        let f = DestinationFixture(["A": 0])
        var s = LocalityBasedLeastConnectionReplicationScheduler(destinations: f.list)
        #expect(pick(f, &s) == "-")
        #expect(s.cachedEntries == 0)
    }

    @Test func registry() {
        let f = DestinationFixture(["A": 1])
        var instance = SchedulerRegistry.make("lblcr", destinations: f.list)
        #expect(instance?.name == "lblcr")
        #expect(instance?.schedule(f.list, context: DestinationFixture.context) == 0)
    }
}
