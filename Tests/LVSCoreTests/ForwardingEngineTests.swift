import Testing
import LVSCore

/// The engine driven with synthetic frames and a fake clock (`now` in nanoseconds).
///
/// Configuration used throughout (slots are assigned in configuration order):
///   TCP 10.0.0.100:80 rr: rs1 (slot 0), rs2 (slot 1), rs3 (slot 2) → kernel list rs3, rs2, rs1,
///     so rr from the list head picks rs3, rs2, rs1, rs3, … (§1.1, §2 rr).
///   UDP 10.0.0.100:53 rr: rs1 (slot 3), rs2 (slot 4) → list rs2, rs1.
/// rs1 and rs2 have static MACs; rs3 is learned from an ARP reply unless a test says otherwise.
@Suite struct ForwardingEngineTests {
    static let second: UInt64 = 1_000_000_000
    static let tcpService = VirtualServiceKey(transport: .tcp, address: TestNetwork.vip, port: 80)
    static let udpService = VirtualServiceKey(transport: .udp, address: TestNetwork.vip, port: 53)
    // Destination slots, from the configuration order above.
    static let rs1Slot: Int32 = 0, rs2Slot: Int32 = 1, rs3Slot: Int32 = 2
    static let udpRS1Slot: Int32 = 3, udpRS2Slot: Int32 = 4

    static func configuration(tcpWeights: [Int32] = [1, 1, 1], scheduler: String = "rr") -> DirectorConfiguration {
        DirectorConfiguration(services: [
            VirtualServiceConfig(key: tcpService, scheduler: scheduler, realServers: [
                RealServerConfig(address: TestNetwork.rs1, port: 80, weight: tcpWeights[0]),
                RealServerConfig(address: TestNetwork.rs2, port: 80, weight: tcpWeights[1]),
                RealServerConfig(address: TestNetwork.rs3, port: 80, weight: tcpWeights[2]),
            ]),
            VirtualServiceConfig(key: udpService, scheduler: "rr", realServers: [
                RealServerConfig(address: TestNetwork.rs1, port: 53),
                RealServerConfig(address: TestNetwork.rs2, port: 53),
            ]),
        ])
    }

    static func engine(tcpWeights: [Int32] = [1, 1, 1], learnRS3: Bool = true) throws -> ForwardingEngine {
        let e = try ForwardingEngine(configuration: configuration(tcpWeights: tcpWeights),
                                     directorMAC: TestNetwork.directorMAC, directorAddress: TestNetwork.directorIP,
                                     connectionCapacity: 1024, hashSeed: 0x1234,
                                     staticNeighbors: [TestNetwork.rs1: TestNetwork.rs1MAC, TestNetwork.rs2: TestNetwork.rs2MAC])
        if learnRS3 {
            var reply = arpReplyFromRS3(mac: TestNetwork.rs3MAC)
            _ = withFrame(&reply) { e.process($0, now: 0) }
        }
        return e
    }

    static func arpReplyFromRS3(mac: MACAddress) -> [UInt8] {
        FrameBuilder.arp(operation: Wire.arpReply, ethernetDestination: TestNetwork.directorMAC, ethernetSource: mac,
                         senderMAC: mac, senderIP: TestNetwork.rs3, targetMAC: TestNetwork.directorMAC,
                         targetIP: TestNetwork.directorIP)
    }

    /// Runs one frame through the engine; returns the verdict and the frame as it is afterwards.
    @discardableResult
    static func send(_ e: ForwardingEngine, _ frame: [UInt8], at now: UInt64) -> (verdict: Verdict, frame: [UInt8]) {
        var bytes = frame
        let verdict = withFrame(&bytes) { e.process($0, now: now) }
        return (verdict, bytes)
    }

    /// The real server a transmitted frame was addressed to, by destination MAC.
    static func server(_ frame: [UInt8]) -> String {
        switch FrameBuilder.getMAC(frame, 0) {
        case TestNetwork.rs1MAC: "rs1"
        case TestNetwork.rs2MAC: "rs2"
        case TestNetwork.rs3MAC: "rs3"
        default: "?"
        }
    }

    static func counts(_ e: ForwardingEngine, _ slot: Int32) -> (active: Int32, inactive: Int32) {
        let d = e.destination(slot: slot)
        return (d.activeConnections, d.inactiveConnections)
    }

