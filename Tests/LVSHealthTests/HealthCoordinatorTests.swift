import LVSConfig
import LVSCore
@testable import LVSHealth
import Testing

@Suite("Health state machine (fake clock, fake editor)")
struct HealthCoordinatorTests {
    static let refused = CheckOutcome.failure(.socket(errno: 111))

    @Test("A server fails after 1 + retry failed attempts, delay_before_retry apart, and is removed; the others stay")
    func failureAfterRetries() {
        let d = Driver(Fixture.configuration(servers: [11, 12], delayLoop: 10, retry: 2, delayBeforeRetry: 1))
        #expect(d.weight(11) == 1 && d.weight(12) == 1)
        d.run(until: 5)
        d.outcomes[Fixture.rs(12)] = Self.refused
        d.run(until: 10.5)   // attempt at 10 fails: retry 1 of 2
        #expect(d.weight(12) == 1)
        d.run(until: 11.5)   // attempt at 11 fails: retry 2 of 2
        #expect(d.weight(12) == 1)
        d.run(until: 12.5)   // attempt at 12 fails: down
        #expect(d.weight(12) == nil)
        #expect(d.weight(11) == 1)
        let times = d.attempts.filter { $0.1 == Fixture.rs(12) }.map(\.0)
        #expect(times == [0, 10, 11, 12])
        #expect(d.log.contains("TCP connection to [10.0.0.12]:tcp:80 failed (Connection refused)."))
        #expect(d.log.contains("Check on service [10.0.0.12]:tcp:80 failed after 2 retries."))
        #expect(d.log.contains("Removing service [10.0.0.12]:tcp:80 from VS [10.0.0.100]:tcp:80"))
        #expect(d.editor.batches.last == [.deleteServer(Fixture.http, address: Fixture.rs(12), port: 80)])
        // Down: tried every delay_loop, no retries.
        d.run(until: 32.5)
        #expect(d.attempts.filter { $0.1 == Fixture.rs(12) }.map(\.0) == [0, 10, 11, 12, 22, 32])
    }

    @Test("A success between failures resets the retry count")
    func successResetsRetries() {
        let d = Driver(Fixture.configuration(servers: [11], delayLoop: 10, retry: 1, delayBeforeRetry: 1))
        d.outcomes[Fixture.rs(11)] = Self.refused
        d.run(until: 0.5)       // attempt at 0 fails: retry 1 of 1
        d.outcomes[Fixture.rs(11)] = nil
        d.run(until: 1.5)       // success at 1
        d.outcomes[Fixture.rs(11)] = Self.refused
        d.run(until: 11.5)      // fails at 11: a retry again, not down
        #expect(d.weight(11) == 1)
        d.run(until: 12.5)
        #expect(d.weight(11) == nil)
    }

    @Test("Recovery adds the server back with its weight and thresholds, after `rise` consecutive successes")
    func recoveryAfterRise() {
        let d = Driver(Fixture.configuration(servers: [11, 12], weight: 3, delayLoop: 1, retry: 0, rise: 3))
        d.outcomes[Fixture.rs(12)] = Self.refused
        d.run(until: 0.5)
        #expect(d.weight(12) == nil)
        d.outcomes[Fixture.rs(12)] = nil
        d.run(until: 1.5)   // 1 of 3
        d.outcomes[Fixture.rs(12)] = Self.refused
        d.run(until: 2.5)   // a failure resets the count
        d.outcomes[Fixture.rs(12)] = nil
        d.run(until: 4.5)   // 2 of 3
        #expect(d.weight(12) == nil)
        d.run(until: 5.5)   // 3 of 3
        #expect(d.weight(12) == 3)
        #expect(d.log.contains("TCP connection to [10.0.0.12]:tcp:80 success (2 of 3 needed)."))
        #expect(d.log.contains("Adding service [10.0.0.12]:tcp:80 to VS [10.0.0.100]:tcp:80"))
        #expect(d.editor.batches.last == [.addServer(Fixture.http, RealServerConfig(address: Fixture.rs(12), port: 80, weight: 3))])
    }

