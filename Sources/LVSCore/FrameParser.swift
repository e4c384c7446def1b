/// Why a frame was counted as malformed and dropped. One counter exists per reason, so an
/// operator can tell a broken sender from a truncating capture.
public enum MalformedReason: Int, CaseIterable, Sendable, CustomStringConvertible {
    case truncatedEthernet
    case truncatedARP
    case unsupportedARPFormat
    case truncatedIPv4
    case badIPVersion
    case badIPHeaderLength
    case badIPTotalLength
    case badIPHeaderChecksum
    case truncatedTCP
    case badTCPDataOffset
    case truncatedUDP

    public var description: String {
        switch self {
        case .truncatedEthernet: "truncated_ethernet"
        case .truncatedARP: "truncated_arp"
        case .unsupportedARPFormat: "unsupported_arp_format"
        case .truncatedIPv4: "truncated_ipv4"
        case .badIPVersion: "bad_ip_version"
        case .badIPHeaderLength: "bad_ip_header_length"
        case .badIPTotalLength: "bad_ip_total_length"
        case .badIPHeaderChecksum: "bad_ip_header_checksum"
        case .truncatedTCP: "truncated_tcp"
        case .badTCPDataOffset: "bad_tcp_data_offset"
        case .truncatedUDP: "truncated_udp"
        }
    }
}

/// What the parser found in a frame. Offsets are from the start of the Ethernet header.
@frozen
public struct ParsedFrame {
    @frozen
    public enum Kind: Equatable, Sendable {
        /// An Ethernet/IPv4 ARP packet (`arp*` fields valid).
        case arp
        /// An unfragmented or first-fragment IPv4 TCP or UDP packet (all `ip*` and port fields valid).
        case ipv4Transport
        /// Any other IPv4 packet, including non-first fragments (`ip*` fields valid, ports not).
        case ipv4Other
        /// Neither IPv4 nor ARP (IPv6, LLDP, ...): not the director's business yet.
        case otherEtherType
        case malformed(MalformedReason)
    }

    public var kind: Kind = .otherEtherType
    public var destinationMAC = MACAddress.zero
    public var sourceMAC = MACAddress.zero

    public var arpOperation: UInt16 = 0
    public var arpSenderMAC = MACAddress.zero
    public var arpSenderAddress = IPv4Address.any
    public var arpTargetAddress = IPv4Address.any

    public var ipHeaderLength = 0
    public var ipTotalLength = 0
    public var ipTTL: UInt8 = 0
    public var ipProtocol: UInt8 = 0
    public var ipSource = IPv4Address.any
    public var ipDestination = IPv4Address.any
    /// More-fragments set or a non-zero offset: the packet is a fragment.
    public var isFragment = false
    public var isFirstFragment = false

    public var sourcePort: UInt16 = 0
    public var destinationPort: UInt16 = 0
    public var tcpFlags: UInt8 = 0

    @inlinable
    public init() {}
}

/// Parses Ethernet, ARP, IPv4, TCP and UDP headers, checking every length against the bytes
/// actually captured. It never reads past `frame.count`, so truncated or hostile frames end as
/// `.malformed(reason)` and never as a crash.
public enum FrameParser {
    @inlinable
    public static func parse(_ frame: FrameBytes) -> ParsedFrame {
        var p = ParsedFrame()
        guard frame.count >= Wire.ethernetHeaderLength else {
            p.kind = .malformed(.truncatedEthernet)
            return p
        }
        p.destinationMAC = frame.mac(0)
        p.sourceMAC = frame.mac(6)
        let etherType = frame.u16(12)
        let l3 = Wire.ethernetHeaderLength
        if etherType == Wire.etherTypeIPv4 {
            parseIPv4(frame, l3: l3, into: &p)
        } else if etherType == Wire.etherTypeARP {
            parseARP(frame, l3: l3, into: &p)
        }
        return p
    }