    static func expireAll(_ e: ForwardingEngine, at now: UInt64) {
        e.expireConnections(now: now, budget: 2 * e.connections.capacity)
    }

    // MARK: - ARP

    // "who-has VIP" is answered in place: a reply from the director's MAC to the requester.
    @Test func arpWhoHasVIPIsAnswered() throws {
        let e = try Self.engine(learnRS3: false)
        let request = FrameBuilder.arp(operation: Wire.arpRequest, ethernetDestination: .broadcast,
                                       ethernetSource: TestNetwork.routerMAC, senderMAC: TestNetwork.routerMAC,
                                       senderIP: IPv4Address(10, 0, 0, 1), targetMAC: .zero, targetIP: TestNetwork.vip)
        let (verdict, out) = Self.send(e, request, at: 0)
        #expect(verdict == .transmit)
        #expect(FrameBuilder.getMAC(out, 0) == TestNetwork.routerMAC)
        #expect(FrameBuilder.getMAC(out, 6) == TestNetwork.directorMAC)
        #expect(FrameBuilder.get16(out, 20) == Wire.arpReply)
        #expect(FrameBuilder.getMAC(out, 22) == TestNetwork.directorMAC)
        #expect(FrameBuilder.get32(out, 28) == TestNetwork.vip.value)
        #expect(FrameBuilder.getMAC(out, 32) == TestNetwork.routerMAC)
        #expect(FrameBuilder.get32(out, 38) == IPv4Address(10, 0, 0, 1).value)
        #expect(e.counter(.arpRepliesSent) == 1)
        #expect(e.counter(.vipConflicts) == 0)
    }

    // ARP for an address that is not a VIP is the kernel's business: pass, frame untouched.
    @Test func arpForNonVIPPasses() throws {
        let e = try Self.engine(learnRS3: false)
        let request = FrameBuilder.arp(operation: Wire.arpRequest, ethernetDestination: .broadcast,
                                       ethernetSource: TestNetwork.routerMAC, senderMAC: TestNetwork.routerMAC,
                                       senderIP: IPv4Address(10, 0, 0, 1), targetMAC: .zero, targetIP: TestNetwork.directorIP)
        let (verdict, out) = Self.send(e, request, at: 0)
        #expect(verdict == .pass)
        #expect(out == request)
        #expect(e.counter(.arpRepliesSent) == 0)
    }

    // Another MAC claiming the VIP (gratuitous ARP or reply) is counted and remembered.
    @Test func arpClaimingVIPIsAConflict() throws {
        let e = try Self.engine(learnRS3: false)
        let gratuitous = FrameBuilder.arp(operation: Wire.arpRequest, ethernetDestination: .broadcast,
                                          ethernetSource: TestNetwork.otherHostMAC, senderMAC: TestNetwork.otherHostMAC,
                                          senderIP: TestNetwork.vip, targetMAC: .zero, targetIP: TestNetwork.vip)
        #expect(Self.send(e, gratuitous, at: 0).verdict == .pass)   // an announcement needs no reply
        #expect(e.counter(.vipConflicts) == 1)
        #expect(e.lastVIPConflict?.vip == TestNetwork.vip)
        #expect(e.lastVIPConflict?.mac == TestNetwork.otherHostMAC)
        let reply = FrameBuilder.arp(operation: Wire.arpReply, ethernetDestination: TestNetwork.directorMAC,
                                     ethernetSource: TestNetwork.rs1MAC, senderMAC: TestNetwork.rs1MAC,
                                     senderIP: TestNetwork.vip, targetMAC: TestNetwork.directorMAC,
                                     targetIP: TestNetwork.directorIP)
        Self.send(e, reply, at: 0)
        #expect(e.counter(.vipConflicts) == 2)
        #expect(e.lastVIPConflict?.mac == TestNetwork.rs1MAC)
        // The director's own announcement (looped back) is not a conflict.
        let own = FrameBuilder.arp(operation: Wire.arpRequest, ethernetDestination: .broadcast,
                                   ethernetSource: TestNetwork.directorMAC, senderMAC: TestNetwork.directorMAC,
                                   senderIP: TestNetwork.vip, targetMAC: .zero, targetIP: TestNetwork.vip)
        Self.send(e, own, at: 0)
        #expect(e.counter(.vipConflicts) == 2)
    }

