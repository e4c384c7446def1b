import LVSConfig
import LVSCore
@testable import LVSHealth
import Synchronization
import Testing

@Suite("Reload: the difference as one batch, health state kept")
struct ReloadTests {
    static let refused = CheckOutcome.failure(.socket(errno: 111))

    @Test("Added and removed real servers; a down server that stays stays down; unchanged ones need nothing")
    func addRemoveKeepState() {
        let d = Driver(Fixture.configuration(servers: [11, 12, 13], delayLoop: 1, retry: 0))
        d.outcomes[Fixture.rs(12)] = Self.refused
        d.run(until: 0.5)
        #expect(d.weight(12) == nil)
        let commands = d.reload(Fixture.configuration(servers: [12, 13, 14], delayLoop: 1, retry: 0))
        #expect(commands == [
            .deleteServer(Fixture.http, address: Fixture.rs(11), port: 80),
            .addServer(Fixture.http, RealServerConfig(address: Fixture.rs(14), port: 80, weight: 1)),
        ])
        // rs12 kept its state: still down, and still out of the table.
        #expect(d.weight(12) == nil)
        #expect(d.coordinator.status.server(RealServerKey(service: Fixture.http, address: Fixture.rs(12), port: 80))?.up == false)
        #expect(d.log.contains("Removing service [10.0.0.11]:tcp:80 from VS [10.0.0.100]:tcp:80 (no longer configured)"))
        d.outcomes[Fixture.rs(12)] = nil
        d.run(until: 1.5)
        #expect(d.weight(12) == 1)
    }

    @Test("A changed weight is an edit; a changed scheduler is -E; an unchanged reload is no command at all")
    func changes() {
        let d = Driver(Fixture.configuration(servers: [11, 12], delayLoop: 1))
        #expect(d.reload(Fixture.configuration(servers: [11, 12], delayLoop: 1)).isEmpty)
        var changed = Fixture.configuration(servers: [11, 12], delayLoop: 1)
        changed.director.services[0].scheduler = "rr"
        changed.director.services[0].realServers[1].weight = 7
        let commands = d.reload(changed)
        #expect(commands.count == 2)
        #expect(commands.first.map { if case .editService(let s) = $0 { s.scheduler == "rr" } else { false } } == true)
        #expect(commands.last == .editServer(Fixture.http, RealServerConfig(address: Fixture.rs(12), port: 80, weight: 7)))
        #expect(d.editor.currentTable().services[0].scheduler == "rr")
    }

    @Test("Services added and removed in the same batch; an lvsadm-added server in a kept service is left alone")
    func services() {
        let d = Driver(Fixture.configuration(servers: [11], delayLoop: 1))
        _ = d.editor.apply([.addServer(Fixture.http, RealServerConfig(address: Fixture.rs(50), port: 80, weight: 1))])
        var next = Fixture.configuration(servers: [11], delayLoop: 1)
        let dns = VirtualServiceKey(transport: .udp, address: Fixture.vip, port: 53)
        next.director.services.append(VirtualServiceConfig(key: dns, scheduler: "rr", realServers: [RealServerConfig(address: Fixture.rs(11), port: 53)]))
        let commands = d.reload(next)
        #expect(commands.count == 2)
        #expect(d.editor.currentTable().services.map(\.key) == [Fixture.http, dns])
        #expect(d.weight(50) == 1)
        // And back: the UDP service goes.
        #expect(d.reload(Fixture.configuration(servers: [11], delayLoop: 1)) == [.deleteService(dns)])
        #expect(d.log.contains("Removing Virtual Server [10.0.0.100]:udp:53"))
    }

    @Test("A checker whose plan changed starts afresh; an unchanged one keeps its schedule and its retries")
    func checkerMigration() {
        let d = Driver(Fixture.configuration(servers: [11, 12], delayLoop: 10, retry: 1))
        d.run(until: 1)
        let before = d.coordinator.checkers.values.map(\.id).sorted()
        var next = Fixture.configuration(servers: [11, 12], delayLoop: 10, retry: 1)
        next.health.services[0].realServers[1].checkers[0].connectPort = 8080
        _ = d.reload(next)
        let after = d.coordinator.checkers
        let kept = after.values.filter { before.contains($0.id) }
        #expect(kept.count == 1 && kept.first?.server.address == Fixture.rs(11))
        #expect(kept.first?.due == 10)
        // The new checker of rs12 starts now (no warmup), and rs12 stays up meanwhile.
        #expect(after.values.first { $0.server.address == Fixture.rs(12) }?.due == 1)
        #expect(d.weight(12) == 1)
    }

    @Test("Removing a service with omega runs its quorum_down; removed servers that were up run notify_down")
    func omega() {
        let d = Driver(Fixture.configuration(servers: [11], delayLoop: 1) { s in
            s.omega = true
            s.quorumDown = ["/bin/qdown"]
            s.realServers[0].notifyDown = ["/bin/down"]
        })
        var empty = KeepalivedConfiguration()
        empty.director = DirectorConfiguration()
        #expect(d.reload(empty) == [.deleteService(Fixture.http)])
        #expect(d.scripts.map(\.arguments) == [["/bin/down"], ["/bin/qdown"]])
    }

    @Test("A refused batch leaves the old state running (the monitor keeps the old coordinator)")
    func refusedBatch() {
        let d = Driver(Fixture.configuration(servers: [11], delayLoop: 1))
        d.editor.state.withLock { $0.refuseNext = 1 }
        let old = d.coordinator
        let next = HealthCoordinator(reloading: old, to: Fixture.configuration(servers: [12], delayLoop: 1), now: 0)
        let commands = TablePlan.reconcile(wanted: next.wantedTable, managed: next.managedEntries, removed: [], table: d.editor.currentTable())
        #expect(d.editor.apply(commands) != nil)
        #expect(d.weight(11) == 1)
        #expect(old.status.services[0].servers.map(\.key.address) == [Fixture.rs(11)])
    }
}
