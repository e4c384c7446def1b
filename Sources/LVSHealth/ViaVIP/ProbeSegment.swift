import LVSCore

/// The IPv4 + TCP packets of a `probe_via_vip` handshake, built and read as bytes (pure: no
/// sockets). The director sends them on a packet socket itself, so it writes the IP header,
/// the TCP header and both checksums; the kernel only adds the Ethernet header.
enum ProbeSegment {
    static let synFlag: UInt8 = 0x02
    static let rstFlag: UInt8 = 0x04
    static let ackFlag: UInt8 = 0x10
    /// IP header (20) + TCP header with an MSS option (24).
    static let synLength = 44
    /// IP header (20) + TCP header without options (20).
    static let resetLength = 40

    /// What a probe sends: from the director's address and probe port to VIP:port.
    struct Endpoints: Equatable {
        var source: IPv4Address
        var sourcePort: UInt16
        var destination: IPv4Address
        var destinationPort: UInt16
    }

    /// A SYN with sequence number `sequence` and an MSS option of 1460 (a SYN without MSS makes
    /// some stacks assume 536; the handshake never carries data anyway).
    static func syn(_ e: Endpoints, sequence: UInt32, identification: UInt16) -> [UInt8] {
        var p = [UInt8](repeating: 0, count: synLength)
        writeIPHeader(&p, e, identification: identification)
        writeTCPHeader(&p, e, sequence: sequence, acknowledgement: 0, flags: synFlag, headerWords: 6, window: 64240)
        // MSS option: kind 2, length 4, 1460.
        p[40] = 2; p[41] = 4; p[42] = UInt8(1460 >> 8); p[43] = UInt8(1460 & 0xff)
        finishChecksums(&p, e)
        return p
    }

    /// The reset that ends the half-open connection a successful probe left on the server:
    /// its sequence number is the one the server expects next (our SYN's + 1).
    static func reset(_ e: Endpoints, sequence: UInt32, identification: UInt16) -> [UInt8] {
        var p = [UInt8](repeating: 0, count: resetLength)
        writeIPHeader(&p, e, identification: identification)
        writeTCPHeader(&p, e, sequence: sequence, acknowledgement: 0, flags: rstFlag, headerWords: 5, window: 0)
        finishChecksums(&p, e)
        return p
    }

    /// A UDP datagram carrying `payload` (UDP_CHECK's payload, DNS_CHECK's query), with its
    /// checksum; nil when it would not fit in one 1500-byte frame.
    static func datagram(_ e: Endpoints, payload: [UInt8], identification: UInt16) -> [UInt8]? {
        guard payload.count <= 1472 else { return nil }
        var p = [UInt8](repeating: 0, count: 28 + payload.count)
        writeIPHeader(&p, e, identification: identification)
        p[9] = 17
        put16(&p, 20, e.sourcePort)
        put16(&p, 22, e.destinationPort)
        put16(&p, 24, UInt16(8 + payload.count))
        p.replaceSubrange(28..., with: payload)
        put16(&p, 10, checksum(p[0..<20], initial: 0))
        var pseudo: UInt32 = (e.source.value >> 16) + (e.source.value & 0xffff)
        pseudo += (e.destination.value >> 16) + (e.destination.value & 0xffff) + 17 + UInt32(8 + payload.count)
        let sum = checksum(p[20...], initial: pseudo)
        put16(&p, 26, sum == 0 ? 0xffff : sum)
        return p
    }

    static func writeIPHeader(_ p: inout [UInt8], _ e: Endpoints, identification: UInt16) {
        p[0] = 0x45
        p[2] = UInt8(p.count >> 8); p[3] = UInt8(p.count & 0xff)
        p[4] = UInt8(identification >> 8); p[5] = UInt8(identification & 0xff)
        p[6] = 0x40 // don't fragment
        p[8] = 64   // TTL
        p[9] = 6    // TCP
        put32(&p, 12, e.source.value)
        put32(&p, 16, e.destination.value)
    }