    // An ARP reply from a real server teaches its MAC (counted once per change); then a flow
    // scheduled to it is forwarded to that MAC. Before that, the packet waits (dropped, counted).
    @Test func neighborLearnedFromARPReply() throws {
        let e = try Self.engine(learnRS3: false)
        let rs3Neighbor = try #require(e.neighbors.firstIndex { $0.address == TestNetwork.rs3 })
        #expect(e.neighbors[rs3Neighbor].mac == nil)
        #expect(!e.neighbors[rs3Neighbor].isStatic)

        // rr picks rs3 first; its MAC is unknown.
        #expect(Self.send(e, TestNetwork.tcp(sourcePort: 1000, flags: Wire.tcpSYN), at: 0).verdict == .drop)
        #expect(e.counter(.neighborUnresolved) == 1)
        #expect(e.neighbors[rs3Neighbor].isWanted)

        #expect(Self.send(e, Self.arpReplyFromRS3(mac: TestNetwork.rs3MAC), at: Self.second).verdict == .pass)
        #expect(e.counter(.neighborUpdates) == 1)
        #expect(e.neighbors[rs3Neighbor].mac == TestNetwork.rs3MAC)
        #expect(e.neighbors[rs3Neighbor].lastConfirmedAt == Self.second)
        #expect(!e.neighbors[rs3Neighbor].isWanted)
        #expect(e.destination(slot: Self.rs3Slot).mac == TestNetwork.rs3MAC)

        // The SYN retransmission finds the connection to rs3 and now goes out.
        let (verdict, out) = Self.send(e, TestNetwork.tcp(sourcePort: 1000, flags: Wire.tcpSYN), at: 2 * Self.second)
        #expect(verdict == .transmit)
        #expect(Self.server(out) == "rs3")

        // The same MAC again is a confirmation, not an update; a new MAC is.
        Self.send(e, Self.arpReplyFromRS3(mac: TestNetwork.rs3MAC), at: 3 * Self.second)
        #expect(e.counter(.neighborUpdates) == 1)
        let moved = MACAddress(value: 0x0200_0000_0203)
        Self.send(e, Self.arpReplyFromRS3(mac: moved), at: 4 * Self.second)
        #expect(e.counter(.neighborUpdates) == 2)
        #expect(e.destination(slot: Self.rs3Slot).mac == moved)
    }

    // Static neighbours are never overwritten by ARP.
    @Test func staticNeighborNotOverwritten() throws {
        let e = try Self.engine(learnRS3: false)
        let liar = MACAddress(value: 0x0200_0000_0666)
        let reply = FrameBuilder.arp(operation: Wire.arpReply, ethernetDestination: TestNetwork.directorMAC,
                                     ethernetSource: liar, senderMAC: liar, senderIP: TestNetwork.rs1,
                                     targetMAC: TestNetwork.directorMAC, targetIP: TestNetwork.directorIP)
        Self.send(e, reply, at: 0)
        #expect(e.counter(.neighborUpdates) == 0)
        #expect(e.destination(slot: Self.rs1Slot).mac == TestNetwork.rs1MAC)
    }

    // MARK: - Forwarding

    // A SYN is forwarded to the first rr server (rs3): dst MAC = rs3, src MAC = director,
    // TTL − 1, valid header checksum, everything else identical (§4).
    @Test func synForwardedToFirstServer() throws {
        let e = try Self.engine()
        let syn = TestNetwork.tcp(flags: Wire.tcpSYN, ttl: 64)
        let (verdict, out) = Self.send(e, syn, at: 0)
        #expect(verdict == .transmit)
        #expect(FrameBuilder.getMAC(out, 0) == TestNetwork.rs3MAC)
        #expect(FrameBuilder.getMAC(out, 6) == TestNetwork.directorMAC)
        #expect(out[22] == 63)
        #expect(ReferenceChecksum.foldedSum(out[14..<34]) == 0xFFFF)
        #expect(Array(out[12..<22]) == Array(syn[12..<22]))
        #expect(Array(out[26...]) == Array(syn[26...]))
        #expect(e.counter(.forwardedFrames) == 1)
        #expect(e.counter(.forwardedBytes) == UInt64(syn.count))
        #expect(e.destination(slot: Self.rs3Slot).stats.connections == 1)
        #expect(e.destination(slot: Self.rs3Slot).stats.inPackets == 1)
        #expect(e.destination(slot: Self.rs3Slot).stats.inBytes == 40)   // IP total length: 20 + 20
        #expect(e.stats(service: 0).connections == 1)
    }