    @Test("inhibit_on_failure: a failed server stays with weight 0 and gets its weight back")
    func inhibitOnFailure() {
        let d = Driver(Fixture.configuration(servers: [11, 12], weight: 2, delayLoop: 1, retry: 0) { $0.inhibitOnFailure = true })
        d.outcomes[Fixture.rs(11)] = Self.refused
        d.run(until: 0.5)
        #expect(d.weight(11) == 0)
        #expect(d.log.contains("Disabling service [10.0.0.11]:tcp:80 of VS [10.0.0.100]:tcp:80"))
        d.outcomes[Fixture.rs(11)] = nil
        d.run(until: 1.5)
        #expect(d.weight(11) == 2)
        #expect(d.editor.batches.map { $0.map { "\($0)" } }.joined().count == 2)
        #expect(d.log.contains("Enabling service [10.0.0.11]:tcp:80 of VS [10.0.0.100]:tcp:80"))
    }

    @Test("alpha: servers start out of the table and come in on their first success; an alpha failure runs notify_down once")
    func alpha() {
        let configuration = Fixture.configuration(servers: [11, 12], delayLoop: 1, retry: 0) { s in
            s.alpha = true
            s.realServers[1].notifyDown = ["/bin/down", "12"]
            s.realServers[0].notifyUp = ["/bin/up", "11"]
        }
        #expect(HealthMonitor.initialTable(for: configuration).services[0].realServers.isEmpty)
        let d = Driver(configuration)
        d.outcomes[Fixture.rs(12)] = Self.refused
        d.run(until: 0.5)
        #expect(d.weight(11) == 1)
        #expect(d.weight(12) == nil)
        #expect(d.scripts.map(\.arguments) == [["/bin/up", "11"], ["/bin/down", "12"]])
        d.run(until: 3.5)
        #expect(d.scripts.count == 2, "a server that stays down runs notify_down once: \(d.scripts)")
    }

    @Test("notify_up and notify_down run on each change, with their argv")
    func notifyScripts() {
        let d = Driver(Fixture.configuration(servers: [11], delayLoop: 1, retry: 0) { s in
            s.realServers[0].notifyUp = ["/usr/local/bin/up", "rs11"]
            s.realServers[0].notifyDown = ["/usr/local/bin/down", "rs11", "a b"]
        })
        d.outcomes[Fixture.rs(11)] = Self.refused
        d.run(until: 0.5)
        d.outcomes[Fixture.rs(11)] = nil
        d.run(until: 1.5)
        #expect(d.scripts.map(\.arguments) == [["/usr/local/bin/down", "rs11", "a b"], ["/usr/local/bin/up", "rs11"]])
    }

    @Test("Quorum lost: quorum_down runs, the sorry server comes in and the remaining servers go; regained: the reverse")
    func quorumAndSorryServer() {
        let sorry = RealServerConfig(address: Fixture.rs(99), port: 80, weight: 1)
        let d = Driver(Fixture.configuration(servers: [11, 12, 13], weight: 2, delayLoop: 1, retry: 0) { s in
            s.quorum = 4
            s.hysteresis = 1
            s.sorryServer = sorry
            s.quorumUp = ["/bin/qup"]
            s.quorumDown = ["/bin/qdown"]
        })
        #expect(d.coordinator.status.services[0].quorumUp)
        // 6 → 4: still ≥ quorum − hysteresis = 3.
        d.outcomes[Fixture.rs(11)] = Self.refused
        d.run(until: 0.5)
        #expect(d.weight(11) == nil && d.weight(12) == 2 && d.weight(99) == nil)
        // 4 → 2 < 3: lost.
        d.outcomes[Fixture.rs(12)] = Self.refused
        d.run(until: 1.5)
        #expect(d.weight(99) == 1)
        #expect(d.weight(13) == nil, "the remaining server leaves the pool while the sorry server serves")
        #expect(d.log.contains("Lost quorum 4-1=3 > 2 for VS [10.0.0.100]:tcp:80"))
        #expect(d.log.contains("Adding sorry server [10.0.0.99]:tcp:80 to VS [10.0.0.100]:tcp:80"))
        #expect(d.scripts.map(\.arguments) == [["/bin/qdown"]])
        // 2 → 4: not yet ≥ quorum + hysteresis = 5.
        d.outcomes[Fixture.rs(11)] = nil
        d.run(until: 2.5)
        #expect(d.weight(99) == 1 && d.weight(11) == nil)
        // 4 → 6: gained.
        d.outcomes[Fixture.rs(12)] = nil
        d.run(until: 3.5)
        #expect(d.weight(99) == nil)
        #expect(d.weight(11) == 2 && d.weight(12) == 2 && d.weight(13) == 2)
        #expect(d.log.contains("Gained quorum 4+1=5 <= 6 for VS [10.0.0.100]:tcp:80"))
        #expect(d.log.contains("Removing sorry server [10.0.0.99]:tcp:80 from VS [10.0.0.100]:tcp:80"))
        #expect(d.scripts.map(\.arguments) == [["/bin/qdown"], ["/bin/qup"]])
    }

