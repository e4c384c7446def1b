import Testing
import LVSCore

/// Frame offsets used below: Ethernet 0..<14, IPv4 14..<34 (no options), L4 from 34.
@Suite struct FrameParserTests {
    let guarded = GuardedBuffer()

    func parse(_ bytes: [UInt8]) -> ParsedFrame {
        guarded.withFrame(bytes) { FrameParser.parse($0) }
    }

    // MARK: - Valid frames

    // Every field of a TCP SYN lands where RFC 791/793 put it.
    @Test func validTCPFrame() {
        let frame = TestNetwork.tcp(sourcePort: 40000, destinationPort: 80, flags: Wire.tcpSYN, ttl: 61,
                                    payload: [1, 2, 3, 4, 5])
        let p = parse(frame)
        #expect(p.kind == .ipv4Transport)
        #expect(p.destinationMAC == TestNetwork.directorMAC)
        #expect(p.sourceMAC == TestNetwork.routerMAC)
        #expect(p.ipHeaderLength == 20)
        #expect(p.ipTotalLength == 20 + 20 + 5)   // IP header + TCP header + payload
        #expect(p.ipTTL == 61)
        #expect(p.ipProtocol == 6)
        #expect(p.ipSource == TestNetwork.client)
        #expect(p.ipDestination == TestNetwork.vip)
        #expect(p.sourcePort == 40000)
        #expect(p.destinationPort == 80)
        #expect(p.tcpFlags == Wire.tcpSYN)
        #expect(!p.isFragment)
        #expect(!p.isFirstFragment)
    }

    // UDP ports and lengths are read; TCP flags stay zero.
    @Test func validUDPFrame() {
        let frame = TestNetwork.udp(sourcePort: 5353, destinationPort: 53, payload: [9, 9, 9])
        let p = parse(frame)
        #expect(p.kind == .ipv4Transport)
        #expect(p.ipProtocol == 17)
        #expect(p.ipTotalLength == 20 + 8 + 3)
        #expect(p.sourcePort == 5353)
        #expect(p.destinationPort == 53)
        #expect(p.tcpFlags == 0)
    }

    // ARP fields come from RFC 826 offsets: op at 20, sha 22, spa 28, tpa 38.
    @Test func validARPRequest() {
        let frame = FrameBuilder.arp(operation: Wire.arpRequest, ethernetDestination: .broadcast,
                                     ethernetSource: TestNetwork.routerMAC, senderMAC: TestNetwork.routerMAC,
                                     senderIP: IPv4Address(10, 0, 0, 1), targetMAC: .zero, targetIP: TestNetwork.vip)
        let p = parse(frame)
        #expect(p.kind == .arp)
        #expect(p.destinationMAC == .broadcast)
        #expect(p.arpOperation == Wire.arpRequest)
        #expect(p.arpSenderMAC == TestNetwork.routerMAC)
        #expect(p.arpSenderAddress == IPv4Address(10, 0, 0, 1))
        #expect(p.arpTargetAddress == TestNetwork.vip)
    }

    // An unpadded 42-byte ARP frame is complete; one byte less is truncated.
    @Test func arpLengthBoundary() {
        let frame = FrameBuilder.arp(operation: Wire.arpReply, ethernetDestination: TestNetwork.directorMAC,
                                     ethernetSource: TestNetwork.rs1MAC, senderMAC: TestNetwork.rs1MAC,
                                     senderIP: TestNetwork.rs1, targetMAC: TestNetwork.directorMAC,
                                     targetIP: TestNetwork.directorIP, padded: false)
        #expect(frame.count == 42)
        #expect(parse(frame).kind == .arp)
        #expect(parse(Array(frame.dropLast())).kind == .malformed(.truncatedARP))
    }

    // Only Ethernet/IPv4 ARP (htype 1, ptype 0x0800, hlen 6, plen 4) is understood.
    @Test(arguments: [(14, UInt8(1)), (15, 6), (17, 0xDD), (18, 8), (19, 16)])
    func unsupportedARPFormat(offset: Int, value: UInt8) {
        var frame = FrameBuilder.arp(operation: Wire.arpRequest, ethernetDestination: .broadcast,
                                     ethernetSource: TestNetwork.routerMAC, senderMAC: TestNetwork.routerMAC,
                                     senderIP: TestNetwork.client, targetMAC: .zero, targetIP: TestNetwork.vip)
        frame[offset] = value
        #expect(parse(frame).kind == .malformed(.unsupportedARPFormat))
    }