    // Later packets of a flow follow its connection; each new flow takes the next server in rr
    // order: flows 1..4 → rs3, rs2, rs1, rs3.
    @Test func flowsStickAndNewFlowsRotate() throws {
        let e = try Self.engine()
        #expect(Self.server(Self.send(e, TestNetwork.tcp(sourcePort: 40000, flags: Wire.tcpSYN), at: 0).frame) == "rs3")
        #expect(Self.server(Self.send(e, TestNetwork.tcp(sourcePort: 40000, flags: Wire.tcpACK), at: 1).frame) == "rs3")
        let data = TestNetwork.tcp(sourcePort: 40000, flags: Wire.tcpACK | 0x08, payload: Array("hello".utf8))
        #expect(Self.server(Self.send(e, data, at: 2).frame) == "rs3")
        var order: [String] = []
        for port: UInt16 in [40001, 40002, 40003] {
            let (verdict, out) = Self.send(e, TestNetwork.tcp(sourcePort: port, flags: Wire.tcpSYN), at: 3)
            #expect(verdict == .transmit)
            order.append(Self.server(out))
        }
        #expect(order == ["rs2", "rs1", "rs3"])
        // The first flow still goes to rs3 after the others were scheduled.
        #expect(Self.server(Self.send(e, TestNetwork.tcp(sourcePort: 40000, flags: Wire.tcpACK), at: 4).frame) == "rs3")
        #expect(e.connections.count == 4)
    }

    // IPVS schedules TCP only on a SYN: an ACK without a connection is dropped and counted.
    @Test func ackWithoutConnectionDropped() throws {
        let e = try Self.engine()
        let ack = TestNetwork.tcp(flags: Wire.tcpACK)
        let (verdict, out) = Self.send(e, ack, at: 0)
        #expect(verdict == .drop)
        #expect(out == ack)
        #expect(e.counter(.noConnection) == 1)
        #expect(e.connections.count == 0)
        // SYN+RST is not schedulable either.
        #expect(Self.send(e, TestNetwork.tcp(flags: Wire.tcpSYN | Wire.tcpRST), at: 0).verdict == .drop)
        #expect(e.counter(.noConnection) == 2)
    }

    // A VIP port without a service (TCP 443, UDP 54) is dropped and counted as noService.
    @Test func vipPortWithoutServiceDropped() throws {
        let e = try Self.engine()
        #expect(Self.send(e, TestNetwork.tcp(destinationPort: 443, flags: Wire.tcpSYN), at: 0).verdict == .drop)
        #expect(e.counter(.noService) == 1)
        #expect(Self.send(e, TestNetwork.udp(destinationPort: 54), at: 0).verdict == .drop)
        #expect(e.counter(.noService) == 2)
        #expect(e.connections.count == 0)
    }

    // IPv4 to the director's own address (not a VIP) passes to the kernel, untouched.
    @Test func ipv4ToNonVIPPasses() throws {
        let e = try Self.engine()
        let ssh = TestNetwork.tcp(destinationPort: 22, flags: Wire.tcpSYN, destination: TestNetwork.directorIP)
        let (verdict, out) = Self.send(e, ssh, at: 0)
        #expect(verdict == .pass)
        #expect(out == ssh)
        #expect(e.counter(.notForUs) == 1)
        let icmp = FrameBuilder.ethernetIPv4(destinationMAC: TestNetwork.directorMAC, sourceMAC: TestNetwork.routerMAC,
                                             source: TestNetwork.client, destination: TestNetwork.directorIP,
                                             protocolNumber: 1, ttl: 64, transport: [8, 0, 0xF7, 0xFF, 0, 0, 0, 0])
        #expect(Self.send(e, icmp, at: 0).verdict == .pass)
    }

