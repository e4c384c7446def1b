import Testing
import LVSCore

/// §2 lblc, worked by hand. The cache key is the packet's destination (the VIP here); the wlc
/// rule picks the first non-overloaded server with weight > 0 and replaces it only with a strictly
/// lower overhead/weight (overhead = active × 256 + inactive). Time is `context.now`; the kernel's
/// 60 s collector runs lazily, its clock starting at the first call.
@Suite struct LocalityBasedLeastConnectionSchedulerTests {
    static let vip = IPv4Address(10, 0, 0, 100)
    static func at(_ seconds: UInt64, vip: IPv4Address = vip) -> SchedulingContext {
        DestinationFixture.context(client: IPv4Address(192, 0, 2, 1), vip: vip, seconds: seconds)
    }

    func pick(_ f: DestinationFixture, _ s: inout LocalityBasedLeastConnectionScheduler, _ seconds: UInt64 = 0,
              vip: IPv4Address = vip) -> String {
        f.name(at: s.schedule(f.list, context: Self.at(seconds, vip: vip)))
    }

    // List C B A, all idle: wlc keeps the first (C) and caches it. C then has one active
    // connection, so wlc alone would now pick B (256·1 > 0·1), but the cache keeps C: one
    // active connection is not more than its weight.
    @Test func cachedServerIsReused() {
        let f = DestinationFixture(["A": 1, "B": 1, "C": 1])
        var s = LocalityBasedLeastConnectionScheduler(destinations: f.list)
        #expect(pick(f, &s) == "C")
        #expect(s.cachedSlot(for: Self.vip) == f.slot("C"))
        f.setConnections("C", active: 1)
        #expect(pick(f, &s, 1) == "C")
        #expect(s.cachedEntries == 1)
    }

    // Overloaded means active > weight AND some server below half its weight in active
    // connections. C at 2 > 1 with A and B at 1 (1·2 < 1 is false) stays; once B drops to 0 (0 < 1)
    // C is overloaded and wlc runs: overheads C 512, B 0, A 256 → B, which replaces C in the cache.
    @Test func overloadRuleNeedsALightServer() {
        let f = DestinationFixture(["A": 1, "B": 1, "C": 1])
        var s = LocalityBasedLeastConnectionScheduler(destinations: f.list)
        #expect(pick(f, &s) == "C")
        f.setConnections("C", active: 2)
        f.setConnections("B", active: 1)
        f.setConnections("A", active: 1)
        #expect(pick(f, &s) == "C")
        f.setConnections("B", active: 0)
        #expect(pick(f, &s) == "B")
        #expect(s.cachedSlot(for: Self.vip) == f.slot("B"))
        #expect(s.cachedEntries == 1)
    }

    // The OVERLOAD flag (thresholds) does not make a cached server unusable, only weight 0,
    // unavailability or removal does; wlc itself skips flagged servers.
    @Test func weightZeroUnavailableAndRemovedAreReplaced() {
        let f = DestinationFixture(["A": 1, "B": 1, "C": 1])
        var s = LocalityBasedLeastConnectionScheduler(destinations: f.list)
        #expect(pick(f, &s) == "C")
        f.setOverloaded("C", true)
        #expect(pick(f, &s) == "C")
        f.setWeight("C", 0)
        #expect(pick(f, &s) == "B")          // wlc skips C (flagged), first is B
        // Unavailable: the cached B is refused, but wlc (like the kernel's, for which every
        // linked server is AVAILABLE) does not look at the flag and picks B again.
        f.setAvailable("B", false)
        #expect(pick(f, &s) == "B")
        f.setAvailable("B", true)
        let position = f.remove("B")
        s.destinationRemoved(at: position, f.list)
        #expect(pick(f, &s) == "A")          // a removed server is gone: list C A, C flagged
        f.setOverloaded("A", true)
        #expect(pick(f, &s) == "A")          // cached A is still usable (flag ignored for the cache)
    }