    // IPv4 options move L4 by IHL*4: IHL 6 puts the TCP ports at 14 + 24.
    @Test func ipOptionsShiftTransportHeader() {
        let frame = FrameBuilder.tcp(destinationMAC: TestNetwork.directorMAC, sourceMAC: TestNetwork.routerMAC,
                                     source: TestNetwork.client, destination: TestNetwork.vip,
                                     sourcePort: 1111, destinationPort: 2222, flags: Wire.tcpACK,
                                     ipOptions: [1, 1, 1, 0])   // NOP NOP NOP EOL
        #expect(frame[14] == 0x46)
        let p = parse(frame)
        #expect(p.kind == .ipv4Transport)
        #expect(p.ipHeaderLength == 24)
        #expect(p.sourcePort == 1111)
        #expect(p.destinationPort == 2222)
        #expect(p.tcpFlags == Wire.tcpACK)
    }

    // TCP options (data offset 8 = 32 bytes) are accepted when the segment holds them.
    @Test func tcpOptionsAccepted() {
        let mssWindowScale: [UInt8] = [2, 4, 0x05, 0xB4, 1, 3, 3, 7, 1, 1, 1, 0]
        let frame = FrameBuilder.tcp(destinationMAC: TestNetwork.directorMAC, sourceMAC: TestNetwork.routerMAC,
                                     source: TestNetwork.client, destination: TestNetwork.vip,
                                     sourcePort: 3333, destinationPort: 80, flags: Wire.tcpSYN,
                                     tcpOptions: mssWindowScale)
        #expect(frame[34 + 12] == 0x80)
        let p = parse(frame)
        #expect(p.kind == .ipv4Transport)
        #expect(p.sourcePort == 3333)
    }

    // Frames that are neither IPv4 nor ARP (IPv6, 802.1Q) are left alone, not malformed.
    @Test func otherEtherTypes() {
        for etherType: UInt16 in [0x86DD, 0x8100, 0x88CC] {
            var frame = TestNetwork.tcp(flags: Wire.tcpSYN)
            FrameBuilder.put16(&frame, 12, etherType)
            let p = parse(frame)
            #expect(p.kind == .otherEtherType)
            #expect(p.destinationMAC == TestNetwork.directorMAC)
        }
    }

    // An IPv4 protocol other than TCP/UDP (ICMP = 1) is ipv4Other with IP fields filled in.
    @Test func otherIPProtocol() {
        let frame = FrameBuilder.ethernetIPv4(destinationMAC: TestNetwork.directorMAC, sourceMAC: TestNetwork.routerMAC,
                                              source: TestNetwork.client, destination: TestNetwork.vip,
                                              protocolNumber: 1, ttl: 64, transport: [8, 0, 0xF7, 0xFF, 0, 0, 0, 0])
        let p = parse(frame)
        #expect(p.kind == .ipv4Other)
        #expect(p.ipProtocol == 1)
        #expect(p.ipDestination == TestNetwork.vip)
        #expect(p.ipTotalLength == 28)
    }

    // MARK: - Truncation and bad headers

    // Cutting a valid 60-byte TCP frame at every length gives, by where the cut falls:
    // < 14 no Ethernet header; 14..<34 no complete IPv4 header; 34..<60 the IP total length
    // (46) exceeds the captured 14+L3 bytes. The guard page turns any over-read into a crash.
    @Test func everyTruncationOfTCPFrame() {
        let full = TestNetwork.tcp(flags: Wire.tcpACK | Wire.tcpSYN, payload: [0xAA, 0xBB, 0xCC, 0xDD, 0xEE, 0xFF])
        #expect(full.count == 14 + 20 + 20 + 6)
        #expect(parse(full).kind == .ipv4Transport)
        for length in 0..<full.count {
            let expected: ParsedFrame.Kind = switch length {
            case ..<14: .malformed(.truncatedEthernet)
            case ..<34: .malformed(.truncatedIPv4)
            default: .malformed(.badIPTotalLength)
            }
            let kind = parse(Array(full.prefix(length))).kind
            #expect(kind == expected, "length \(length)")
        }
    }