    // Frames addressed to another MAC pass, even when they are for the VIP.
    @Test func framesForAnotherMACPass() throws {
        let e = try Self.engine()
        let syn = TestNetwork.tcp(flags: Wire.tcpSYN, destinationMAC: TestNetwork.otherHostMAC)
        let (verdict, out) = Self.send(e, syn, at: 0)
        #expect(verdict == .pass)
        #expect(out == syn)
        let unicastARP = FrameBuilder.arp(operation: Wire.arpRequest, ethernetDestination: TestNetwork.otherHostMAC,
                                          ethernetSource: TestNetwork.routerMAC, senderMAC: TestNetwork.routerMAC,
                                          senderIP: IPv4Address(10, 0, 0, 1), targetMAC: .zero, targetIP: TestNetwork.vip)
        #expect(Self.send(e, unicastARP, at: 0).verdict == .pass)
        #expect(e.counter(.arpRepliesSent) == 0)
        #expect(e.connections.count == 0)
    }

    // TTL 1 would reach 0 on the way to the server: not forwarded (the engine answers with
    // ICMP time exceeded instead, see ICMPMessageTests), counted, frame untouched.
    @Test func ttlOneDropped() throws {
        let e = try Self.engine()
        let syn = TestNetwork.tcp(flags: Wire.tcpSYN, ttl: 1)
        let (verdict, out) = Self.send(e, syn, at: 0)
        #expect(verdict == .transmitGenerated)
        #expect(out == syn)
        #expect(e.counter(.ttlExceeded) == 1)
        #expect(e.counter(.forwardedFrames) == 0)
        // TTL 2 is the lowest that is forwarded (and leaves with TTL 1).
        let (v2, out2) = Self.send(e, TestNetwork.tcp(sourcePort: 2, flags: Wire.tcpSYN, ttl: 2), at: 0)
        #expect(v2 == .transmit)
        #expect(out2[22] == 1)
    }

    // A malformed frame for the director is dropped and counted under its reason; one for
    // another MAC is not ours to count.
    @Test func malformedFramesCountedByReason() throws {
        let e = try Self.engine()
        var bad = TestNetwork.tcp(flags: Wire.tcpSYN)
        bad[24] ^= 0xFF
        #expect(Self.send(e, bad, at: 0).verdict == .drop)
        #expect(e.counter(MalformedReason.badIPHeaderChecksum) == 1)
        var badOffset = TestNetwork.tcp(flags: Wire.tcpSYN)
        badOffset[46] = 0x30
        #expect(Self.send(e, badOffset, at: 0).verdict == .drop)
        #expect(e.counter(MalformedReason.badTCPDataOffset) == 1)
        #expect(Self.send(e, [1, 2, 3], at: 0).verdict == .drop)
        #expect(e.counter(MalformedReason.truncatedEthernet) == 1)
        var elsewhere = TestNetwork.tcp(flags: Wire.tcpSYN, destinationMAC: TestNetwork.otherHostMAC)
        elsewhere[24] ^= 0xFF
        #expect(Self.send(e, elsewhere, at: 0).verdict == .pass)
        #expect(e.counter(MalformedReason.badIPHeaderChecksum) == 1)
        let snapshot = e.counterSnapshot()
        #expect(snapshot[DataPlaneCounter.slot(for: .badIPHeaderChecksum)] == 1)
        #expect(snapshot.count == DataPlaneCounter.slotNames.count)
    }

    // Fragments to a VIP are dropped (no reassembly); other protocols to a VIP are too.
    @Test func fragmentsAndOtherProtocolsToVIPDropped() throws {
        let e = try Self.engine()
        #expect(Self.send(e, TestNetwork.tcp(flags: Wire.tcpSYN, fragmentField: 0x2000), at: 0).verdict == .drop)
        let later = FrameBuilder.ethernetIPv4(destinationMAC: TestNetwork.directorMAC, sourceMAC: TestNetwork.routerMAC,
                                              source: TestNetwork.client, destination: TestNetwork.vip, protocolNumber: 6,
                                              ttl: 64, fragmentField: 100, transport: [UInt8](repeating: 0, count: 16))
        #expect(Self.send(e, later, at: 0).verdict == .drop)
        #expect(e.counter(.fragments) == 2)
        let ping = FrameBuilder.ethernetIPv4(destinationMAC: TestNetwork.directorMAC, sourceMAC: TestNetwork.routerMAC,
                                             source: TestNetwork.client, destination: TestNetwork.vip,
                                             protocolNumber: 1, ttl: 64, transport: [8, 0, 0xF7, 0xFF, 0, 0, 0, 0])
        #expect(Self.send(e, ping, at: 0).verdict == .drop)
        #expect(e.counter(.unsupportedProtocol) == 1)
        #expect(e.connections.count == 0)
    }

