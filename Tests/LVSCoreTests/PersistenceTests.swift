import LVSCore
import Testing

/// Persistence templates (`-p`, `-M`), IPVS-SEMANTICS.md §3.7: a client network's first
/// connection picks a server; later connections from that network follow it while the template
/// lives (its timeout after the last connection, and as long as it controls any).
///
/// Configuration: TCP 10.0.0.100:80 rr -p 300 -M 255.255.255.0 with rs1, rs2, rs3 added in that
/// order (kernel list rs3, rs2, rs1, so rr picks rs3 first), all MACs static; and a port-0 service
/// on 10.0.0.101 with -p 60.
@Suite struct PersistenceTests {
    static let second: UInt64 = 1_000_000_000
    static let allPortsVIP = IPv4Address(10, 0, 0, 101)

    static func engine(weights: [Int32] = [1, 1, 1]) throws -> ForwardingEngine {
        let servers = [TestNetwork.rs1, TestNetwork.rs2, TestNetwork.rs3].enumerated().map {
            RealServerConfig(address: $0.element, port: 80, weight: weights[$0.offset])
        }
        let config = DirectorConfiguration(services: [
            VirtualServiceConfig(key: VirtualServiceKey(transport: .tcp, address: TestNetwork.vip, port: 80),
                                 scheduler: "rr", persistence: Persistence(timeout: 300, netmask: IPv4Address(255, 255, 255, 0)),
                                 realServers: servers),
            VirtualServiceConfig(key: VirtualServiceKey(transport: .tcp, address: allPortsVIP, port: 0),
                                 scheduler: "rr", persistence: Persistence(timeout: 60),
                                 realServers: [RealServerConfig(address: TestNetwork.rs1, port: 0),
                                               RealServerConfig(address: TestNetwork.rs2, port: 0)]),
        ])
        return try ForwardingEngine(configuration: config, directorMAC: TestNetwork.directorMAC,
                                    directorAddress: TestNetwork.directorIP, connectionCapacity: 1024, hashSeed: 7,
                                    staticNeighbors: [TestNetwork.rs1: TestNetwork.rs1MAC, TestNetwork.rs2: TestNetwork.rs2MAC,
                                                      TestNetwork.rs3: TestNetwork.rs3MAC])
    }

    /// Sends a segment from `client`:`port` and returns the server it went to ("-" if not sent).
    static func send(_ e: ForwardingEngine, client: IPv4Address, port: UInt16, flags: UInt8, at now: UInt64,
                     vip: IPv4Address = TestNetwork.vip, vport: UInt16 = 80) -> String {
        var frame = FrameBuilder.tcp(destinationMAC: TestNetwork.directorMAC, sourceMAC: TestNetwork.routerMAC,
                                     source: client, destination: vip, sourcePort: port, destinationPort: vport,
                                     flags: flags)
        guard withFrame(&frame, { e.process($0, now: now) }) == .transmit else { return "-" }
        return ForwardingEngineTests.server(frame)
    }

    // Without persistence rr would spread these three over rs3, rs2, rs1; with it, every
    // connection from the client follows the first one's server (rs3, the list head).
    @Test func connectionsFromOneClientStickToOneServer() throws {
        let e = try Self.engine()
        let picks = (0..<3).map { Self.send(e, client: TestNetwork.client, port: 40000 + UInt16($0), flags: Wire.tcpSYN, at: 0) }
        #expect(picks == ["rs3", "rs3", "rs3"])
        // The template counts in PersistConn of rs3, not in its active/inactive counts.
        #expect(e.destination(slot: 2).persistentConnections == 1)
        #expect(e.destination(slot: 2).activeConnections == 3)
    }