    // Same for a frame whose IP header has options (IHL 6): 14..<34 is truncatedIPv4, 34..<38
    // is a header shorter than its IHL, the rest is a short total length.
    @Test func everyTruncationWithIPOptions() {
        let full = FrameBuilder.tcp(destinationMAC: TestNetwork.directorMAC, sourceMAC: TestNetwork.routerMAC,
                                    source: TestNetwork.client, destination: TestNetwork.vip,
                                    sourcePort: 1, destinationPort: 80, flags: Wire.tcpSYN, ipOptions: [1, 1, 1, 0])
        #expect(full.count == 14 + 24 + 20)
        for length in 0..<full.count {
            let expected: ParsedFrame.Kind = switch length {
            case ..<14: .malformed(.truncatedEthernet)
            case ..<34: .malformed(.truncatedIPv4)
            case ..<38: .malformed(.badIPHeaderLength)
            default: .malformed(.badIPTotalLength)
            }
            #expect(parse(Array(full.prefix(length))).kind == expected, "length \(length)")
        }
    }

    // Version nibble must be 4 (here 6, with a recomputed checksum so only the version is wrong).
    @Test func badIPVersion() {
        var frame = TestNetwork.tcp(flags: Wire.tcpSYN)
        frame[14] = 0x65
        FrameBuilder.fixIPv4Checksum(&frame)
        #expect(parse(frame).kind == .malformed(.badIPVersion))
    }

    // IHL below 5 words is not a header; IHL 15 (60 bytes) beyond the captured bytes is not either.
    @Test(arguments: [UInt8(0x40), 0x41, 0x44, 0x4F])
    func badIPHeaderLength(versionIHL: UInt8) {
        var frame = TestNetwork.tcp(flags: Wire.tcpSYN)   // 54 bytes: only 40 after the Ethernet header
        frame[14] = versionIHL
        #expect(parse(frame).kind == .malformed(.badIPHeaderLength))
    }

    // Total length larger than what was captured, or smaller than the header, is refused.
    @Test(arguments: [UInt16(41), 1500, 19, 0])
    func badIPTotalLength(totalLength: UInt16) {
        var frame = TestNetwork.tcp(flags: Wire.tcpSYN)   // real total length 40
        FrameBuilder.put16(&frame, 16, totalLength)
        FrameBuilder.fixIPv4Checksum(&frame)
        #expect(parse(frame).kind == .malformed(.badIPTotalLength))
    }

    // One flipped bit in the header breaks the checksum (RFC 1071: the sum must fold to 0xFFFF).
    @Test func badIPHeaderChecksum() {
        var frame = TestNetwork.tcp(flags: Wire.tcpSYN)
        frame[14 + 8] ^= 0x01   // TTL changed without fixing the checksum
        #expect(parse(frame).kind == .malformed(.badIPHeaderChecksum))
        var frame2 = TestNetwork.tcp(flags: Wire.tcpSYN)
        frame2[24] ^= 0x80     // the checksum field itself
        #expect(parse(frame2).kind == .malformed(.badIPHeaderChecksum))
    }

    // TCP data offset must be at least 5 words and fit in the segment (20 bytes here).
    @Test(arguments: [UInt8(0x00), 0x40, 0x60, 0xF0])
    func badTCPDataOffset(offsetByte: UInt8) {
        var frame = TestNetwork.tcp(flags: Wire.tcpSYN)
        frame[34 + 12] = offsetByte
        #expect(parse(frame).kind == .malformed(.badTCPDataOffset))
    }

    // A TCP segment shorter than 20 bytes (per the IP total length) is truncated even if the
    // capture holds more bytes (Ethernet padding).
    @Test func truncatedTCPSegment() {
        var frame = TestNetwork.tcp(flags: Wire.tcpSYN)
        FrameBuilder.put16(&frame, 16, 20 + 19)
        FrameBuilder.fixIPv4Checksum(&frame)
        #expect(parse(frame).kind == .malformed(.truncatedTCP))
    }

