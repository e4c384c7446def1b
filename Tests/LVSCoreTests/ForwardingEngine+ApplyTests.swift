import LVSCore
import Testing

/// `apply`: the running engine reconciled with a new configuration, as a sequence of ipvsadm
/// commands changes a running IPVS table (IPVS-SEMANTICS.md §1.1, §1.2, §3.8), with synthetic
/// frames and a fake clock.
///
/// Starting configuration (ForwardingEngineTests.configuration, every MAC static):
///   TCP 10.0.0.100:80 rr: rs1 (slot 0), rs2 (slot 1), rs3 (slot 2) → list rs3, rs2, rs1.
///   UDP 10.0.0.100:53 rr: rs1 (slot 3), rs2 (slot 4) → list rs2, rs1.
/// rs4 (10.0.1.4) is not configured at first; its MAC is static too.
@Suite struct ForwardingEngineApplyTests {
    static let second: UInt64 = 1_000_000_000
    static let tcpService = ForwardingEngineTests.tcpService
    static let udpService = ForwardingEngineTests.udpService
    static let rs4 = IPv4Address(10, 0, 1, 4)
    static let rs4MAC = MACAddress(value: 0x0200_0000_0104)
    static let vip2 = IPv4Address(10, 0, 0, 101)

    static func engine(settings: DirectorSettings = DirectorSettings(), destinationCapacity: Int = 64,
                       configuration: DirectorConfiguration = ForwardingEngineTests.configuration()) throws -> ForwardingEngine {
        try ForwardingEngine(configuration: configuration, directorMAC: TestNetwork.directorMAC,
                             directorAddress: TestNetwork.directorIP, connectionCapacity: 1024, hashSeed: 0x1234,
                             staticNeighbors: [TestNetwork.rs1: TestNetwork.rs1MAC, TestNetwork.rs2: TestNetwork.rs2MAC,
                                               TestNetwork.rs3: TestNetwork.rs3MAC, rs4: rs4MAC],
                             settings: settings, destinationCapacity: destinationCapacity)
    }

    /// The starting configuration with the TCP service's real servers replaced.
    static func configuration(tcp servers: [RealServerConfig], scheduler: String = "rr",
                              flags: SchedulerFlags = []) -> DirectorConfiguration {
        var c = ForwardingEngineTests.configuration()
        c.services[0].realServers = servers
        c.services[0].scheduler = scheduler
        c.services[0].schedulerFlags = flags
        return c
    }

    static func server(_ address: IPv4Address, weight: Int32 = 1, upper: UInt32 = 0, lower: UInt32 = 0,
                       port: UInt16 = 80) -> RealServerConfig {
        RealServerConfig(address: address, port: port, weight: weight, upperThreshold: upper, lowerThreshold: lower)
    }

    static let rs1 = server(TestNetwork.rs1), rs2 = server(TestNetwork.rs2), rs3 = server(TestNetwork.rs3)

    /// Sends a TCP segment from the client's `port`; returns the server it went to, or "-".
    static func tcp(_ e: ForwardingEngine, port: UInt16, flags: UInt8, at now: UInt64,
                    to vip: IPv4Address = TestNetwork.vip) -> String {
        name(ForwardingEngineTests.send(e, TestNetwork.tcp(sourcePort: port, flags: flags, destination: vip), at: now))
    }

    static func udp(_ e: ForwardingEngine, port: UInt16, at now: UInt64) -> String {
        name(ForwardingEngineTests.send(e, TestNetwork.udp(sourcePort: port), at: now))
    }

    static func name(_ r: (verdict: Verdict, frame: [UInt8])) -> String {
        guard r.verdict == .transmit else { return "-" }
        return FrameBuilder.getMAC(r.frame, 0) == rs4MAC ? "rs4" : ForwardingEngineTests.server(r.frame)
    }

    static func whoHas(_ e: ForwardingEngine, _ address: IPv4Address) -> Verdict {
        let request = FrameBuilder.arp(operation: Wire.arpRequest, ethernetDestination: .broadcast,
                                       ethernetSource: TestNetwork.routerMAC, senderMAC: TestNetwork.routerMAC,
                                       senderIP: IPv4Address(10, 0, 0, 1), targetMAC: .zero, targetIP: address)
        return ForwardingEngineTests.send(e, request, at: 0).verdict
    }

    // MARK: - Kept services and servers