    @Test("Default quorum: the sorry server comes in when no server is up, and goes when one is back")
    func sorryServerWhenAllDown() {
        let sorry = RealServerConfig(address: Fixture.rs(99), port: 8080, weight: 1)
        let d = Driver(Fixture.configuration(servers: [11, 12], delayLoop: 1, retry: 0) { $0.sorryServer = sorry })
        d.outcomes[Fixture.rs(11)] = Self.refused
        d.run(until: 0.5)
        #expect(d.weight(99) == nil)
        d.outcomes[Fixture.rs(12)] = Self.refused
        d.run(until: 1.5)
        #expect(d.currentServers == ["10.0.0.99:8080 w1"])
        d.outcomes[Fixture.rs(12)] = nil
        d.run(until: 2.5)
        #expect(d.currentServers == ["10.0.0.12:80 w1"])
    }

    @Test("alpha with a sorry server: starts with the sorry server, quorum_down at start")
    func alphaStartsWithSorryServer() {
        let sorry = RealServerConfig(address: Fixture.rs(99), port: 80, weight: 1)
        let configuration = Fixture.configuration(servers: [11], delayLoop: 1, retry: 0) { s in
            s.alpha = true
            s.sorryServer = sorry
            s.quorumDown = ["/bin/qdown"]
        }
        #expect(HealthMonitor.initialTable(for: configuration).services[0].realServers == [sorry])
        let d = Driver(configuration)
        #expect(d.log.contains("Starting with quorum down 1-0=1 > 0 for VS [10.0.0.100]:tcp:80"))
        #expect(d.scripts.map(\.arguments) == [["/bin/qdown"]])
        d.run(until: 0.5)
        #expect(d.currentServers == ["10.0.0.11:80 w1"])
    }

    @Test("misc_dynamic: the exit status sets the weight (status − 2); 0 keeps it; 1 fails")
    func dynamicWeight() {
        var configuration = Fixture.configuration(servers: [11], weight: 5, delayLoop: 1, retry: 0)
        var misc = MiscCheck(arguments: ["/bin/check"])
        misc.dynamic = true
        configuration.health.services[0].realServers[0].checkers[0].kind = .misc(misc)
        let d = Driver(configuration)
        d.outcomes[Fixture.rs(11)] = MiscChecker.outcome(status: 7 << 8, dynamic: true)
        d.run(until: 0.5)
        #expect(d.weight(11) == 5)
        #expect(d.coordinator.status.services[0].servers[0].weight == 5)
        // Attempts are run with `outcomes` keyed by the check's target address.
        let d2 = Driver(configuration)
        d2.outcomes[Fixture.rs(11)] = .success(weight: 5)
        d2.run(until: 0.5)
        #expect(d2.weight(11) == 5)
        d2.outcomes[Fixture.rs(11)] = .success(weight: 1)
        d2.run(until: 1.5)
        #expect(d2.weight(11) == 1)
        #expect(d2.log.contains("Changing weight from 5 to 1 for active service [10.0.0.11]:tcp:80 of VS [10.0.0.100]:tcp:80"))
        d2.outcomes[Fixture.rs(11)] = .success(weight: nil)
        d2.run(until: 2.5)
        #expect(d2.weight(11) == 1)
        d2.outcomes[Fixture.rs(11)] = MiscChecker.outcome(status: 1 << 8, dynamic: true)
        d2.run(until: 3.5)
        #expect(d2.weight(11) == nil)
        #expect(MiscChecker.outcome(status: 7 << 8, dynamic: true) == .success(weight: 5))
        #expect(MiscChecker.outcome(status: 7 << 8, dynamic: false) == .failure(.exitStatus(7)))
        #expect(MiscChecker.outcome(status: 0, dynamic: true) == .success(weight: nil))
        #expect(MiscChecker.outcome(status: 9, dynamic: false) == .failure(.signalled(9)))
    }