    // A UDP datagram needs its 8-byte header: 7 bytes after the IP header is truncated.
    @Test func truncatedUDP() {
        let frame = FrameBuilder.ethernetIPv4(destinationMAC: TestNetwork.directorMAC, sourceMAC: TestNetwork.routerMAC,
                                              source: TestNetwork.client, destination: TestNetwork.vip,
                                              protocolNumber: 17, ttl: 64, transport: [0, 53, 0, 53, 0, 8, 0])
        #expect(parse(frame).kind == .malformed(.truncatedUDP))
        // Exactly 8 bytes is a valid empty datagram.
        let ok = FrameBuilder.ethernetIPv4(destinationMAC: TestNetwork.directorMAC, sourceMAC: TestNetwork.routerMAC,
                                           source: TestNetwork.client, destination: TestNetwork.vip,
                                           protocolNumber: 17, ttl: 64, transport: [0, 53, 0, 54, 0, 8, 0, 0])
        let p = parse(ok)
        #expect(p.kind == .ipv4Transport)
        #expect(p.destinationPort == 54)
    }

    // MARK: - Fragments and padding

    // MF set with offset 0 is the first fragment: it carries the ports, so they are parsed.
    @Test func firstFragment() {
        let frame = TestNetwork.tcp(sourcePort: 1234, flags: Wire.tcpSYN, payload: [UInt8](repeating: 7, count: 16),
                                    fragmentField: 0x2000)
        let p = parse(frame)
        #expect(p.kind == .ipv4Transport)
        #expect(p.isFragment)
        #expect(p.isFirstFragment)
        #expect(p.sourcePort == 1234)
    }

    // A non-zero offset is a later fragment: no L4 header, so no ports and no L4 checks, even
    // when the fragment is shorter than a TCP header.
    @Test(arguments: [UInt16(0x2000 | 185), 185])   // with and without MF
    func laterFragment(fragmentField: UInt16) {
        let frame = FrameBuilder.ethernetIPv4(destinationMAC: TestNetwork.directorMAC, sourceMAC: TestNetwork.routerMAC,
                                              source: TestNetwork.client, destination: TestNetwork.vip,
                                              protocolNumber: 6, ttl: 64, fragmentField: fragmentField,
                                              transport: [1, 2, 3, 4, 5, 6, 7, 8])
        let p = parse(frame)
        #expect(p.kind == .ipv4Other)
        #expect(p.isFragment)
        #expect(!p.isFirstFragment)
        #expect(p.sourcePort == 0)
        #expect(p.destinationPort == 0)
    }

    // DF alone is not fragmentation.
    @Test func dontFragmentIsNotAFragment() {
        let p = parse(TestNetwork.tcp(flags: Wire.tcpSYN, fragmentField: 0x4000))
        #expect(!p.isFragment)
    }

    // A 54-byte SYN padded to Ethernet's 60-byte minimum: the IP total length (40) rules.
    @Test func ethernetPaddingIsIgnored() {
        let frame = TestNetwork.tcp(flags: Wire.tcpSYN) + [0, 0, 0, 0, 0, 0]
        #expect(frame.count == 60)
        let p = parse(frame)
        #expect(p.kind == .ipv4Transport)
        #expect(p.ipTotalLength == 40)
        let udp = TestNetwork.udp(payload: []) + [UInt8](repeating: 0xEE, count: 18)
        let q = parse(udp)
        #expect(q.kind == .ipv4Transport)
        #expect(q.ipTotalLength == 28)
    }

    // MARK: - Fuzzing

    /// Checks that what the parser claims is backed by the bytes: a failing check names the rule.
    static func inconsistency(_ p: ParsedFrame, _ bytes: [UInt8]) -> String? {
        if bytes.count < 14 { return p.kind == .malformed(.truncatedEthernet) ? nil : "short frame not truncatedEthernet" }
        if p.destinationMAC != FrameBuilder.getMAC(bytes, 0) { return "destination MAC" }
        let etherType = FrameBuilder.get16(bytes, 12)
        switch p.kind {
        case .otherEtherType:
            return etherType != 0x0800 && etherType != 0x0806 ? nil : "IPv4/ARP reported as other"
        case .arp:
            return etherType == 0x0806 && bytes.count >= 42 ? nil : "ARP without 42 bytes"
        case .ipv4Other, .ipv4Transport:
            guard etherType == 0x0800, p.ipHeaderLength >= 20, p.ipHeaderLength <= p.ipTotalLength,
                  14 + p.ipTotalLength <= bytes.count,
                  ReferenceChecksum.foldedSum(bytes[14..<14 + p.ipHeaderLength]) == 0xFFFF
            else { return "IPv4 fields not backed by the bytes" }
            if p.kind == .ipv4Transport {
                let l4 = p.ipTotalLength - p.ipHeaderLength
                if p.ipProtocol == 6 && l4 < 20 { return "TCP shorter than its header" }
                if p.ipProtocol == 17 && l4 < 8 { return "UDP shorter than its header" }
                if p.ipProtocol != 6 && p.ipProtocol != 17 { return "transport kind for another protocol" }
            }
            return nil
        case .malformed:
            return nil
        }
    }

