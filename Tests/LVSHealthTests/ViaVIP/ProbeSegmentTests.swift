import LVSCore
@testable import LVSHealth
import Testing

@Suite("probe_via_vip segments")
struct ProbeSegmentTests {
    static let endpoints = ProbeSegment.Endpoints(source: IPv4Address(10, 200, 0, 2), sourcePort: 61000,
                                                  destination: IPv4Address(10, 200, 0, 100), destinationPort: 80)

    /// The one's-complement sum of a header with its checksum in place is 0xffff: the checksum
    /// of it is 0.
    static func verifies(_ p: [UInt8], protocol proto: UInt32 = 6) -> Bool {
        guard ProbeSegment.checksum(p[0..<20], initial: 0) == 0 else { return false }
        let source = UInt32(p[12]) << 24 | UInt32(p[13]) << 16 | UInt32(p[14]) << 8 | UInt32(p[15])
        let destination = UInt32(p[16]) << 24 | UInt32(p[17]) << 16 | UInt32(p[18]) << 8 | UInt32(p[19])
        let pseudo = (source >> 16) + (source & 0xffff) + (destination >> 16) + (destination & 0xffff) + proto + UInt32(p.count - 20)
        return ProbeSegment.checksum(p[20...], initial: pseudo) == 0
    }

    @Test("A SYN: IPv4 to the VIP, DF, TTL 64, our sequence number, MSS 1460, both checksums right")
    func syn() {
        let p = ProbeSegment.syn(Self.endpoints, sequence: 0x0102_0304, identification: 7)
        #expect(p.count == 44)
        #expect(p[0] == 0x45 && p[9] == 6 && p[8] == 64 && p[6] == 0x40)
        #expect(Array(p[16..<20]) == [10, 200, 0, 100])
        #expect(Array(p[20..<24]) == [0xee, 0x48, 0, 80])          // 61000 → 80
        #expect(Array(p[24..<28]) == [1, 2, 3, 4])
        #expect(p[33] == ProbeSegment.synFlag)
        #expect(Array(p[40..<44]) == [2, 4, 0x05, 0xb4])
        #expect(Self.verifies(p))
        // A reset with the next sequence number, no options.
        let r = ProbeSegment.reset(Self.endpoints, sequence: 0x0102_0305, identification: 8)
        #expect(r.count == 40 && r[33] == ProbeSegment.rstFlag && Array(r[24..<28]) == [1, 2, 3, 5])
        #expect(Self.verifies(r))
    }

    @Test("A UDP datagram to the VIP: length, protocol 17, payload, both checksums right; too large for a frame: nil")
    func datagram() {
        let payload = Array("ping".utf8)
        guard let p = ProbeSegment.datagram(Self.endpoints, payload: payload, identification: 3) else {
            Issue.record("no datagram")
            return
        }
        #expect(p.count == 32 && p[9] == 17 && Array(p[24..<26]) == [0, 12] && Array(p[28...]) == payload)
        #expect(Self.verifies(p, protocol: 17))
        #expect(ProbeSegment.datagram(Self.endpoints, payload: [UInt8](repeating: 0, count: 1473), identification: 1) == nil)
    }

    @Test("Answers: a SYN-ACK and a RST-ACK from VIP:port parse; short packets, fragments, other protocols do not")
    func parse() {
        // The server's SYN-ACK is our SYN mirrored: VIP:80 → director:61000, ack = ours + 1.
        let back = ProbeSegment.Endpoints(source: Self.endpoints.destination, sourcePort: 80,
                                          destination: Self.endpoints.source, destinationPort: 61000)
        var synAck = ProbeSegment.syn(back, sequence: 99, identification: 1)
        synAck[33] = ProbeSegment.synFlag | ProbeSegment.ackFlag
        ProbeSegment.put32(&synAck, 28, 0x0102_0305)
        let reply = synAck.withUnsafeBytes { ProbeSegment.parse($0) }
        #expect(reply == ProbeSegment.Reply(source: IPv4Address(10, 200, 0, 100), destination: IPv4Address(10, 200, 0, 2),
                                            sourcePort: 80, destinationPort: 61000, acknowledgement: 0x0102_0305,
                                            flags: ProbeSegment.synFlag | ProbeSegment.ackFlag))
        #expect(reply?.isSynAck == true && reply?.isReset == false)
        var reset = synAck
        reset[33] = ProbeSegment.rstFlag | ProbeSegment.ackFlag
        #expect(reset.withUnsafeBytes { ProbeSegment.parse($0) }.map { $0.isReset && !$0.isSynAck } == true)
        #expect(synAck.prefix(30).withUnsafeBytes { ProbeSegment.parse(UnsafeRawBufferPointer(rebasing: $0[...])) } == nil)
        var fragment = synAck
        fragment[7] = 1
        #expect(fragment.withUnsafeBytes { ProbeSegment.parse($0) } == nil)
        var udp = synAck
        udp[9] = 17
        #expect(udp.withUnsafeBytes { ProbeSegment.parse($0) } == nil)
    }
}