    static func writeTCPHeader(_ p: inout [UInt8], _ e: Endpoints, sequence: UInt32, acknowledgement: UInt32,
                               flags: UInt8, headerWords: UInt8, window: UInt16) {
        put16(&p, 20, e.sourcePort)
        put16(&p, 22, e.destinationPort)
        put32(&p, 24, sequence)
        put32(&p, 28, acknowledgement)
        p[32] = headerWords << 4
        p[33] = flags
        put16(&p, 34, window)
    }

    static func finishChecksums(_ p: inout [UInt8], _ e: Endpoints) {
        put16(&p, 10, 0)
        put16(&p, 10, checksum(p[0..<20], initial: 0))
        let tcpLength = p.count - 20
        var pseudo: UInt32 = (e.source.value >> 16) + (e.source.value & 0xffff)
        pseudo += (e.destination.value >> 16) + (e.destination.value & 0xffff) + 6 + UInt32(tcpLength)
        put16(&p, 36, 0)
        put16(&p, 36, checksum(p[20...], initial: pseudo))
    }

    /// The Internet checksum (RFC 1071) of `bytes`, starting from a partial sum.
    static func checksum(_ bytes: ArraySlice<UInt8>, initial: UInt32) -> UInt16 {
        var sum = initial
        var i = bytes.startIndex
        while i + 1 < bytes.endIndex {
            sum += UInt32(bytes[i]) << 8 | UInt32(bytes[i + 1])
            i += 2
        }
        if i < bytes.endIndex { sum += UInt32(bytes[i]) << 8 }
        while sum > 0xffff { sum = (sum & 0xffff) + (sum >> 16) }
        return ~UInt16(sum)
    }

    static func put16(_ p: inout [UInt8], _ at: Int, _ v: UInt16) {
        p[at] = UInt8(v >> 8); p[at + 1] = UInt8(v & 0xff)
    }

    static func put32(_ p: inout [UInt8], _ at: Int, _ v: UInt32) {
        p[at] = UInt8(v >> 24); p[at + 1] = UInt8((v >> 16) & 0xff); p[at + 2] = UInt8((v >> 8) & 0xff); p[at + 3] = UInt8(v & 0xff)
    }

    /// The parts of a received TCP segment a probe is matched on.
    struct Reply: Equatable {
        var source: IPv4Address
        var destination: IPv4Address
        var sourcePort: UInt16
        var destinationPort: UInt16
        var acknowledgement: UInt32
        var flags: UInt8

        var isSynAck: Bool { flags & (synFlag | ackFlag | rstFlag) == synFlag | ackFlag }
        var isReset: Bool { flags & rstFlag != 0 }
    }

    /// Reads an IPv4 packet holding a TCP segment (what a SOCK_DGRAM packet socket returns);
    /// nil for anything else or anything cut short, fragments included.
    static func parse(_ b: UnsafeRawBufferPointer) -> Reply? {
        guard b.count >= 20, b[0] >> 4 == 4, b[9] == 6 else { return nil }
        let ihl = Int(b[0] & 0x0f) * 4
        guard ihl >= 20, b.count >= ihl + 20 else { return nil }
        let fragment = UInt16(b[6] & 0x3f) << 8 | UInt16(b[7])
        guard fragment & 0x3fff == 0 else { return nil }
        func u16(_ i: Int) -> UInt16 { UInt16(b[i]) << 8 | UInt16(b[i + 1]) }
        func u32(_ i: Int) -> UInt32 { UInt32(u16(i)) << 16 | UInt32(u16(i + 2)) }
        return Reply(source: IPv4Address(u32(12)), destination: IPv4Address(u32(16)),
                     sourcePort: u16(ihl), destinationPort: u16(ihl + 2), acknowledgement: u32(ihl + 8),
                     flags: b[ihl + 13])
    }
}