    // 20 000 random buffers of 0...200 bytes (a third with an IPv4 or ARP EtherType so the
    // deeper paths run) never crash and never produce a result the bytes do not support.
    @Test func fuzzRandomBuffers() {
        var rng = SplitMix64(seed: 0x5EED_0001)
        var failures = 0
        for _ in 0..<20_000 {
            let length = Int.random(in: 0...200, using: &rng)
            var bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &rng) }
            if length >= 14 {
                switch rng.next() % 3 {
                case 0: FrameBuilder.put16(&bytes, 12, 0x0800)
                    if length >= 15 { bytes[14] = 0x40 | (bytes[14] & 0x0F) }
                    if length >= 34, bytes[14] & 0x0F >= 5, 14 + Int(bytes[14] & 0x0F) * 4 <= length {
                        FrameBuilder.fixIPv4Checksum(&bytes)
                    }
                case 1: FrameBuilder.put16(&bytes, 12, 0x0806)
                default: break
                }
            }
            let p = parse(bytes)
            if let problem = Self.inconsistency(p, bytes) {
                failures += 1
                if failures <= 5 { Issue.record("\(problem): \(bytes)") }
            }
        }
        #expect(failures == 0)
    }

    // Random byte mutations and truncations of valid TCP, UDP and ARP frames, half of them with
    // the IP checksum repaired so that the L4 checks are reached.
    @Test func fuzzMutatedFrames() {
        var rng = SplitMix64(seed: 0x5EED_0002)
        let seeds = [
            TestNetwork.tcp(flags: Wire.tcpSYN, payload: [1, 2, 3, 4]),
            TestNetwork.udp(payload: [5, 6, 7]),
            FrameBuilder.tcp(destinationMAC: TestNetwork.directorMAC, sourceMAC: TestNetwork.routerMAC,
                             source: TestNetwork.client, destination: TestNetwork.vip, sourcePort: 9, destinationPort: 80,
                             flags: Wire.tcpACK, ipOptions: [1, 1, 1, 0], tcpOptions: [1, 1, 1, 0]),
            FrameBuilder.arp(operation: 1, ethernetDestination: .broadcast, ethernetSource: TestNetwork.routerMAC,
                             senderMAC: TestNetwork.routerMAC, senderIP: TestNetwork.client, targetMAC: .zero,
                             targetIP: TestNetwork.vip),
        ]
        var failures = 0
        for round in 0..<20_000 {
            var bytes = seeds[round % seeds.count]
            for _ in 0..<Int.random(in: 1...4, using: &rng) {
                let i = Int.random(in: 0..<bytes.count, using: &rng)
                bytes[i] = UInt8.random(in: 0...255, using: &rng)
            }
            if rng.next() % 2 == 0, bytes.count >= 34, FrameBuilder.get16(bytes, 12) == 0x0800 {
                let ihl = Int(bytes[14] & 0x0F)
                if ihl >= 5 && 14 + ihl * 4 <= bytes.count { FrameBuilder.fixIPv4Checksum(&bytes) }
            }
            if rng.next() % 4 == 0 { bytes = Array(bytes.prefix(Int.random(in: 0...bytes.count, using: &rng))) }
            let p = parse(bytes)
            if let problem = Self.inconsistency(p, bytes) {
                failures += 1
                if failures <= 5 { Issue.record("\(problem): \(bytes)") }
            }
        }
        #expect(failures == 0)
    }
}