    @Test("A server with two checkers is up only while both are")
    func allCheckersMustPass() {
        var configuration = Fixture.configuration(servers: [11], delayLoop: 1, retry: 0)
        var ping = CheckerConfig(kind: .ping)
        ping.retry = 0
        ping.connectAddress = IPv4Address(10, 0, 1, 11)
        configuration.health.services[0].realServers[0].checkers.append(ping)
        let d = Driver(configuration)
        d.outcomes[IPv4Address(10, 0, 1, 11)] = Self.refused
        d.run(until: 0.5)
        #expect(d.weight(11) == nil)
        d.outcomes[IPv4Address(10, 0, 1, 11)] = nil
        d.run(until: 1.5)
        #expect(d.weight(11) == 1)
    }

    @Test("warmup spreads the first attempt within the warmup time")
    func warmup() {
        var configuration = Fixture.configuration(servers: [11], delayLoop: 10)
        configuration.health.services[0].realServers[0].checkers[0].warmup = 4
        let d = Driver(configuration)   // random() = 0.5
        d.run(until: 12.5)
        #expect(d.attempts.map(\.0) == [2, 12])
    }

    @Test("Status: per server up/down, weight and the checkers' last results")
    func status() {
        let d = Driver(Fixture.configuration(servers: [11, 12], delayLoop: 1, retry: 0))
        d.outcomes[Fixture.rs(12)] = .failure(.timeout)
        d.run(until: 0.5)
        let status = d.coordinator.status
        let rs12 = status.server(RealServerKey(service: Fixture.http, address: Fixture.rs(12), port: 80))
        #expect(rs12?.up == false)
        #expect(rs12?.checkers == [CheckerStatus(keyword: "TCP_CHECK", up: false, lastResult: "timeout")])
        #expect(status.server(RealServerKey(service: Fixture.http, address: Fixture.rs(11), port: 80))?.checkers.first?.lastResult == "ok")
        #expect(status.description.contains("[10.0.0.12]:tcp:80 DOWN weight 1 (TCP_CHECK: timeout)"))
    }

    @Test("An admin's change in between: commands are computed against the live table")
    func adminChangedTheTable() {
        let d = Driver(Fixture.configuration(servers: [11, 12], delayLoop: 1, retry: 0))
        // The admin removed rs12 by hand; its failure then needs no command.
        _ = d.editor.apply([.deleteServer(Fixture.http, address: Fixture.rs(12), port: 80)])
        d.outcomes[Fixture.rs(12)] = Self.refused
        d.run(until: 0.5)
        #expect(!d.log.contains { $0.hasPrefix("REFUSED") })
        // And its recovery adds it back.
        d.outcomes[Fixture.rs(12)] = nil
        d.run(until: 1.5)
        #expect(d.weight(12) == 1)
    }
}

extension Driver {
    /// The table's servers of the HTTP service as `ADDRESS:PORT wW`, in table order.
    var currentServers: [String] {
        editor.currentTable().services.first { $0.key == Fixture.http }?.realServers.map { "\($0.address):\($0.port) w\($0.weight)" } ?? []
    }
}