    // MARK: - Connection states and counters

    // §3.4 golden DR flow: SYN → SYN_RECV (active), ACK → ESTABLISHED (active), data → ES,
    // FIN+ACK → FIN_WAIT (inactive), last ACK → FIN_WAIT. The entry then lives 120 s (§3.5)
    // after the last packet: gone at t + 120 s, not at t + 120 s − 1 ns.
    @Test func goldenDRFlowCountsAndExpiry() throws {
        let e = try Self.engine()
        let s = Self.second
        let steps: [(UInt8, UInt64, ConnectionState, Int32, Int32)] = [
            (Wire.tcpSYN, 0, .synReceived, 1, 0),
            (Wire.tcpACK, 1 * s, .established, 1, 0),
            (Wire.tcpACK | 0x08, 2 * s, .established, 1, 0),
            (Wire.tcpFIN | Wire.tcpACK, 3 * s, .finWait, 0, 1),
            (Wire.tcpACK, 4 * s, .finWait, 0, 1),
        ]
        for (flags, time, state, active, inactive) in steps {
            let (verdict, out) = Self.send(e, TestNetwork.tcp(flags: flags), at: time)
            #expect(verdict == .transmit)
            #expect(Self.server(out) == "rs3")
            let entries = e.connectionEntries(now: time)
            #expect(entries.count == 1)
            #expect(entries.first?.state == state)
            #expect(Self.counts(e, Self.rs3Slot) == (active, inactive), "after \(state)")
        }
        #expect(e.connectionEntries(now: 4 * s).first?.expiresAt == 4 * s + 120 * s)
        Self.expireAll(e, at: 124 * s - 1)
        #expect(e.connections.count == 1)
        #expect(Self.counts(e, Self.rs3Slot) == (0, 1))
        Self.expireAll(e, at: 124 * s)
        #expect(e.connections.count == 0)
        #expect(Self.counts(e, Self.rs3Slot) == (0, 0))
    }

