import LVSCore
import Testing

/// ICMP errors the director originates (§3.12 ip_vs_leave, §4 TTL and MTU checks) and the ICMP
/// errors it relays to real servers (§3.11).
@Suite struct ICMPMessageTests {
    static let second: UInt64 = 1_000_000_000

    /// The generated frame as bytes.
    static func generated(_ e: ForwardingEngine) -> [UInt8] {
        Array(UnsafeRawBufferPointer(start: e.generatedFrame, count: e.generatedLength))
    }

    /// Checks the Ethernet/IP/ICMP framing of an error about `original` and returns the ICMP part.
    static func checkError(_ frame: [UInt8], about original: [UInt8], type: UInt8, code: UInt8) -> [UInt8] {
        #expect(FrameBuilder.getMAC(frame, 0) == TestNetwork.routerMAC, "back to the MAC the packet came from")
        #expect(FrameBuilder.getMAC(frame, 6) == TestNetwork.directorMAC)
        #expect(FrameBuilder.get16(frame, 12) == Wire.etherTypeIPv4)
        let ip = Array(frame[14..<34])
        #expect(ReferenceChecksum.foldedSum(ip) == 0xFFFF, "IPv4 header checksum verifies")
        #expect(ip[9] == 1, "protocol ICMP")
        #expect(FrameBuilder.get32(frame, 26) == TestNetwork.vip.value, "from the VIP")
        #expect(FrameBuilder.get32(frame, 30) == TestNetwork.client.value, "to the client")
        #expect(Int(FrameBuilder.get16(frame, 16)) == frame.count - 14, "IP total length")
        let icmp = Array(frame[34...])
        #expect(icmp[0] == type && icmp[1] == code)
        #expect(ReferenceChecksum.foldedSum(icmp) == 0xFFFF, "ICMP checksum verifies")
        // The quote: the offending IP header and the first 8 bytes after it (ports included).
        #expect(Array(icmp[8...]) == Array(original[14..<(14 + 20 + 8)]))
        return icmp
    }

    // No server available → port unreachable from the VIP to the client, quoting the SYN.
    @Test func noDestinationGivesPortUnreachable() throws {
        let e = try ForwardingEngineTests.engine(tcpWeights: [0, 0, 0])
        let syn = TestNetwork.tcp(flags: Wire.tcpSYN)
        #expect(ForwardingEngineTests.send(e, syn, at: 0).verdict == .transmitGenerated)
        _ = Self.checkError(Self.generated(e), about: syn, type: 3, code: 3)
        #expect(e.counter(.icmpErrorsSent) == 1)
    }

    // TTL 1 → time exceeded (type 11, code 0).
    @Test func ttlOneGivesTimeExceeded() throws {
        let e = try ForwardingEngineTests.engine()
        let syn = TestNetwork.tcp(flags: Wire.tcpSYN, ttl: 1)
        #expect(ForwardingEngineTests.send(e, syn, at: 0).verdict == .transmitGenerated)
        _ = Self.checkError(Self.generated(e), about: syn, type: 11, code: 0)
    }

    // DF and longer than the MTU → fragmentation needed carrying the MTU (RFC 1191); without DF,
    // or as a GSO super-frame (segmented by the kernel on transmit), it is forwarded.
    @Test func tooBigWithDFGivesFragmentationNeeded() throws {
        let e = try ForwardingEngine(configuration: ForwardingEngineTests.configuration(),
                                     directorMAC: TestNetwork.directorMAC, directorAddress: TestNetwork.directorIP,
                                     connectionCapacity: 1024, hashSeed: 1,
                                     staticNeighbors: [TestNetwork.rs1: TestNetwork.rs1MAC, TestNetwork.rs2: TestNetwork.rs2MAC,
                                                       TestNetwork.rs3: TestNetwork.rs3MAC], mtu: 1000)
        let big = TestNetwork.tcp(flags: Wire.tcpSYN, payload: [UInt8](repeating: 7, count: 1000))
        #expect(ForwardingEngineTests.send(e, big, at: 0).verdict == .transmitGenerated)
        let icmp = Self.checkError(Self.generated(e), about: big, type: 3, code: 4)
        #expect(FrameBuilder.get16(icmp, 6) == 1000, "next-hop MTU")
        #expect(e.counter(.tooBig) == 1)

        let noDF = TestNetwork.tcp(sourcePort: 2, flags: Wire.tcpSYN, payload: [UInt8](repeating: 7, count: 1000),
                                   fragmentField: 0)
        #expect(ForwardingEngineTests.send(e, noDF, at: 0).verdict == .transmit)
        var superFrame = TestNetwork.tcp(sourcePort: 3, flags: Wire.tcpSYN, payload: [UInt8](repeating: 7, count: 1000))
        #expect(withFrame(&superFrame) { e.process($0, now: 0, isSuperFrame: true) } == .transmit)
    }

