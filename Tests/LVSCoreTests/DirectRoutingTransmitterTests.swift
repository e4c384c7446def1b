import Testing
import LVSCore

@Suite struct DirectRoutingTransmitterTests {
    /// Rewrites a copy of `frame` for rs1 and returns it.
    func rewritten(_ frame: [UInt8]) -> [UInt8] {
        var out = frame
        withFrame(&out) { f in
            DirectRoutingTransmitter.rewrite(f, realServerMAC: TestNetwork.rs1MAC, directorMAC: TestNetwork.directorMAC)
        }
        return out
    }

    // §4: DR changes only the MACs (bytes 0..<12), the TTL (byte 22) and the IP checksum (24, 25).
    @Test func onlyMACsTTLAndChecksumChange() {
        let payload = (0..<300).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        for frame in [TestNetwork.tcp(flags: Wire.tcpACK, ttl: 64, payload: payload),
                      TestNetwork.udp(payload: payload),
                      TestNetwork.tcp(flags: Wire.tcpSYN, ttl: 2)] {
            let out = rewritten(frame)
            #expect(out.count == frame.count)
            let allowed: Set<Int> = Set(0..<12).union([22, 24, 25])
            let changed = (0..<frame.count).filter { out[$0] != frame[$0] }
            #expect(Set(changed).isSubset(of: allowed), "changed bytes \(changed)")
            #expect(changed.contains(22))
        }
    }

    // Destination MAC = real server, source MAC = director, EtherType untouched.
    @Test func macAddressesRewritten() {
        let out = rewritten(TestNetwork.tcp(flags: Wire.tcpSYN))
        #expect(FrameBuilder.getMAC(out, 0) == TestNetwork.rs1MAC)
        #expect(FrameBuilder.getMAC(out, 6) == TestNetwork.directorMAC)
        #expect(FrameBuilder.get16(out, 12) == 0x0800)
    }

    // TTL goes down by exactly one, the protocol byte next to it does not move, and the
    // updated header checksum verifies (the header sums to 0xFFFF).
    @Test(arguments: [UInt8(2), 3, 64, 128, 255])
    func ttlDecrementedAndChecksumValid(ttl: UInt8) {
        let frame = TestNetwork.tcp(flags: Wire.tcpSYN, ttl: ttl)
        let out = rewritten(frame)
        #expect(out[22] == ttl - 1)
        #expect(out[23] == 6)
        #expect(ReferenceChecksum.foldedSum(out[14..<34]) == 0xFFFF)
        var expected = frame
        expected[22] = ttl - 1
        FrameBuilder.fixIPv4Checksum(&expected)
        #expect(Array(out[14..<34]) == Array(expected[14..<34]))
    }

    // The L4 header, its checksum and the payload are byte-identical: DR never touches L4.
    @Test func transportBytesIdentical() {
        let frame = TestNetwork.tcp(flags: Wire.tcpACK, payload: Array("GET / HTTP/1.0\r\n\r\n".utf8))
        let out = rewritten(frame)
        #expect(Array(out[34...]) == Array(frame[34...]))
        #expect(Array(out[26..<34]) == Array(frame[26..<34]))   // IP addresses unchanged
    }

    // A header with options is rewritten the same way; the checksum still covers all 24 bytes.
    @Test func headerWithOptions() {
        let frame = FrameBuilder.tcp(destinationMAC: TestNetwork.directorMAC, sourceMAC: TestNetwork.routerMAC,
                                     source: TestNetwork.client, destination: TestNetwork.vip, sourcePort: 5,
                                     destinationPort: 80, flags: Wire.tcpSYN, ttl: 9, ipOptions: [0x94, 0x04, 0, 0])
        let out = rewritten(frame)
        #expect(out[22] == 8)
        #expect(ReferenceChecksum.foldedSum(out[14..<38]) == 0xFFFF)
    }
}
