/// Builds and rewrites Ethernet/IPv4 ARP frames (RFC 826) for the director's own use:
/// answering for VIPs, announcing them, and resolving real servers.
public enum ARPFrame {
    /// Bytes an ARP frame occupies: Ethernet header plus the 28-byte payload. Senders pad to 60.
    public static let length = Wire.ethernetHeaderLength + Wire.arpPayloadLength
    public static let paddedLength = 60

    /// Turns a received "who-has VIP" request into the reply "VIP is-at directorMAC", in place,
    /// so answering ARP costs no buffer. The caller has checked that the target is a VIP.
    @inlinable
    public static func rewriteRequestIntoReply(_ frame: FrameBytes, directorMAC: MACAddress) {
        let l3 = Wire.ethernetHeaderLength
        let requesterMAC = frame.mac(l3 + 8)
        let requesterIP = frame.u32(l3 + 14)
        let vip = frame.u32(l3 + 24)
        frame.setMAC(0, requesterMAC)
        frame.setMAC(6, directorMAC)
        frame.setU16(l3 + 6, Wire.arpReply)
        frame.setMAC(l3 + 8, directorMAC)
        frame.setU32(l3 + 14, vip)
        frame.setMAC(l3 + 18, requesterMAC)
        frame.setU32(l3 + 24, requesterIP)
    }

    /// Writes an ARP frame of `paddedLength` bytes into `frame` (which must hold that many).
    /// - A request for `target` from `senderIP`: `targetMAC` zero, Ethernet broadcast.
    /// - A gratuitous announcement: `senderIP == target`, broadcast, as `arping -U` sends it.
    public static func write(
        into frame: FrameBytes, operation: UInt16,
        ethernetDestination: MACAddress, senderMAC: MACAddress, senderIP: IPv4Address,
        targetMAC: MACAddress, targetIP: IPv4Address
    ) {
        precondition(frame.count >= paddedLength, "ARP buffer too small")
        let l3 = Wire.ethernetHeaderLength
        frame.setMAC(0, ethernetDestination)
        frame.setMAC(6, senderMAC)
        frame.setU16(12, Wire.etherTypeARP)
        frame.setU16(l3, 1)
        frame.setU16(l3 + 2, Wire.etherTypeIPv4)
        frame.setU8(l3 + 4, 6)
        frame.setU8(l3 + 5, 4)
        frame.setU16(l3 + 6, operation)
        frame.setMAC(l3 + 8, senderMAC)
        frame.setU32(l3 + 14, senderIP.value)
        frame.setMAC(l3 + 18, targetMAC)
        frame.setU32(l3 + 24, targetIP.value)
        for i in length..<paddedLength { frame.setU8(i, 0) }
    }
}
