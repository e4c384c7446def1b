import LVSCore
import Testing

/// The sysctl switches of IPVS-SEMANTICS.md §3.8-§3.10, on the engine with synthetic frames.
/// Service: TCP 10.0.0.100:80 rr with rs1, rs2, rs3 (list rs3, rs2, rs1), all MACs static.
@Suite struct DirectorSettingsTests {
    static let second: UInt64 = 1_000_000_000

    static func engine(_ settings: DirectorSettings, weights: [Int32] = [1, 1, 1]) throws -> ForwardingEngine {
        try ForwardingEngine(configuration: ForwardingEngineTests.configuration(tcpWeights: weights),
                             directorMAC: TestNetwork.directorMAC, directorAddress: TestNetwork.directorIP,
                             connectionCapacity: 1024, hashSeed: 3,
                             staticNeighbors: [TestNetwork.rs1: TestNetwork.rs1MAC, TestNetwork.rs2: TestNetwork.rs2MAC,
                                               TestNetwork.rs3: TestNetwork.rs3MAC], settings: settings)
    }

    static func send(_ e: ForwardingEngine, port: UInt16 = 40000, flags: UInt8, at now: UInt64) -> String {
        let r = ForwardingEngineTests.send(e, TestNetwork.tcp(sourcePort: port, flags: flags), at: now)
        return r.verdict == .transmit ? ForwardingEngineTests.server(r.frame) : "-"
    }

    // The kernel's defaults.
    @Test func defaults() {
        let s = DirectorSettings()
        #expect(s.connectionReuseMode == 1 && !s.expireNoDestinationConnections && !s.expireQuiescentTemplates && !s.sloppyTCP)
        #expect(s.timeouts == ConnectionTimeouts())
    }

    // conn_reuse_mode 3 (bit 2): a SYN reusing a port in FIN_WAIT is scheduled afresh (rs3 → rs2);
    // mode 1 keeps the server (rs3), §3.9.
    @Test func connectionReuseModeBitTwoReschedulesFinWait() throws {
        for (mode, expected) in [(UInt8(1), "rs3"), (UInt8(3), "rs2")] {
            var settings = DirectorSettings()
            settings.connectionReuseMode = mode
            let e = try Self.engine(settings)
            #expect(Self.send(e, flags: Wire.tcpSYN, at: 0) == "rs3")
            #expect(Self.send(e, flags: Wire.tcpACK, at: 0) == "rs3")
            #expect(Self.send(e, flags: Wire.tcpFIN | Wire.tcpACK, at: 0) == "rs3")
            #expect(Self.send(e, flags: Wire.tcpSYN, at: 1) == expected, "mode \(mode)")
        }
    }

    // conn_reuse_mode 0: even a SYN on a CLOSE connection stays with its server.
    @Test func connectionReuseModeZeroNeverReschedules() throws {
        var settings = DirectorSettings()
        settings.connectionReuseMode = 0
        let e = try Self.engine(settings)
        #expect(Self.send(e, flags: Wire.tcpSYN, at: 0) == "rs3")
        #expect(Self.send(e, flags: Wire.tcpACK, at: 0) == "rs3")
        #expect(Self.send(e, flags: Wire.tcpRST, at: 0) == "rs3")
        #expect(Self.send(e, flags: Wire.tcpSYN, at: 1) == "rs3")
    }

    // sloppy_tcp: an ACK with no connection (a flow from another director) opens one; a RST never does.
    @Test func sloppyTCPPicksUpMidStreamFlows() throws {
        let strict = try Self.engine(DirectorSettings())
        #expect(Self.send(strict, flags: Wire.tcpACK, at: 0) == "-")
        var settings = DirectorSettings()
        settings.sloppyTCP = true
        let sloppy = try Self.engine(settings)
        #expect(Self.send(sloppy, port: 1, flags: Wire.tcpACK, at: 0) == "rs3")
        #expect(Self.send(sloppy, port: 1, flags: Wire.tcpACK, at: 0) == "rs3")
        #expect(Self.send(sloppy, port: 2, flags: Wire.tcpRST, at: 0) == "-")
        // An ACK-opened connection goes NONE → ESTABLISHED (the ack row), so it counts as active.
        #expect(sloppy.destination(slot: 2).activeConnections == 1)
    }

    // --set: ESTABLISHED 60 s instead of 900 s, so the connection is gone after 61 s.
    @Test func timeoutsApply() throws {
        var settings = DirectorSettings()
        settings.timeouts.set(tcp: 60, tcpFin: 0, udp: 0)
        let e = try Self.engine(settings)
        #expect(Self.send(e, flags: Wire.tcpSYN, at: 0) == "rs3")
        #expect(Self.send(e, flags: Wire.tcpACK, at: 0) == "rs3")
        e.expireConnections(now: 59 * Self.second, budget: 4096)
        #expect(e.connections.count == 1)
        e.expireConnections(now: 61 * Self.second, budget: 4096)
        #expect(e.connections.count == 0)
    }
}
