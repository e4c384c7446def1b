import Testing
import LVSCore

@Suite struct SchedulerTests {
    // The registry builds the schedulers it implements by their ipvsadm names and nothing else.
    @Test func registryMakesImplementedSchedulers() {
        let f = DestinationFixture(["A": 1, "B": 1])
        #expect(SchedulerRegistry.make("rr", destinations: f.list)?.name == "rr")
        #expect(SchedulerRegistry.make("wrr", destinations: f.list)?.name == "wrr")
        for name in SchedulerRegistry.implemented {
            #expect(SchedulerRegistry.make(name, destinations: f.list)?.name == name, "\(name)")
        }
        // "none" is a name IPVS knows (a service that never schedules) but SwiftLVS does not run.
        for name in ["none", "RR", "WLC", ""] {
            #expect(SchedulerRegistry.make(name, destinations: f.list) == nil, "\(name)")
        }
        #expect(Set(SchedulerRegistry.implemented).isSubset(of: SchedulerRegistry.known))
        // Every scheduler of §2 runs; only "none" is refused.
        #expect(Set(SchedulerRegistry.implemented) == SchedulerRegistry.known.subtracting(["none"]))
        #expect(SchedulerRegistry.implemented.count == SchedulerRegistry.known.count - 1)
        // §2's list plus "none" (ip_vs_add_service accepts it).
        #expect(SchedulerRegistry.known == ["rr", "wrr", "lc", "wlc", "sed", "nq", "fo", "ovf", "lblc", "lblcr",
                                            "dh", "sh", "mh", "twos", "none"])
    }

    // The enum wrapper keeps the scheduler's state between calls and forwards the hooks:
    // rr over C, B, A; delete B after C, B → cursor C → A next; add D → after A wraps to D.
    @Test func instanceKeepsStateAndForwardsHooks() throws {
        let f = DestinationFixture(["A": 1, "B": 1, "C": 1])
        var s = try #require(SchedulerRegistry.make("rr", destinations: f.list))
        let ctx = DestinationFixture.context
        #expect(f.name(at: s.schedule(f.list, context: ctx)) == "C")
        #expect(f.name(at: s.schedule(f.list, context: ctx)) == "B")
        s.destinationRemoved(at: f.remove("B"), f.list)
        #expect(f.name(at: s.schedule(f.list, context: ctx)) == "A")
        f.add("D", weight: 1)
        s.destinationAdded(f.list)
        #expect(f.name(at: s.schedule(f.list, context: ctx)) == "D")

        // wrr through the wrapper: list B1 A1 (di 1, mw 1, cw 1) picks B; the edit A → 3 keeps cw 1
        // but puts the cursor back at the head, so B comes again instead of A.
        let g = DestinationFixture(["A": 1, "B": 1])
        var w = try #require(SchedulerRegistry.make("wrr", destinations: g.list))
        #expect(g.name(at: w.schedule(g.list, context: ctx)) == "B")
        g.setWeight("A", 3)
        w.destinationUpdated(g.list)
        #expect(g.name(at: w.schedule(g.list, context: ctx)) == "B")
        #expect(g.name(at: w.schedule(g.list, context: ctx)) == "A")
    }
}