    // At most 50 errors in a burst, then 1 per millisecond: the rest are counted, not sent.
    @Test func errorsAreRateLimited() throws {
        let e = try ForwardingEngineTests.engine(tcpWeights: [0, 0, 0])
        var sent = 0
        for port in UInt16(1)...80 where ForwardingEngineTests.send(e, TestNetwork.tcp(sourcePort: port, flags: Wire.tcpSYN), at: 0).verdict == .transmitGenerated {
            sent += 1
        }
        #expect(sent == 50)
        #expect(e.counter(.icmpRateLimited) == 30)
        // 10 ms later, 10 more tokens.
        var later = 0
        for port in UInt16(100)...130 where ForwardingEngineTests.send(e, TestNetwork.tcp(sourcePort: port, flags: Wire.tcpSYN), at: 10_000_000).verdict == .transmitGenerated {
            later += 1
        }
        #expect(later == 10)
    }

    // An ICMP error from a router on the return path, addressed to the VIP and quoting a
    // real server's reply (VIP:80 → client:40000), goes to that connection's real server (§3.11).
    @Test func errorAboutAConnectionIsRelayedToItsServer() throws {
        let e = try ForwardingEngineTests.engine()
        let first = ForwardingEngineTests.send(e, TestNetwork.tcp(sourcePort: 40000, flags: Wire.tcpSYN), at: 0)
        let server = ForwardingEngineTests.server(first.frame)
        // The quoted reply: IPv4 VIP → client, TCP 80 → 40000.
        var quoted = FrameBuilder.tcp(destinationMAC: TestNetwork.routerMAC, sourceMAC: TestNetwork.rs3MAC,
                                      source: TestNetwork.vip, destination: TestNetwork.client,
                                      sourcePort: 80, destinationPort: 40000, flags: Wire.tcpACK)
        quoted = Array(quoted[14..<(14 + 28)])
        var icmp: [UInt8] = [3, 4, 0, 0, 0, 0, 0x05, 0x78] + quoted   // frag needed, MTU 1400
        FrameBuilder.put16(&icmp, 2, ~ReferenceChecksum.foldedSum(icmp))
        var frame = FrameBuilder.ethernetIPv4(destinationMAC: TestNetwork.directorMAC, sourceMAC: TestNetwork.routerMAC,
                                              source: IPv4Address(198, 51, 100, 1), destination: TestNetwork.vip,
                                              protocolNumber: 1, ttl: 60, transport: icmp)
        #expect(withFrame(&frame) { e.process($0, now: 1) } == .transmit)
        #expect(ForwardingEngineTests.server(frame) == server)
        #expect(e.counter(.icmpErrorsRelayed) == 1)
        // The relayed error counts for the server (SYN and error) and for its service, as the
        // kernel's `ip_vs_in_icmp` counts it (`ip_vs_in_stats`: dest, service, totals).
        let slot = e.connectionEntries(now: 1)[0].destinationSlot
        #expect(e.destination(slot: slot).stats.inPackets == 2)
        #expect(e.stats(service: 0).inPackets == 2)
        #expect(e.stats(service: 0).inBytes == e.destination(slot: slot).stats.inBytes)
        #expect(e.status(now: 1, includeConnections: false).services[0].stats.inPackets == 2)
        // An error quoting a flow nobody knows is dropped.
        var unknown = icmp
        FrameBuilder.put16(&unknown, 8 + 20 + 2, 41000)
        FrameBuilder.put16(&unknown, 2, 0)
        FrameBuilder.put16(&unknown, 2, ~ReferenceChecksum.foldedSum(unknown))
        var other = FrameBuilder.ethernetIPv4(destinationMAC: TestNetwork.directorMAC, sourceMAC: TestNetwork.routerMAC,
                                              source: IPv4Address(198, 51, 100, 1), destination: TestNetwork.vip,
                                              protocolNumber: 1, ttl: 60, transport: unknown)
        #expect(withFrame(&other) { e.process($0, now: 1) } == .drop)
    }
}
