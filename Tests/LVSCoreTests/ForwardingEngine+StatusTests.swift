import LVSCore
import Testing

/// What `ipvsadm -L`, `-Z` and `--set` see of a running engine: `status`, `zeroCounters` and
/// `setTimeouts` (IPVS-SEMANTICS.md §3.5, §3.13, §5.6). Configuration as in
/// ForwardingEngineApplyTests (TCP :80 rr rs1, rs2, rs3; UDP :53 rr rs1, rs2).
@Suite struct ForwardingEngineStatusTests {
    static let second: UInt64 = 1_000_000_000
    typealias Apply = ForwardingEngineApplyTests

    // MARK: - status

    // Services in configuration order; each with its configuration as it stands now (real
    // servers in -a order, edited weight shown) and its destinations in kernel list order
    // with their counts, counters and rates.
    @Test func statusListsServicesAndDestinations() throws {
        let e = try Apply.engine()
        #expect(Apply.tcp(e, port: 1, flags: Wire.tcpSYN, at: 0) == "rs3")
        #expect(Apply.tcp(e, port: 1, flags: Wire.tcpACK, at: 0) == "rs3")
        #expect(Apply.tcp(e, port: 2, flags: Wire.tcpSYN, at: 0) == "rs2")
        #expect(Apply.tcp(e, port: 2, flags: Wire.tcpFIN, at: 0) == "rs2")      // SR + fin → TIME_WAIT
        _ = try e.apply(Apply.configuration(tcp: [Apply.server(TestNetwork.rs1, weight: 4, upper: 9, lower: 3),
                                                   Apply.rs2, Apply.rs3]))
        let status = e.status(now: 0, includeConnections: false)
        #expect(status.connectionTableSize == e.connections.capacity)
        #expect(status.timeouts == TimeoutSetting(tcp: 900, tcpFin: 120, udp: 300))
        #expect(status.connections == nil)
        #expect(status.vipConflict == nil)
        #expect(status.services.map(\.config.key) == [Apply.tcpService, Apply.udpService])
        let tcp = status.services[0]
        #expect(tcp.config.scheduler == "rr")
        #expect(tcp.config.realServers.map(\.address) == [TestNetwork.rs1, TestNetwork.rs2, TestNetwork.rs3])
        #expect(tcp.config.realServers[0] == Apply.server(TestNetwork.rs1, weight: 4, upper: 9, lower: 3))
        #expect(tcp.destinations.map(\.config.address) == [TestNetwork.rs3, TestNetwork.rs2, TestNetwork.rs1])
        #expect(tcp.destinations.map(\.activeConnections) == [1, 0, 0])
        #expect(tcp.destinations.map(\.inactiveConnections) == [0, 1, 0])
        #expect(tcp.destinations[2].config.weight == 4 && tcp.destinations[2].config.upperThreshold == 9)
        #expect(tcp.stats.connections == 2 && tcp.stats.inPackets == 4 && tcp.stats.inBytes == 160)
        #expect(tcp.destinations[0].stats.inPackets == 2)
        #expect(status.services[1].destinations.map(\.config.address) == [TestNetwork.rs2, TestNetwork.rs1])
    }