    // -M 255.255.255.0: clients of one /24 share a template; another /24 is scheduled anew.
    @Test func netmaskGroupsClients() throws {
        let e = try Self.engine()
        let a = Self.send(e, client: IPv4Address(192, 0, 2, 10), port: 1000, flags: Wire.tcpSYN, at: 0)
        let b = Self.send(e, client: IPv4Address(192, 0, 2, 77), port: 1000, flags: Wire.tcpSYN, at: 0)
        let c = Self.send(e, client: IPv4Address(198, 51, 100, 5), port: 1000, flags: Wire.tcpSYN, at: 0)
        #expect(a == "rs3" && b == "rs3")
        #expect(c == "rs2")
    }

    // The template expires `timeout` after its last connection was created, but not while it
    // still controls a connection: it is re-armed in 60 s steps until they are gone.
    @Test func templateOutlivesItsConnections() throws {
        let e = try Self.engine()
        #expect(Self.send(e, client: TestNetwork.client, port: 1, flags: Wire.tcpSYN, at: 0) == "rs3")
        #expect(Self.send(e, client: TestNetwork.client, port: 1, flags: Wire.tcpACK, at: 0) == "rs3")
        // At 300 s the ESTABLISHED connection (900 s) still lives, so the template is re-armed.
        e.expireConnections(now: 301 * Self.second, budget: 4096)
        #expect(e.destination(slot: 2).persistentConnections == 1)
        // A new connection at 310 s still follows the template.
        #expect(Self.send(e, client: TestNetwork.client, port: 2, flags: Wire.tcpSYN, at: 310 * Self.second) == "rs3")
        #expect(Self.send(e, client: TestNetwork.client, port: 2, flags: Wire.tcpACK, at: 311 * Self.second) == "rs3")
        // Both connections end (RST in ESTABLISHED → CLOSE, 10 s; a RST in SYN_RECV would keep
        // SYN_RECV, per the INPUT_ONLY table); after they expire and the template's own
        // timeout (300 s after 310 s) passes, it goes too and the next client connection is
        // scheduled afresh: rr continues after rs3 with rs2.
        #expect(Self.send(e, client: TestNetwork.client, port: 1, flags: Wire.tcpRST, at: 320 * Self.second) == "rs3")
        #expect(Self.send(e, client: TestNetwork.client, port: 2, flags: Wire.tcpRST, at: 320 * Self.second) == "rs3")
        e.expireConnections(now: 331 * Self.second, budget: 4096)
        #expect(e.destination(slot: 2).activeConnections == 0 && e.destination(slot: 2).inactiveConnections == 0)
        #expect(e.destination(slot: 2).persistentConnections == 1, "the template waits for its own timeout")
        e.expireConnections(now: 611 * Self.second, budget: 4096)
        #expect(e.destination(slot: 2).persistentConnections == 0)
        #expect(Self.send(e, client: TestNetwork.client, port: 3, flags: Wire.tcpSYN, at: 612 * Self.second) == "rs2")
    }

    // A quiesced server (weight 0) keeps its persistent clients (expire_quiescent_template=0),
    // while new clients go elsewhere.
    @Test func quiescedServerKeepsPersistentClients() throws {
        let e = try Self.engine(weights: [1, 1, 0])
        // rs3 has weight 0: the first client gets rs2.
        #expect(Self.send(e, client: TestNetwork.client, port: 1, flags: Wire.tcpSYN, at: 0) == "rs2")
        #expect(Self.send(e, client: TestNetwork.client, port: 2, flags: Wire.tcpSYN, at: 0) == "rs2")
    }

    // A controlled connection is never rescheduled by conn_reuse_mode: a SYN on its CLOSE
    // state reopens it on the same server (§3.9).
    @Test func controlledConnectionIsNotRescheduledOnReuse() throws {
        let e = try Self.engine()
        #expect(Self.send(e, client: TestNetwork.client, port: 5, flags: Wire.tcpSYN, at: 0) == "rs3")
        #expect(Self.send(e, client: TestNetwork.client, port: 5, flags: Wire.tcpRST, at: 0) == "rs3")
        #expect(Self.send(e, client: TestNetwork.client, port: 5, flags: Wire.tcpSYN, at: 1) == "rs3")
        #expect(e.destination(slot: 2).stats.connections == 1, "the same connection, not a new one")
    }

