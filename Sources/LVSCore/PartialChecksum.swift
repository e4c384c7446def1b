/// Completes the TCP or UDP checksum of an IPv4 frame that a local sender left to checksum
/// offload, for receive paths that get no offload metadata.
///
/// Why: an AF_PACKET socket with PACKET_VNET_HDR learns that a frame's L4 checksum is partial
/// (CHECKSUM_PARTIAL, from a veth or tap peer with tx-checksumming on) and sends the header back,
/// so the kernel finishes it. AF_XDP hands over bare frames: forwarded as they are, such frames
/// reach the real server with the pseudo-header sum in the checksum field and are dropped.
/// Frames from a physical NIC always carry complete checksums, so this matters on virtual links.
///
/// How it recognises one: a partial checksum field holds exactly the folded pseudo-header sum.
/// A complete checksum equals that by chance once in 65536 frames, and then recomputing it
/// writes the same value again (the full sum of a valid segment is its own checksum), so the
/// test costs a 12-byte sum per frame and is never wrong for a valid frame.
public enum PartialChecksum {
    /// Completes the checksum if it is partial; returns whether it did. Frames that are not
    /// unfragmented IPv4 TCP/UDP, or are truncated, are left alone (the engine judges them).
    @inlinable
    public static func completeIfPartial(_ frame: FrameBytes) -> Bool {
        guard frame.count >= 34, frame.u16(12) == 0x0800 else { return false }
        let headerLength = Int(frame.u8(14) & 0x0F) * 4
        let proto = frame.u8(23)
        let fieldOffset: Int
        switch proto {
        case 6: fieldOffset = 16
        case 17: fieldOffset = 6
        default: return false
        }
        // Only whole datagrams: a fragment's checksum covers bytes it does not hold.
        guard headerLength >= 20, frame.u16(20) & 0x3FFF == 0 else { return false }
        let start = 14 + headerLength
        let end = 14 + Int(frame.u16(16))
        guard end <= frame.count, start + fieldOffset + 2 <= end else { return false }
        let length = end - start
        let pseudo = InternetChecksum.sum(frame, offset: 26, count: 8, initial: UInt64(proto) &+ UInt64(length))
        guard frame.u16(start + fieldOffset) == InternetChecksum.fold(pseudo) else { return false }
        InternetChecksum.completePartial(frame, start: start, end: end, fieldOffset: fieldOffset, isUDP: proto == 17)
        return true
    }
}