    // Each state keeps its §3.5 timeout: SYN_RECV 60 s, ESTABLISHED 900 s, CLOSE 10 s,
    // TIME_WAIT 120 s, UDP 300 s. Flows are opened at t = 0 (and moved on at t = 1 s).
    @Test func timeoutsPerState() throws {
        let e = try Self.engine()
        let s = Self.second
        Self.send(e, TestNetwork.tcp(sourcePort: 1, flags: Wire.tcpSYN), at: 0)                 // SR, until 60 s
        Self.send(e, TestNetwork.tcp(sourcePort: 2, flags: Wire.tcpSYN), at: 0)
        Self.send(e, TestNetwork.tcp(sourcePort: 2, flags: Wire.tcpACK), at: s)                 // ES, until 901 s
        Self.send(e, TestNetwork.tcp(sourcePort: 3, flags: Wire.tcpSYN), at: 0)
        Self.send(e, TestNetwork.tcp(sourcePort: 3, flags: Wire.tcpACK), at: 0)
        Self.send(e, TestNetwork.tcp(sourcePort: 3, flags: Wire.tcpRST), at: s)                 // CL, until 11 s
        Self.send(e, TestNetwork.tcp(sourcePort: 4, flags: Wire.tcpSYN), at: 0)
        Self.send(e, TestNetwork.tcp(sourcePort: 4, flags: Wire.tcpFIN), at: s)                 // TW, until 121 s
        Self.send(e, TestNetwork.udp(sourcePort: 5), at: 0)                                     // UDP, until 300 s
        #expect(e.connections.count == 5)
        let expectedLeft: [(UInt64, Int)] = [
            (11 * s - 1, 5), (11 * s, 4), (60 * s - 1, 4), (60 * s, 3), (121 * s - 1, 3), (121 * s, 2),
            (300 * s - 1, 2), (300 * s, 1), (901 * s - 1, 1), (901 * s, 0),
        ]
        for (time, left) in expectedLeft {
            Self.expireAll(e, at: time)
            #expect(e.connections.count == left, "at \(Double(time) / 1e9) s")
        }
        for slot: Int32 in 0..<5 { #expect(Self.counts(e, slot) == (0, 0)) }
    }

    // A packet of an expired connection that the sweep has not reached yet is treated as if
    // the connection were gone: an ACK is dropped, a SYN is scheduled afresh.
    @Test func expiredEntryOnThePacketPath() throws {
        let e = try Self.engine()
        let s = Self.second
        #expect(Self.server(Self.send(e, TestNetwork.tcp(flags: Wire.tcpSYN), at: 0).frame) == "rs3")
        #expect(Self.send(e, TestNetwork.tcp(flags: Wire.tcpACK), at: 60 * s).verdict == .drop)
        #expect(e.counter(.noConnection) == 1)
        #expect(Self.counts(e, Self.rs3Slot) == (0, 0))
        #expect(Self.server(Self.send(e, TestNetwork.tcp(flags: Wire.tcpSYN), at: 61 * s).frame) == "rs2")
    }

    // conn_reuse_mode = 1 (§3.9): a SYN on a TIME_WAIT entry ends it and schedules a new
    // connection (rr moves on to rs2); SYN then FIN gives TIME_WAIT (SR + fin → TW).
    @Test func synOnTimeWaitReschedules() throws {
        let e = try Self.engine()
        Self.send(e, TestNetwork.tcp(flags: Wire.tcpSYN), at: 0)
        Self.send(e, TestNetwork.tcp(flags: Wire.tcpFIN), at: 1)
        #expect(e.connectionEntries(now: 1).first?.state == .timeWait)
        #expect(Self.counts(e, Self.rs3Slot) == (0, 1))
        let (verdict, out) = Self.send(e, TestNetwork.tcp(flags: Wire.tcpSYN), at: 2)
        #expect(verdict == .transmit)
        #expect(Self.server(out) == "rs2")
        #expect(Self.counts(e, Self.rs3Slot) == (0, 0))
        #expect(Self.counts(e, Self.rs2Slot) == (1, 0))
        #expect(e.connections.count == 1)
        #expect(e.connectionEntries(now: 2).first?.destinationSlot == Self.rs2Slot)
    }

    // Likewise from CLOSE: SYN, ACK (ES), RST → CLOSE; the next SYN goes to rs2.
    @Test func synOnCloseReschedules() throws {
        let e = try Self.engine()
        Self.send(e, TestNetwork.tcp(flags: Wire.tcpSYN), at: 0)
        Self.send(e, TestNetwork.tcp(flags: Wire.tcpACK), at: 1)
        Self.send(e, TestNetwork.tcp(flags: Wire.tcpRST), at: 2)
        #expect(e.connectionEntries(now: 2).first?.state == .close)
        #expect(Self.counts(e, Self.rs3Slot) == (0, 1))
        #expect(Self.server(Self.send(e, TestNetwork.tcp(flags: Wire.tcpSYN), at: 3).frame) == "rs2")
        #expect(Self.counts(e, Self.rs3Slot) == (0, 0))
        #expect(Self.counts(e, Self.rs2Slot) == (1, 0))
    }

    // But a SYN on FIN_WAIT (mode 1 does not reuse it) keeps the same server: FW + syn → SR,
    // active again, and the rr cursor has not moved (the next new flow still gets rs2).
    @Test func synOnFinWaitKeepsServer() throws {
        let e = try Self.engine()
        Self.send(e, TestNetwork.tcp(flags: Wire.tcpSYN), at: 0)
        Self.send(e, TestNetwork.tcp(flags: Wire.tcpACK), at: 1)
        Self.send(e, TestNetwork.tcp(flags: Wire.tcpFIN | Wire.tcpACK), at: 2)
        #expect(e.connectionEntries(now: 2).first?.state == .finWait)
        #expect(Self.counts(e, Self.rs3Slot) == (0, 1))
        #expect(Self.server(Self.send(e, TestNetwork.tcp(flags: Wire.tcpSYN), at: 3).frame) == "rs3")
        #expect(e.connectionEntries(now: 3).first?.state == .synReceived)
        #expect(Self.counts(e, Self.rs3Slot) == (1, 0))
        #expect(e.destination(slot: Self.rs3Slot).stats.connections == 1)
        #expect(Self.server(Self.send(e, TestNetwork.tcp(sourcePort: 9, flags: Wire.tcpSYN), at: 4).frame) == "rs2")
    }

    // UDP (§3.6): every datagram without a connection is scheduled; the connection is state
    // UDP, counted inactive, refreshed to 300 s by each datagram. UDP list rs2, rs1 → rs2 first.
    @Test func udpCreatesInactiveConnection() throws {
        let e = try Self.engine()
        let s = Self.second
        let (verdict, out) = Self.send(e, TestNetwork.udp(sourcePort: 5000), at: 0)
        #expect(verdict == .transmit)
        #expect(Self.server(out) == "rs2")
        #expect(Self.counts(e, Self.udpRS2Slot) == (0, 1))
        #expect(e.connectionEntries(now: 0).first?.state == .udp)
        #expect(Self.server(Self.send(e, TestNetwork.udp(sourcePort: 5000), at: 100 * s).frame) == "rs2")
        #expect(Self.counts(e, Self.udpRS2Slot) == (0, 1))
        #expect(Self.server(Self.send(e, TestNetwork.udp(sourcePort: 5001), at: 100 * s).frame) == "rs1")
        Self.expireAll(e, at: 400 * s - 1)
        #expect(e.connections.count == 2)
        Self.expireAll(e, at: 400 * s)
        #expect(e.connections.count == 0)
        #expect(Self.counts(e, Self.udpRS2Slot) == (0, 0))
        #expect(Self.counts(e, Self.udpRS1Slot) == (0, 0))
    }

    // Weight 0 everywhere: the service matches but rr finds nobody (§2 rr) → not forwarded,
    // noDestination; the client gets ICMP port unreachable (§3.12, see ICMPMessageTests).
    @Test func allWeightsZeroDropped() throws {
        let e = try Self.engine(tcpWeights: [0, 0, 0])
        #expect(Self.send(e, TestNetwork.tcp(flags: Wire.tcpSYN), at: 0).verdict == .transmitGenerated)
        #expect(e.counter(.noDestination) == 1)
        #expect(e.connections.count == 0)
    }

    // A quiesced server (weight 0) is skipped for new flows: weights rs1 1, rs2 0, rs3 1 → rs3, rs1, rs3.
    @Test func weightZeroServerSkipped() throws {
        let e = try Self.engine(tcpWeights: [1, 0, 1])
        let picks = (UInt16(1)...3).map { Self.server(Self.send(e, TestNetwork.tcp(sourcePort: $0, flags: Wire.tcpSYN), at: 0).frame) }
        #expect(picks == ["rs3", "rs1", "rs3"])
    }

    // MARK: - Configuration errors

    // A service defined twice, a real server added twice, or a scheduler the engine does not
    // run (unknown or not implemented) are refused with EngineConfigurationError.
    @Test func configurationErrors() {
        let make = { (c: DirectorConfiguration) throws(EngineConfigurationError) -> ForwardingEngine in
            try ForwardingEngine(configuration: c, directorMAC: TestNetwork.directorMAC,
                                 directorAddress: TestNetwork.directorIP, connectionCapacity: 64, hashSeed: 0)
        }
        var twice = Self.configuration()
        twice.services.append(VirtualServiceConfig(key: Self.tcpService, scheduler: "rr"))
        #expect(throws: EngineConfigurationError.self) { try make(twice) }

        var duplicateServer = Self.configuration()
        duplicateServer.services[0].realServers.append(RealServerConfig(address: TestNetwork.rs2, port: 80, weight: 5))
        #expect(throws: EngineConfigurationError.self) { try make(duplicateServer) }

        for scheduler in ["foo", "no-such-scheduler", ""] {
            #expect(throws: EngineConfigurationError.self) { try make(Self.configuration(scheduler: scheduler)) }
        }
        #expect(throws: Never.self) { try make(Self.configuration(scheduler: "wrr")) }
        #expect(throws: Never.self) { try make(DirectorConfiguration()) }
    }
}