    // A port-0 persistent service takes every port of its VIP, and one client's connections to
    // different ports share one template (its key has port 0).
    @Test func portZeroServiceCoversEveryPort() throws {
        let e = try Self.engine()
        let picks = [80, 443, 8080].map {
            Self.send(e, client: TestNetwork.client, port: 3000, flags: Wire.tcpSYN, at: 0, vip: Self.allPortsVIP, vport: UInt16($0))
        }
        // Port-0 service list: rs2, rs1 (added rs1, rs2) → rr picks rs2 first.
        #expect(picks == ["rs2", "rs2", "rs2"])
    }

    // A configuration with port 0 and no persistence is refused, as ipvsadm refuses it.
    @Test func portZeroNeedsPersistence() {
        let config = DirectorConfiguration(services: [
            VirtualServiceConfig(key: VirtualServiceKey(transport: .tcp, address: TestNetwork.vip, port: 0), scheduler: "rr"),
        ])
        #expect(throws: EngineConfigurationError.self) {
            try ForwardingEngine(configuration: config, directorMAC: TestNetwork.directorMAC,
                                 directorAddress: TestNetwork.directorIP, connectionCapacity: 64, hashSeed: 1)
        }
    }
}

/// One-packet scheduling (`-o`, UDP only), IPVS-SEMANTICS.md §3.6: each datagram is scheduled
/// on its own and no connection is kept.
@Suite struct OnePacketSchedulingTests {
    static func engine() throws -> ForwardingEngine {
        let config = DirectorConfiguration(services: [
            VirtualServiceConfig(key: VirtualServiceKey(transport: .udp, address: TestNetwork.vip, port: 53),
                                 scheduler: "rr", onePacketScheduling: true,
                                 realServers: [RealServerConfig(address: TestNetwork.rs1, port: 53),
                                               RealServerConfig(address: TestNetwork.rs2, port: 53)]),
        ])
        return try ForwardingEngine(configuration: config, directorMAC: TestNetwork.directorMAC,
                                    directorAddress: TestNetwork.directorIP, connectionCapacity: 64, hashSeed: 5,
                                    staticNeighbors: [TestNetwork.rs1: TestNetwork.rs1MAC, TestNetwork.rs2: TestNetwork.rs2MAC])
    }

    // Four datagrams from one client port alternate rs2, rs1, rs2, rs1 (list rs2, rs1), and the
    // table stays empty while the connection counters count each datagram.
    @Test func everyDatagramIsScheduled() throws {
        let e = try Self.engine()
        var picks: [String] = []
        for _ in 0..<4 {
            let r = ForwardingEngineTests.send(e, TestNetwork.udp(sourcePort: 5353), at: 0)
            picks.append(r.verdict == .transmit ? ForwardingEngineTests.server(r.frame) : "-")
        }
        #expect(picks == ["rs2", "rs1", "rs2", "rs1"])
        #expect(e.connections.count == 0)
        #expect(e.stats(service: 0).connections == 4 && e.stats(service: 0).inPackets == 4)
    }

    // -o on a TCP service is refused, with ipvsadm's words.
    @Test func tcpServiceRefused() {
        let config = DirectorConfiguration(services: [
            VirtualServiceConfig(key: VirtualServiceKey(transport: .tcp, address: TestNetwork.vip, port: 80),
                                 scheduler: "rr", onePacketScheduling: true),
        ])
        #expect(throws: EngineConfigurationError.self) {
            try ForwardingEngine(configuration: config, directorMAC: TestNetwork.directorMAC,
                                 directorAddress: TestNetwork.directorIP, connectionCapacity: 64, hashSeed: 1)
        }
    }
}