    // With connections: every live entry, templates included as state NONE with port 0, the
    // time left in milliseconds, and the real server; a removed server's connection still shows.
    @Test func statusListsConnectionsAndTemplates() throws {
        var c = ForwardingEngineTests.configuration()
        c.services[0].persistence = Persistence(timeout: 300)
        let e = try Apply.engine(configuration: c)
        #expect(Apply.tcp(e, port: 1, flags: Wire.tcpSYN, at: 0) == "rs3")
        #expect(Apply.tcp(e, port: 1, flags: Wire.tcpACK, at: Self.second) == "rs3")
        #expect(Apply.udp(e, port: 5000, at: 0) == "rs2")
        let status = e.status(now: 2 * Self.second, includeConnections: true)
        let list = try #require(status.connections)
        #expect(list.count == 3)
        let template = try #require(list.first { $0.isTemplate })
        #expect(template == ConnectionStatus(transport: .tcp, state: "NONE", expiresInMilliseconds: 298_000,
                                             clientAddress: TestNetwork.client, clientPort: 0,
                                             virtualAddress: TestNetwork.vip, virtualPort: 80,
                                             destinationAddress: TestNetwork.rs3, destinationPort: 80, isTemplate: true))
        let connection = try #require(list.first { !$0.isTemplate && $0.transport == .tcp })
        #expect(connection == ConnectionStatus(transport: .tcp, state: "ESTABLISHED", expiresInMilliseconds: 899_000,
                                               clientAddress: TestNetwork.client, clientPort: 1,
                                               virtualAddress: TestNetwork.vip, virtualPort: 80,
                                               destinationAddress: TestNetwork.rs3, destinationPort: 80, isTemplate: false))
        let udp = try #require(list.first { $0.transport == .udp })
        #expect(udp.state == "UDP" && udp.expiresInMilliseconds == 298_000 && udp.destinationAddress == TestNetwork.rs2)
        #expect(status.services[0].destinations.first?.persistentConnections == 1)

        var without = c
        without.services[0].realServers.removeLast()
        _ = try e.apply(without)
        let after = e.status(now: 2 * Self.second, includeConnections: true)
        #expect(after.services[0].destinations.map(\.config.address) == [TestNetwork.rs2, TestNetwork.rs1])
        #expect(after.connections?.filter { $0.destinationAddress == TestNetwork.rs3 }.count == 2)
        // Past their expiry the entries are no longer listed, even before the sweep.
        #expect(e.status(now: 1000 * Self.second, includeConnections: true).connections?.isEmpty == true)
    }

    // A VIP conflict is recorded with the culprit named by its own address (rs1's MAC is a
    // known real server's), the running count and how long ago it was last seen.
    @Test func statusReportsVIPConflicts() throws {
        let e = try Apply.engine()
        for _ in 0..<2 {
            let claim = FrameBuilder.arp(operation: Wire.arpRequest, ethernetDestination: .broadcast,
                                         ethernetSource: TestNetwork.rs1MAC, senderMAC: TestNetwork.rs1MAC,
                                         senderIP: TestNetwork.vip, targetMAC: .zero, targetIP: IPv4Address(10, 0, 0, 1))
            ForwardingEngineTests.send(e, claim, at: 0)
        }
        #expect(e.status(now: 3 * Self.second, includeConnections: false).vipConflict
            == VIPConflict(vip: TestNetwork.vip, mac: TestNetwork.rs1MAC, senderAddress: TestNetwork.rs1, count: 2,
                           secondsSinceLast: 3))
        #expect(e.lastVIPConflict?.mac == TestNetwork.rs1MAC)
    }

    // MARK: - zeroCounters

    // -Z for one service: that service's and its servers' counters and rates start from 0,
    // the other service's are untouched, and connection counts are not counters.
    @Test func zeroOneService() throws {
        let e = try Apply.engine()
        e.sampleRates()
        for port: UInt16 in 1...4 { _ = Apply.tcp(e, port: port, flags: Wire.tcpSYN, at: 0) }
        _ = Apply.udp(e, port: 5000, at: 0)
        e.sampleRates()
        let udpRate = e.rate(service: 1)
        #expect(e.rate(service: 0) != RateEstimator() && udpRate != RateEstimator())
        try e.zeroCounters(service: Apply.tcpService)
        #expect(e.stats(service: 0) == TrafficStats())
        for slot: Int32 in 0...2 {
            #expect(e.destination(slot: slot).stats == TrafficStats())
            #expect(e.rate(slot: slot) == RateEstimator())
        }
        #expect(e.rate(service: 0) == RateEstimator())
        #expect(ForwardingEngineTests.counts(e, 2) == (2, 0))
        #expect(e.stats(service: 1).connections == 1)
        #expect(e.rate(service: 1) == udpRate)
        // Counting and estimating go on from zero.
        _ = Apply.tcp(e, port: 9, flags: Wire.tcpSYN, at: 0)
        e.sampleRates()
        #expect(e.stats(service: 0).connections == 1)
        var fromZero = RateEstimator()
        fromZero.sample(e.stats(service: 0))
        #expect(e.rate(service: 0) == fromZero, "the estimator counts from the zeroed counters")
    }

    // -Z without a service zeroes every service; an unknown service is an error.
    @Test func zeroAllAndUnknown() throws {
        let e = try Apply.engine()
        _ = Apply.tcp(e, port: 1, flags: Wire.tcpSYN, at: 0)
        _ = Apply.udp(e, port: 5000, at: 0)
        try e.zeroCounters(service: nil)
        #expect(e.stats(service: 0) == TrafficStats() && e.stats(service: 1) == TrafficStats())
        #expect((0..<5).allSatisfy { e.destination(slot: Int32($0)).stats == TrafficStats() })
        let unknown = VirtualServiceKey(transport: .tcp, address: TestNetwork.vip, port: 8080)
        #expect(throws: UnknownServiceError(key: unknown)) { try e.zeroCounters(service: unknown) }
    }

    // MARK: - setTimeouts

    // --set 60 0 30: ESTABLISHED 60 s and UDP 30 s, FIN_WAIT unchanged. An established entry
    // keeps its 900 s until its next packet; then 60 s applies. New UDP entries get 30 s.
    @Test func setTimeoutsAffectsNewTransitionsOnly() throws {
        let e = try Apply.engine()
        let s = Self.second
        #expect(Apply.tcp(e, port: 1, flags: Wire.tcpSYN, at: 0) == "rs3")
        #expect(Apply.tcp(e, port: 1, flags: Wire.tcpACK, at: 0) == "rs3")
        #expect(Apply.tcp(e, port: 2, flags: Wire.tcpSYN, at: 0) == "rs2")
        #expect(Apply.tcp(e, port: 2, flags: Wire.tcpACK, at: 0) == "rs2")
        e.setTimeouts(TimeoutSetting(tcp: 60, tcpFin: 0, udp: 30))
        #expect(e.timeouts == TimeoutSetting(tcp: 60, tcpFin: 120, udp: 30))
        #expect(e.settings.timeouts[.established] == 60)
        #expect(e.status(now: 0, includeConnections: false).timeouts == TimeoutSetting(tcp: 60, tcpFin: 120, udp: 30))
        #expect(Apply.tcp(e, port: 2, flags: Wire.tcpACK, at: 10 * s) == "rs2")
        _ = Apply.udp(e, port: 5000, at: 10 * s)
        ForwardingEngineTests.expireAll(e, at: 41 * s)
        #expect(e.connections.count == 2, "UDP gone after 30 s")
        ForwardingEngineTests.expireAll(e, at: 71 * s)
        #expect(e.connectionEntries(now: 71 * s).map(\.clientPort) == [1], "port 2 gone 60 s after its last packet")
        ForwardingEngineTests.expireAll(e, at: 900 * s)
        #expect(e.connections.count == 0)
        e.setTimeouts(TimeoutSetting(tcp: 0, tcpFin: 5, udp: 0))
        #expect(e.timeouts == TimeoutSetting(tcp: 60, tcpFin: 5, udp: 30))
    }
}
