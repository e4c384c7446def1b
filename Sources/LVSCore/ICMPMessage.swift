/// ICMP error messages the director originates (RFC 792), as IPVS sends them through the
/// kernel's `icmp_send`: port unreachable when no real server is available, time exceeded when
/// the TTL runs out, fragmentation needed (RFC 1191) when a DF packet is larger than the MTU.
public enum ICMPMessage {
    public static let destinationUnreachable: UInt8 = 3
    public static let timeExceeded: UInt8 = 11
    public static let sourceQuench: UInt8 = 4
    public static let portUnreachable: UInt8 = 3
    public static let fragmentationNeeded: UInt8 = 4

    /// Bytes of the offending packet quoted after its IP header: the RFC 792 minimum, which
    /// carries the ports, so the client's stack can match the error to its socket.
    public static let quotedPayload = 8

    /// The largest frame `write` produces: Ethernet, IP, ICMP header, a 60-byte IP header with
    /// options, and the quoted bytes.
    public static let maximumLength = Wire.ethernetHeaderLength + 20 + 8 + 60 + quotedPayload

    /// Writes an ICMP error about the IPv4 packet in `original` (parsed as `p`) into `out`, sent
    /// from `source` (the VIP the packet was for) back to the packet's sender, at Ethernet level
    /// to the MAC it came from. Returns the frame's length.
    public static func write(
        into out: FrameBytes, about original: FrameBytes, parsed p: ParsedFrame,
        type: UInt8, code: UInt8, nextHopMTU: UInt16 = 0, source: IPv4Address, directorMAC: MACAddress
    ) -> Int {
        let l3 = Wire.ethernetHeaderLength
        let quoted = min(p.ipHeaderLength + quotedPayload, p.ipTotalLength)
        let icmpLength = 8 + quoted
        let total = 20 + icmpLength
        precondition(out.count >= l3 + total, "ICMP buffer too small")
        out.setMAC(0, p.sourceMAC)
        out.setMAC(6, directorMAC)
        out.setU16(12, Wire.etherTypeIPv4)
        // IPv4 header: no options, DF clear, TTL 64, protocol ICMP.
        out.setU8(l3, 0x45)
        out.setU8(l3 + 1, 0xC0)     // precedence "internetwork control", as Linux sends ICMP errors
        out.setU16(l3 + 2, UInt16(total))
        out.setU16(l3 + 4, 0)
        out.setU16(l3 + 6, 0)
        out.setU8(l3 + 8, 64)
        out.setU8(l3 + 9, 1)
        out.setU16(l3 + 10, 0)
        out.setU32(l3 + 12, source.value)
        out.setU32(l3 + 16, p.ipSource.value)
        out.setU16(l3 + 10, InternetChecksum.checksum(out, offset: l3, count: 20))
        // ICMP header: type, code, checksum, then unused (or the next-hop MTU for code 4).
        let icmp = l3 + 20
        out.setU8(icmp, type)
        out.setU8(icmp + 1, code)
        out.setU16(icmp + 2, 0)
        out.setU16(icmp + 4, 0)
        out.setU16(icmp + 6, nextHopMTU)
        (out.base + icmp + 8).copyMemory(from: original.base + l3, byteCount: quoted)
        out.setU16(icmp + 2, InternetChecksum.checksum(out, offset: icmp, count: icmpLength))
        return l3 + total
    }

    /// For an ICMP error arriving at a VIP, the connection key of the packet it quotes, turned
    /// around: the quoted packet went from the VIP (sent by a real server) to the client, so the
    /// connection is (protocol, client, client port, VIP, VIP port). Nil when the message is not
    /// an error IPVS relays (destination unreachable, source quench, time exceeded) or quotes
    /// too little to read the ports.
    public static func quotedConnection(_ frame: FrameBytes, parsed p: ParsedFrame) -> ConnectionKey? {
        guard p.ipProtocol == 1, !p.isFragment else { return nil }
        let icmp = Wire.ethernetHeaderLength + p.ipHeaderLength
        let end = Wire.ethernetHeaderLength + p.ipTotalLength
        guard end - icmp >= 8 + 20 + 4 else { return nil }
        let type = frame.u8(icmp)
        guard type == destinationUnreachable || type == sourceQuench || type == timeExceeded else { return nil }
        let inner = icmp + 8
        let versionIHL = frame.u8(inner)
        guard versionIHL >> 4 == 4 else { return nil }
        let innerHeader = Int(versionIHL & 0x0F) * 4
        guard innerHeader >= 20, end - inner >= innerHeader + 4 else { return nil }
        let proto = frame.u8(inner + 9)
        guard proto == TransportProtocol.tcp.rawValue || proto == TransportProtocol.udp.rawValue else { return nil }
        let innerSource = frame.u32(inner + 12)
        let innerDestination = frame.u32(inner + 16)
        let sourcePort = frame.u16(inner + innerHeader)
        let destinationPort = frame.u16(inner + innerHeader + 2)
        return ConnectionKey(transport: proto, clientAddress: innerDestination, clientPort: destinationPort,
                             virtualAddress: innerSource, virtualPort: sourcePort)
    }
}