    // An established connection keeps flowing to its server across an apply that edits
    // another server of its service and adds a service, and the rr cursor is not disturbed:
    // rr has no upd_dest hook, so the next new flow gets rs2, as without the apply.
    @Test func establishedConnectionSurvivesUnrelatedEdit() throws {
        let e = try Self.engine()
        #expect(Self.tcp(e, port: 1000, flags: Wire.tcpSYN, at: 0) == "rs3")
        #expect(Self.tcp(e, port: 1000, flags: Wire.tcpACK, at: 1) == "rs3")
        var c = Self.configuration(tcp: [Self.server(TestNetwork.rs1, weight: 3), Self.rs2, Self.rs3])
        c.services.append(VirtualServiceConfig(key: VirtualServiceKey(transport: .tcp, address: TestNetwork.vip, port: 443),
                                               scheduler: "wlc", realServers: [Self.server(TestNetwork.rs1, port: 443)]))
        let outcome = try e.apply(c)
        #expect(outcome.updatedDestinations == 1)
        #expect(outcome.addedServices == [VirtualServiceKey(transport: .tcp, address: TestNetwork.vip, port: 443)])
        #expect(outcome.addedDestinations == 1 && outcome.removedDestinations == 0)
        #expect(!outcome.vipSetChanged)
        #expect(e.destination(slot: 0).weight == 3 && e.destination(slot: 0).lastWeight == 3)
        #expect(Self.tcp(e, port: 1000, flags: Wire.tcpACK, at: 2) == "rs3")
        #expect(ForwardingEngineTests.counts(e, 2) == (1, 0))
        #expect(e.destination(slot: 2).stats.inPackets == 3)
        #expect(e.stats(service: 0).inPackets == 3 && e.stats(service: 0).connections == 1)
        #expect(Self.tcp(e, port: 1001, flags: Wire.tcpSYN, at: 3) == "rs2")
        // The new service got the next slot and works.
        #expect(e.services[2].order == [5])
        #expect(Self.name(ForwardingEngineTests.send(e, TestNetwork.tcp(sourcePort: 7, destinationPort: 443, flags: Wire.tcpSYN),
                                                     at: 4)) == "rs1")
    }

    // Weight 0 drains a server: its established connection goes on, new flows go elsewhere
    // (rr after rs3: rs2, rs1, then rs3 is skipped: rs2), and last_weight keeps the old weight.
    @Test func weightZeroDrains() throws {
        let e = try Self.engine()
        #expect(Self.tcp(e, port: 1000, flags: Wire.tcpSYN, at: 0) == "rs3")
        #expect(Self.tcp(e, port: 1000, flags: Wire.tcpACK, at: 1) == "rs3")
        let outcome = try e.apply(Self.configuration(tcp: [Self.rs1, Self.rs2, Self.server(TestNetwork.rs3, weight: 0)]))
        #expect(outcome.updatedDestinations == 1)
        #expect(e.destination(slot: 2).weight == 0 && e.destination(slot: 2).lastWeight == 1)
        #expect(e.destination(slot: 2).isAvailable)
        #expect(Self.tcp(e, port: 1000, flags: Wire.tcpACK, at: 2) == "rs3")
        let picks = (UInt16(1001)...1003).map { Self.tcp(e, port: $0, flags: Wire.tcpSYN, at: 3) }
        #expect(picks == ["rs2", "rs1", "rs2"])
        #expect(e.services[0].order == [2, 1, 0])
    }

    // `__ip_vs_update_dest` clears OVERLOAD when the upper threshold rises (or becomes 0), not
    // when it falls. rs3 with -x 1 is overloaded by its first connection.
    @Test func thresholdEditClearsOverload() throws {
        let e = try Self.engine(configuration: Self.configuration(tcp: [Self.rs1, Self.rs2, Self.server(TestNetwork.rs3, upper: 2)]))
        #expect(Self.tcp(e, port: 1, flags: Wire.tcpSYN, at: 0) == "rs3")
        #expect(Self.tcp(e, port: 2, flags: Wire.tcpSYN, at: 0) == "rs2")
        #expect(Self.tcp(e, port: 3, flags: Wire.tcpSYN, at: 0) == "rs1")
        #expect(Self.tcp(e, port: 4, flags: Wire.tcpSYN, at: 0) == "rs3")
        #expect(e.destination(slot: 2).isOverloaded)
        _ = try e.apply(Self.configuration(tcp: [Self.rs1, Self.rs2, Self.server(TestNetwork.rs3, upper: 1)]))
        #expect(e.destination(slot: 2).isOverloaded, "a lower threshold leaves OVERLOAD alone")
        #expect(e.destination(slot: 2).upperThreshold == 1)
        let outcome = try e.apply(Self.configuration(tcp: [Self.rs1, Self.rs2, Self.server(TestNetwork.rs3, upper: 5, lower: 2)]))
        #expect(outcome.updatedDestinations == 1)
        #expect(!e.destination(slot: 2).isOverloaded)
        #expect(e.destination(slot: 2).upperThreshold == 5 && e.destination(slot: 2).lowerThreshold == 2)
    }

    // A new server goes to the list head and rr's add_dest keeps its cursor on rs3: after rs3
    // the walk goes on rs2, rs1, then wraps to rs4 (the new head) and rs3.
    @Test func addedServerGoesToTheHead() throws {
        let e = try Self.engine()
        #expect(Self.tcp(e, port: 1, flags: Wire.tcpSYN, at: 0) == "rs3")
        let outcome = try e.apply(Self.configuration(tcp: [Self.rs1, Self.rs2, Self.rs3, Self.server(Self.rs4)]))
        #expect(outcome.addedDestinations == 1)
        #expect(outcome.addedNeighbors == [Self.rs4])
        #expect(e.neighbors.last?.address == Self.rs4 && e.neighbors.last?.isStatic == true)
        #expect(e.services[0].order == [5, 2, 1, 0])
        #expect(e.destinationCount == 6)
        let picks = (UInt16(2)...5).map { Self.tcp(e, port: $0, flags: Wire.tcpSYN, at: 1) }
        #expect(picks == ["rs2", "rs1", "rs4", "rs3"])
    }

    // MARK: - Schedulers

    // A new scheduler name starts the new scheduler on the current list (fo: the highest
    // weight, rs2); the established connection stays with its server.
    @Test func schedulerChange() throws {
        let e = try Self.engine()
        #expect(Self.tcp(e, port: 1, flags: Wire.tcpSYN, at: 0) == "rs3")
        _ = try e.apply(Self.configuration(tcp: [Self.rs1, Self.server(TestNetwork.rs2, weight: 5), Self.rs3], scheduler: "fo"))
        #expect(e.services[0].scheduler.name == "fo")
        let picks = (UInt16(2)...4).map { Self.tcp(e, port: $0, flags: Wire.tcpSYN, at: 1) }
        #expect(picks == ["rs2", "rs2", "rs2"])
        #expect(Self.tcp(e, port: 1, flags: Wire.tcpACK, at: 2) == "rs3")
    }

    // New scheduler flags re-create the scheduler even with the same name: rr starts again
    // from the head (rs3); the same configuration applied again keeps the cursor (rs2).
    @Test func schedulerFlagsChangeRestartsScheduler() throws {
        let same = try Self.engine()
        #expect(Self.tcp(same, port: 1, flags: Wire.tcpSYN, at: 0) == "rs3")
        _ = try same.apply(ForwardingEngineTests.configuration())
        #expect(Self.tcp(same, port: 2, flags: Wire.tcpSYN, at: 0) == "rs2")

        let flagged = try Self.engine()
        #expect(Self.tcp(flagged, port: 1, flags: Wire.tcpSYN, at: 0) == "rs3")
        _ = try flagged.apply(Self.configuration(tcp: [Self.rs1, Self.rs2, Self.rs3], flags: .flag1))
        #expect(flagged.services[0].schedulerFlags == .flag1)
        #expect(Self.tcp(flagged, port: 2, flags: Wire.tcpSYN, at: 0) == "rs3")
    }

    // MARK: - Removed servers

    // A removed server's connection is dropped (expire_nodest_conn = 0) and its counters stay
    // as they were; rr's del_dest moves the cursor back, so the next flow starts at the head.
    @Test func removedServerConnectionIsDropped() throws {
        let e = try Self.engine()
        #expect(Self.tcp(e, port: 1000, flags: Wire.tcpSYN, at: 0) == "rs3")
        #expect(Self.tcp(e, port: 1000, flags: Wire.tcpACK, at: 1) == "rs3")
        let outcome = try e.apply(Self.configuration(tcp: [Self.rs1, Self.rs2]))
        #expect(outcome.removedDestinations == 1 && outcome.expiredConnections == 0)
        #expect(!e.destination(slot: 2).isAvailable)
        #expect(e.services[0].order == [1, 0])
        #expect(Self.tcp(e, port: 1000, flags: Wire.tcpACK, at: 2) == "-")
        #expect(e.counter(.destinationUnavailable) == 1)
        #expect(e.destination(slot: 2).stats.inPackets == 2)
        #expect(e.stats(service: 0).inPackets == 2)
        #expect(e.connections.count == 1, "the entry lives on until it times out")
        #expect(Self.tcp(e, port: 1001, flags: Wire.tcpSYN, at: 3) == "rs2")
    }

    // With expire_nodest_conn the kernel flushes the removed server's connections: the entry
    // is gone at once, its counts are released, and the client's next SYN is scheduled anew.
    @Test func removedServerWithExpireNodestConnReschedules() throws {
        var settings = DirectorSettings()
        settings.expireNoDestinationConnections = true
        let e = try Self.engine(settings: settings)
        #expect(Self.tcp(e, port: 1000, flags: Wire.tcpSYN, at: 0) == "rs3")
        #expect(Self.tcp(e, port: 1000, flags: Wire.tcpACK, at: 1) == "rs3")
        #expect(Self.udp(e, port: 5000, at: 1) == "rs2")
        let outcome = try e.apply(Self.configuration(tcp: [Self.rs1, Self.rs2]))
        #expect(outcome.expiredConnections == 1)
        #expect(e.connections.count == 1, "the UDP connection to a kept server stays")
        #expect(ForwardingEngineTests.counts(e, 2) == (0, 0))
        #expect(Self.tcp(e, port: 1000, flags: Wire.tcpACK, at: 2) == "-")
        #expect(Self.tcp(e, port: 1000, flags: Wire.tcpSYN, at: 3) == "rs2")
        #expect(Self.udp(e, port: 5000, at: 3) == "rs2")
    }

    // Re-adding a removed server while its connection still holds the slot revives it: same
    // slot, counters and connection back, at the list head, with the new weight.
    @Test func reAddRevivesCountersAndConnections() throws {
        let e = try Self.engine()
        #expect(Self.tcp(e, port: 1000, flags: Wire.tcpSYN, at: 0) == "rs3")
        #expect(Self.tcp(e, port: 1000, flags: Wire.tcpACK, at: 1) == "rs3")
        _ = try e.apply(Self.configuration(tcp: [Self.rs1, Self.rs2]))
        #expect(Self.tcp(e, port: 1000, flags: Wire.tcpACK, at: 2) == "-")
        let outcome = try e.apply(Self.configuration(tcp: [Self.rs1, Self.rs2, Self.server(TestNetwork.rs3, weight: 2)]))
        #expect(outcome.revivedDestinations == 1 && outcome.addedDestinations == 0)
        #expect(e.services[0].order == [2, 1, 0])
        #expect(e.destinationCount == 5)
        let d = e.destination(slot: 2)
        #expect(d.isAvailable && d.weight == 2 && d.lastWeight == 2)
        #expect(d.stats.connections == 1 && d.stats.inPackets == 2)
        #expect(Self.tcp(e, port: 1000, flags: Wire.tcpACK, at: 3) == "rs3")
        #expect(ForwardingEngineTests.counts(e, 2) == (1, 0))
        #expect(e.destination(slot: 2).stats.inPackets == 3)
    }

    // Once nothing names a removed server's slot, the slot goes to the next new server, with
    // fresh counters; while a connection names it, a new server gets a new slot instead.
    @Test func slotReusedOnlyAfterConnectionsExpire() throws {
        let e = try Self.engine()
        #expect(Self.tcp(e, port: 1000, flags: Wire.tcpSYN, at: 0) == "rs3")   // SYN_RECV: 60 s
        _ = try e.apply(Self.configuration(tcp: [Self.rs1, Self.rs2]))
        _ = try e.apply(Self.configuration(tcp: [Self.rs1, Self.rs2, Self.server(Self.rs4)]))
        #expect(e.services[0].order == [5, 1, 0], "slot 2 is held by the connection")
        _ = try e.apply(Self.configuration(tcp: [Self.rs1, Self.rs2]))

        ForwardingEngineTests.expireAll(e, at: 61 * Self.second)
        #expect(e.connections.count == 0)
        #expect(e.destination(slot: 2).stats.connections == 1)
        let outcome = try e.apply(Self.configuration(tcp: [Self.rs1, Self.rs2, Self.server(TestNetwork.rs3)]))
        #expect(outcome.addedDestinations == 1 && outcome.revivedDestinations == 0)
        #expect(e.services[0].order == [2, 1, 0])
        #expect(e.destination(slot: 2).stats.connections == 0, "a new server, not a revived one")
        #expect(e.destinationCount == 6)
    }

    // A persistence template alone (its connections gone) still holds its server's slot.
    @Test func templateHoldsSlot() throws {
        var c = Self.configuration(tcp: [Self.rs1, Self.rs2, Self.rs3])
        c.services[0].persistence = Persistence(timeout: 300)
        let e = try Self.engine(configuration: c)
        #expect(Self.tcp(e, port: 1, flags: Wire.tcpSYN, at: 0) == "rs3")
        ForwardingEngineTests.expireAll(e, at: 61 * Self.second)
        #expect(e.connections.count == 1, "the template")
        #expect(ForwardingEngineTests.counts(e, 2) == (0, 0))
        var without = c
        without.services[0].realServers = [Self.rs1, Self.rs2]
        _ = try e.apply(without)
        var replaced = without
        replaced.services[0].realServers.append(Self.server(Self.rs4))
        _ = try e.apply(replaced)
        #expect(e.services[0].order == [5, 1, 0])
        #expect(e.destination(slot: 2).persistentConnections == 1)
    }

    // An lblc cache entry holds its server's slot like the kernel's dest reference: after the
    // connection is gone and the server removed, a new server does not get that slot, and the
    // server re-added is revived from it.
    @Test func lblcCacheHoldsSlot() throws {
        let lblc = Self.configuration(tcp: [Self.rs1, Self.rs2, Self.rs3], scheduler: "lblc")
        let e = try Self.engine(configuration: lblc)
        #expect(Self.tcp(e, port: 1, flags: Wire.tcpSYN, at: 0) == "rs3")
        ForwardingEngineTests.expireAll(e, at: 61 * Self.second)
        #expect(e.connections.count == 0)
        #expect(e.services[0].scheduler.heldSlots == [2])
        _ = try e.apply(Self.configuration(tcp: [Self.rs1, Self.rs2], scheduler: "lblc"))
        _ = try e.apply(Self.configuration(tcp: [Self.rs1, Self.rs2, Self.server(Self.rs4)], scheduler: "lblc"))
        #expect(e.services[0].order == [5, 1, 0])
        let back = try e.apply(Self.configuration(tcp: [Self.rs1, Self.rs2, Self.server(Self.rs4), Self.rs3], scheduler: "lblc"))
        #expect(back.revivedDestinations == 1)
        #expect(e.services[0].order == [2, 5, 1, 0])
    }

    // MARK: - Services

    // Removing the first service renumbers the UDP service from 1 to 0: its connection goes
    // on and its counters follow it. The removed service's connection is dropped without
    // crediting anyone. Re-adding the service later revives rs3 (its connection held the slot)
    // and the old connection flows again, credited to the new service.
    @Test func serviceRemovalRenumbersAndRevives() throws {
        let e = try Self.engine()
        #expect(Self.udp(e, port: 5000, at: 0) == "rs2")
        #expect(Self.tcp(e, port: 1000, flags: Wire.tcpSYN, at: 0) == "rs3")
        #expect(Self.tcp(e, port: 1000, flags: Wire.tcpACK, at: 1) == "rs3")
        var onlyUDP = ForwardingEngineTests.configuration()
        onlyUDP.services.removeFirst()
        let outcome = try e.apply(onlyUDP)
        #expect(outcome.removedServices == [Self.tcpService])
        #expect(outcome.removedDestinations == 3)
        #expect(!outcome.vipSetChanged)
        #expect(e.services.map(\.key) == [Self.udpService])
        #expect(e.stats(service: 0).inPackets == 1 && e.stats(service: 0).connections == 1)

        #expect(Self.udp(e, port: 5000, at: 2) == "rs2")
        #expect(e.stats(service: 0).inPackets == 2 && e.stats(service: 0).connections == 1)
        #expect(Self.tcp(e, port: 1000, flags: Wire.tcpACK, at: 2) == "-")
        #expect(e.stats(service: 0).inPackets == 2)
        let tcpEntry = e.connectionEntries(now: 2).first { $0.transport == TransportProtocol.tcp.rawValue }
        #expect(tcpEntry?.serviceIndex == UInt16.max)

        let back = try e.apply(ForwardingEngineTests.configuration())
        #expect(back.addedServices == [Self.tcpService])
        #expect(back.revivedDestinations == 1 && back.addedDestinations == 2)
        #expect(e.services.map(\.key) == [Self.tcpService, Self.udpService])
        #expect(e.stats(service: 0) == TrafficStats())
        #expect(Self.tcp(e, port: 1000, flags: Wire.tcpACK, at: 3) == "rs3")
        #expect(e.stats(service: 0).inPackets == 1)
        #expect(e.stats(service: 1).inPackets == 2)
        #expect(e.destination(slot: 2).stats.inPackets == 3)
    }

    // A service's packet and byte totals are derived from its servers' counters; a removed
    // server's packets stay in them after its slot goes to another server, and zeroing the
    // service zeroes them even while a removed server still holds its slot (and its counters).
    @Test func serviceTotalsKeepRemovedServersTraffic() throws {
        let e = try Self.engine()
        #expect(Self.tcp(e, port: 1000, flags: Wire.tcpSYN, at: 0) == "rs3")
        #expect(Self.tcp(e, port: 1000, flags: Wire.tcpACK, at: 1) == "rs3")
        #expect(Self.tcp(e, port: 1001, flags: Wire.tcpSYN, at: 1) == "rs2")
        let before = e.stats(service: 0)
        #expect(before.inPackets == 3 && before.inBytes == 3 * 40)
        // rs3 removed while its connection holds slot 2: the totals do not move.
        _ = try e.apply(Self.configuration(tcp: [Self.rs1, Self.rs2]))
        #expect(e.stats(service: 0) == before)
        // The connections expire and are swept; rs4 is added and gets the freed slot 2.
        e.expireConnections(now: 100_000 * Self.second, budget: 4096)
        let outcome = try e.apply(Self.configuration(tcp: [Self.rs1, Self.rs2, Self.server(Self.rs4)]))
        #expect(outcome.addedDestinations == 1)
        #expect(e.destination(slot: 2).address == Self.rs4 && e.destination(slot: 2).stats == TrafficStats())
        #expect(e.stats(service: 0).inPackets == 3 && e.stats(service: 0).inBytes == 3 * 40)
        #expect(e.status(now: 100_000 * Self.second, includeConnections: false).services[0].stats == e.stats(service: 0))
        #expect(Self.tcp(e, port: 1002, flags: Wire.tcpSYN, at: 100_001 * Self.second) != "-")
        #expect(e.stats(service: 0).inPackets == 4)
        #expect(e.stats(service: 1).inPackets == 0)
        // Zeroed with a removed server holding its slot: the service starts from 0, the held
        // slot keeps its counters, and later packets count from there.
        var port: UInt16 = 1003
        while Self.tcp(e, port: port, flags: Wire.tcpSYN, at: 100_002 * Self.second) != "rs4" && port < 1010 { port += 1 }
        #expect(e.stats(service: 0).inPackets == 4 + UInt64(port - 1002))
        _ = try e.apply(Self.configuration(tcp: [Self.rs1, Self.rs2]))
        let held = e.destination(slot: 2).stats.inPackets
        #expect(held == 1)
        try e.zeroCounters(service: Self.tcpService)
        #expect(e.stats(service: 0).inPackets == 0 && e.stats(service: 0).inBytes == 0)
        #expect(e.destination(slot: 2).stats.inPackets == held)
        #expect(Self.tcp(e, port: 2000, flags: Wire.tcpSYN, at: 100_003 * Self.second) != "-")
        #expect(e.stats(service: 0).inPackets == 1 && e.stats(service: 0).inBytes == 40)
    }

    // The totals follow their service's key when an apply renumbers the services; every
    // service's totals read in one sweep (`serviceTotals`, what the snapshot and the status
    // read) equal each one's; a service removed and added again with its key starts from 0
    // although it revives the held slot of its first life; `-Z` of every service zeroes them
    // all while the held slots keep their counters.
    @Test func serviceTotalsFollowRenumberingAndZeroTogether() throws {
        let e = try Self.engine()
        #expect(Self.tcp(e, port: 1000, flags: Wire.tcpSYN, at: 0) != "-")
        #expect(Self.tcp(e, port: 1000, flags: Wire.tcpACK, at: 1) != "-")
        #expect(Self.udp(e, port: 5000, at: 1) != "-")
        let tcpBefore = e.stats(service: 0), udpBefore = e.stats(service: 1)
        #expect(tcpBefore.inPackets == 2 && udpBefore.inPackets == 1)
        // Services in the other order: the UDP service is now index 0.
        var swapped = ForwardingEngineTests.configuration()
        swapped.services.reverse()
        _ = try e.apply(swapped)
        #expect(e.services[0].key == Self.udpService)
        #expect(e.stats(service: 0) == udpBefore && e.stats(service: 1) == tcpBefore)
        #expect(e.serviceTotals() == [udpBefore, tcpBefore])
        // The UDP service removed while its connection holds its server's slot, then added
        // again: its second life starts at 0, and the TCP service's totals do not move.
        var tcpOnly = ForwardingEngineTests.configuration()
        tcpOnly.services.removeLast()
        _ = try e.apply(tcpOnly)
        #expect(e.serviceTotals() == [tcpBefore])
        let outcome = try e.apply(ForwardingEngineTests.configuration())
        #expect(outcome.revivedDestinations > 0)
        #expect(e.stats(service: 1) == TrafficStats())
        #expect(e.stats(service: 0) == tcpBefore)
        #expect(Self.udp(e, port: 5000, at: 2) != "-")
        #expect(e.stats(service: 1).inPackets == 1)
        #expect(e.serviceTotals() == (0..<e.services.count).map { e.stats(service: $0) })
        // -Z of every service: all totals 0 in one sweep, and they count on from there.
        try e.zeroCounters(service: nil)
        #expect(e.serviceTotals() == [TrafficStats(), TrafficStats()])
        #expect(Self.tcp(e, port: 1000, flags: Wire.tcpACK, at: 3) != "-")
        #expect(e.stats(service: 0).inPackets == 1 && e.stats(service: 1) == TrafficStats())
    }

    // A removed service's template and connection are unlinked (nothing can find the template
    // through a service that is gone), so both expire on their own timers.
    @Test func removedServiceUnlinksTemplates() throws {
        var c = ForwardingEngineTests.configuration()
        c.services[0].persistence = Persistence(timeout: 30)
        let e = try Self.engine(configuration: c)
        #expect(Self.tcp(e, port: 1, flags: Wire.tcpSYN, at: 0) == "rs3")
        #expect(Self.tcp(e, port: 1, flags: Wire.tcpACK, at: 0) == "rs3")
        var onlyUDP = c
        onlyUDP.services.removeFirst()
        _ = try e.apply(onlyUDP)
        let entries = e.connectionEntries(now: 0)
        #expect(entries.count == 2)
        #expect(entries.allSatisfy { !$0.isControlled && $0.controlledCount == 0 })
        ForwardingEngineTests.expireAll(e, at: 31 * Self.second)
        #expect(e.connections.count == 1, "the template went after its 30 s; the connection has 900 s")
        #expect(e.destination(slot: 2).persistentConnections == 0)
        ForwardingEngineTests.expireAll(e, at: 901 * Self.second)
        #expect(e.connections.count == 0)
        #expect(ForwardingEngineTests.counts(e, 2) == (0, 0))
    }

    // A new VIP is reported and answered at once; a VIP whose last service goes is reported,
    // no longer answered, and its traffic is not the director's business any more.
    @Test func vipAddedAndRemoved() throws {
        let e = try Self.engine()
        #expect(Self.whoHas(e, Self.vip2) == .pass)
        var c = ForwardingEngineTests.configuration()
        c.services.append(VirtualServiceConfig(key: VirtualServiceKey(transport: .tcp, address: Self.vip2, port: 80),
                                               scheduler: "rr", realServers: [Self.server(Self.rs4)]))
        let added = try e.apply(c)
        #expect(added.addedVIPs == [Self.vip2] && added.removedVIPs.isEmpty && added.vipSetChanged)
        #expect(e.virtualAddressList == [TestNetwork.vip, Self.vip2])
        #expect(Self.whoHas(e, Self.vip2) == .transmit)
        #expect(Self.tcp(e, port: 1, flags: Wire.tcpSYN, at: 0, to: Self.vip2) == "rs4")

        let removed = try e.apply(DirectorConfiguration(services: [c.services[2]]))
        #expect(removed.removedVIPs == [TestNetwork.vip] && removed.addedVIPs.isEmpty && removed.vipSetChanged)
        #expect(e.virtualAddressList == [Self.vip2])
        #expect(Self.whoHas(e, TestNetwork.vip) == .pass)
        #expect(ForwardingEngineTests.send(e, TestNetwork.tcp(sourcePort: 2, flags: Wire.tcpSYN), at: 1).verdict == .pass)
        #expect(Self.tcp(e, port: 1, flags: Wire.tcpACK, at: 1, to: Self.vip2) == "rs4")
        // rs3 is configured nowhere now: it is no longer asked for.
        #expect(e.neighbors.first { $0.address == TestNetwork.rs3 }?.isInUse == false)
    }

    // Changing -p's netmask unlinks the service's templates from their connections (the new
    // mask can never find them); the old template then expires on its own timeout.
    @Test func persistenceNetmaskChangeUnlinksTemplates() throws {
        var c = Self.configuration(tcp: [Self.rs1, Self.rs2, Self.rs3])
        c.services[0].persistence = Persistence(timeout: 30)
        let e = try Self.engine(configuration: c)
        #expect(Self.tcp(e, port: 1, flags: Wire.tcpSYN, at: 0) == "rs3")
        #expect(Self.tcp(e, port: 1, flags: Wire.tcpACK, at: 0) == "rs3")
        var timeoutOnly = c
        timeoutOnly.services[0].persistence = Persistence(timeout: 60)
        _ = try e.apply(timeoutOnly)
        #expect(e.connectionEntries(now: 0).contains { $0.isTemplate && $0.controlledCount == 1 })
        var masked = c
        masked.services[0].persistence = Persistence(timeout: 60, netmask: IPv4Address(255, 255, 255, 0))
        _ = try e.apply(masked)
        #expect(e.services[0].persistence?.netmask == IPv4Address(255, 255, 255, 0))
        #expect(e.connectionEntries(now: 0).allSatisfy { !$0.isControlled && $0.controlledCount == 0 })
        ForwardingEngineTests.expireAll(e, at: 31 * Self.second)
        #expect(e.destination(slot: 2).persistentConnections == 0)
        #expect(ForwardingEngineTests.counts(e, 2) == (1, 0))
    }

    // MARK: - Refusals

    // A configuration the engine cannot run changes nothing: services, lists, VIPs, schedulers
    // and connections are as before.
    @Test func invalidConfigurationChangesNothing() throws {
        let e = try Self.engine()
        #expect(Self.tcp(e, port: 1, flags: Wire.tcpSYN, at: 0) == "rs3")
        let before = e.configuration
        var duplicate = ForwardingEngineTests.configuration()
        duplicate.services[0].realServers = [Self.rs1, Self.rs1]
        duplicate.services.append(VirtualServiceConfig(key: VirtualServiceKey(transport: .tcp, address: Self.vip2, port: 80),
                                                       scheduler: "rr", realServers: [Self.server(Self.rs4)]))
        var unknownScheduler = ForwardingEngineTests.configuration()
        unknownScheduler.services[1].scheduler = "no-such"
        unknownScheduler.services[0].realServers.removeLast()
        let thresholds = Self.configuration(tcp: [Self.server(TestNetwork.rs1, upper: 1, lower: 2)])
        let negative = Self.configuration(tcp: [Self.server(TestNetwork.rs1, weight: -1)])
        for bad in [duplicate, unknownScheduler, thresholds, negative] {
            #expect(throws: EngineConfigurationError.self) { try e.apply(bad) }
        }
        #expect(e.configuration == before)
        #expect(e.services.map(\.order) == [[2, 1, 0], [4, 3]])
        #expect(e.services[1].scheduler.name == "rr")
        #expect(e.virtualAddressList == [TestNetwork.vip])
        #expect(e.destinationCount == 5)
        #expect(Self.whoHas(e, Self.vip2) == .pass)
        #expect(Self.tcp(e, port: 2, flags: Wire.tcpSYN, at: 0) == "rs2")
        #expect(Self.tcp(e, port: 1, flags: Wire.tcpACK, at: 0) == "rs3")
    }

    // The pool is fixed: the engine refuses a first configuration larger than it, and an apply
    // that needs more slots than are free (a held slot is not free), changing nothing.
    @Test func destinationPoolIsBounded() throws {
        #expect(throws: EngineConfigurationError.self) { try Self.engine(destinationCapacity: 4) }
        let e = try Self.engine(destinationCapacity: 5)
        #expect(e.destinationCapacity == 5)
        #expect(throws: EngineConfigurationError.self) {
            try e.apply(Self.configuration(tcp: [Self.rs1, Self.rs2, Self.rs3, Self.server(Self.rs4)]))
        }
        #expect(e.services[0].order == [2, 1, 0])
        // Replacing rs3 (no connection holds it) by rs4 fits: rs4 takes slot 2.
        _ = try e.apply(Self.configuration(tcp: [Self.rs1, Self.rs2, Self.server(Self.rs4)]))
        #expect(e.services[0].order == [2, 1, 0])
        #expect(e.destination(slot: 2).address == Self.rs4)
        // With a connection on rs4, replacing it again needs a sixth slot.
        #expect(Self.tcp(e, port: 1, flags: Wire.tcpSYN, at: 0) == "rs4")
        #expect(throws: EngineConfigurationError.self) {
            try e.apply(Self.configuration(tcp: [Self.rs1, Self.rs2, Self.rs3]))
        }
        #expect(e.destination(slot: 2).isAvailable)
    }
}
