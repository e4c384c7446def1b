/// The DR transmitter: what `ip_vs_dr_xmit` does to a packet, done in place on the frame.
///
/// Only the Ethernet addresses change, plus TTL − 1 and the IPv4 header checksum (updated
/// incrementally, RFC 1624, instead of recomputed: two loads and one store instead of ten).
/// IP addresses, ports, options and the L4 checksum stay as they came.
public enum DirectRoutingTransmitter {
    /// Rewrites `frame` for `realServerMAC`. The caller has parsed the frame (so the IPv4 header
    /// is known to be complete at `Wire.ethernetHeaderLength`) and checked TTL > 1.
    @inlinable @inline(__always)
    public static func rewrite(_ frame: FrameBytes, realServerMAC: MACAddress, directorMAC: MACAddress) {
        frame.setMAC(0, realServerMAC)
        frame.setMAC(6, directorMAC)
        let l3 = Wire.ethernetHeaderLength
        // TTL and protocol share one 16-bit word of the header; the checksum covers that word.
        let oldWord = frame.u16(l3 + 8)
        let newWord = oldWord &- 0x0100
        frame.setU16(l3 + 8, newWord)
        frame.setU16(l3 + 10, InternetChecksum.updated(frame.u16(l3 + 10), oldWord: oldWord, newWord: newWord))
    }
}