    @inlinable
    static func parseARP(_ frame: FrameBytes, l3: Int, into p: inout ParsedFrame) {
        guard frame.count >= l3 + Wire.arpPayloadLength else {
            p.kind = .malformed(.truncatedARP)
            return
        }
        // Ethernet hardware (1), IPv4 protocol, 6-byte and 4-byte address lengths.
        guard frame.u16(l3) == 1, frame.u16(l3 + 2) == Wire.etherTypeIPv4,
              frame.u8(l3 + 4) == 6, frame.u8(l3 + 5) == 4
        else {
            p.kind = .malformed(.unsupportedARPFormat)
            return
        }
        p.kind = .arp
        p.arpOperation = frame.u16(l3 + 6)
        p.arpSenderMAC = frame.mac(l3 + 8)
        p.arpSenderAddress = IPv4Address(frame.u32(l3 + 14))
        p.arpTargetAddress = IPv4Address(frame.u32(l3 + 24))
    }

    @inlinable
    static func parseIPv4(_ frame: FrameBytes, l3: Int, into p: inout ParsedFrame) {
        guard frame.count >= l3 + Wire.ipv4MinimumHeaderLength else {
            p.kind = .malformed(.truncatedIPv4)
            return
        }
        let versionIHL = frame.u8(l3)
        guard versionIHL >> 4 == 4 else {
            p.kind = .malformed(.badIPVersion)
            return
        }
        let headerLength = Int(versionIHL & 0x0F) &* 4
        guard headerLength >= Wire.ipv4MinimumHeaderLength, frame.count >= l3 + headerLength else {
            p.kind = .malformed(.badIPHeaderLength)
            return
        }
        let totalLength = Int(frame.u16(l3 + 2))
        guard totalLength >= headerLength, l3 + totalLength <= frame.count else {
            p.kind = .malformed(.badIPTotalLength)
            return
        }
        // The kernel checks this in ip_rcv before IPVS sees the packet; we see it first.
        // Option-less headers (the common case) take the three-load check.
        guard headerLength == 20
            ? InternetChecksum.isValidOptionlessIPv4Header(frame.base + l3)
            : InternetChecksum.fold(InternetChecksum.sum(frame, offset: l3, count: headerLength)) == 0xFFFF
        else {
            p.kind = .malformed(.badIPHeaderChecksum)
            return
        }
        p.ipHeaderLength = headerLength
        p.ipTotalLength = totalLength
        p.ipTTL = frame.u8(l3 + 8)
        p.ipProtocol = frame.u8(l3 + 9)
        p.ipSource = IPv4Address(frame.u32(l3 + 12))
        p.ipDestination = IPv4Address(frame.u32(l3 + 16))
        let fragmentField = frame.u16(l3 + 6)
        let offset = fragmentField & 0x1FFF
        let moreFragments = fragmentField & 0x2000 != 0
        p.isFragment = moreFragments || offset != 0
        p.isFirstFragment = p.isFragment && offset == 0
        p.kind = .ipv4Other
        if offset != 0 { return }

        let l4 = l3 + headerLength
        let l4Available = totalLength - headerLength
        if p.ipProtocol == TransportProtocol.tcp.rawValue {
            guard l4Available >= Wire.tcpMinimumHeaderLength else {
                p.kind = .malformed(.truncatedTCP)
                return
            }
            let dataOffset = Int(frame.u8(l4 + 12) >> 4) &* 4
            guard dataOffset >= Wire.tcpMinimumHeaderLength, dataOffset <= l4Available else {
                p.kind = .malformed(.badTCPDataOffset)
                return
            }
            p.sourcePort = frame.u16(l4)
            p.destinationPort = frame.u16(l4 + 2)
            p.tcpFlags = frame.u8(l4 + 13)
            p.kind = .ipv4Transport
        } else if p.ipProtocol == TransportProtocol.udp.rawValue {
            guard l4Available >= Wire.udpHeaderLength else {
                p.kind = .malformed(.truncatedUDP)
                return
            }
            p.sourcePort = frame.u16(l4)
            p.destinationPort = frame.u16(l4 + 2)
            p.kind = .ipv4Transport
        }
    }
}