    // Each destination address has its own entry.
    @Test func keyedOnDestinationAddress() {
        let f = DestinationFixture(["A": 1, "B": 1, "C": 1])
        var s = LocalityBasedLeastConnectionScheduler(destinations: f.list)
        let other = IPv4Address(10, 0, 0, 200)
        #expect(pick(f, &s) == "C")
        f.setConnections("C", active: 1)
        #expect(pick(f, &s, vip: other) == "B")
        #expect(s.cachedEntries == 2)
        #expect(pick(f, &s) == "C")
        #expect(s.cachedSlot(for: other) == f.slot("B"))
    }

    // Expiry. The clock starts at the first call (t = 0); ticks every 60 s; the counter starts at
    // 1 and a full check runs on the tick where it reaches 30, i.e. at 1800 s, 3600 s, … An entry
    // last used at 0 with the default 24 h expiration goes at the full check of t = 86400 (the
    // 48th), not before. After that wlc runs again (C busy → B).
    @Test(arguments: [(86399 as UInt64, "C"), (86400, "B"), (200_000, "B")])
    func defaultExpiration(at seconds: UInt64, expected: String) {
        let f = DestinationFixture(["A": 1, "B": 1, "C": 1])
        var s = LocalityBasedLeastConnectionScheduler(destinations: f.list)
        #expect(pick(f, &s, 0) == "C")
        f.setConnections("C", active: 1)
        #expect(pick(f, &s, seconds) == expected)
        #expect(s.cachedEntries == 1)
    }

    // With lblc_expiration = 10 min the entry is still only dropped at a full check, so it
    // survives until 1800 s even though it expired at 600 s: the kernel checks every 30 min.
    @Test func shortExpirationWaitsForTheFullCheck() {
        let f = DestinationFixture(["A": 1, "B": 1, "C": 1])
        var early = LocalityBasedLeastConnectionScheduler(destinations: f.list, flags: [], expiration: 600 * 1_000_000_000)
        var late = early
        #expect(pick(f, &early, 0) == "C")
        #expect(pick(f, &late, 0) == "C")
        f.setConnections("C", active: 1)
        #expect(pick(f, &early, 1799) == "C")
        #expect(pick(f, &late, 1800) == "B")
        // Using an entry refreshes it. Used at 1799, it survives the 1800 check (1800 < 2399) and
        // goes at 3600. Used again at 3599 and 3600 instead, it survives 3600 and goes at 5400.
        var refreshed = early
        #expect(pick(f, &early, 3600) == "B")
        #expect(pick(f, &refreshed, 3599) == "C")
        #expect(pick(f, &refreshed, 3600) == "C")
        #expect(pick(f, &refreshed, 5399) == "C")
        #expect(pick(f, &refreshed, 7199) == "C")
        #expect(pick(f, &refreshed, 9000) == "B")
    }

    // Above 16384 entries, each tick drops entries unused for 6 min, bucket by bucket from the
    // rover, until (entries − 16384) × 4/3 are gone. 17384 entries created at t = 0: nothing goes
    // before 360 s; the tick at 360 s removes at least 1333 and stops within one bucket of that.
    @Test func oversizedTableIsTrimmed() {
        let f = DestinationFixture(["A": 1, "B": 1, "C": 1])
        var s = LocalityBasedLeastConnectionScheduler(destinations: f.list)
        let total = 16384 + 1000
        for k in 0..<total {
            _ = s.schedule(f.list, context: Self.at(0, vip: IPv4Address(0x0b00_0000 + UInt32(k))))
        }
        #expect(s.cachedEntries == total)
        var before = s
        _ = before.schedule(f.list, context: Self.at(359))
        #expect(before.cachedEntries == total + 1)
        _ = s.schedule(f.list, context: Self.at(360))
        let removed = total + 1 - s.cachedEntries
        #expect(removed >= 1333)
        #expect(removed < 1333 + 64)
    }

    @Test func noServer() {
        let f = DestinationFixture(["A": 0, "B": 1])
        f.setOverloaded("B", true)
        var s = LocalityBasedLeastConnectionScheduler(destinations: f.list)
        #expect(pick(f, &s) == "-")
        #expect(s.cachedEntries == 0)
    }

    @Test func registry() {
        let f = DestinationFixture(["A": 1])
        var instance = SchedulerRegistry.make("lblc", destinations: f.list)
        #expect(instance?.name == "lblc")
        #expect(instance?.schedule(f.list, context: Self.at(0)) == 0)
    }
}
