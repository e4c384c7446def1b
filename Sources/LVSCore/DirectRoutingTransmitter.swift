/// The DR transmitter: what `ip_vs_dr_xmit` does to a packet, done in place on the frame.
///
/// Only the Ethernet addresses change, plus TTL − 1 and the IPv4 header checksum (updated
/// incrementally instead of recomputed: two loads and two stores instead of ten).
/// IP addresses, ports, options and the L4 checksum stay as they came.
public enum DirectRoutingTransmitter {
    /// Rewrites `frame` for `realServerMAC`. The caller has parsed the frame (so the IPv4 header
    /// is known to be complete at `Wire.ethernetHeaderLength`) and checked TTL > 1.
    @inlinable @inline(__always)
    public static func rewrite(_ frame: FrameBytes, realServerMAC: MACAddress, directorMAC: MACAddress) {
        frame.setMAC(0, realServerMAC)
        frame.setMAC(6, directorMAC)
        decrementTTL(frame)
    }

    /// TTL − 1 with the header checksum patched for it: the kernel's `ip_decrease_ttl`. The TTL
    /// is the high byte of its 16-bit word, so the checksum (ones' complement of the sum) goes
    /// up by 0x0100, the end-around carry folded back in by the compare. Done, as the kernel
    /// does it, on the field as it lies in memory, where 0x0100 in network order is
    /// `htons(0x0100)` (ones'-complement sums work in either byte order). This is RFC 1624
    /// eqn. 3 with the old and new words known to differ by 0x0100, the same bits (0x0000 and
    /// 0xFFFF included; HitPathTests compares all 65,536 values): one add and one
    /// compare instead of two folds and two byte swaps.
    /// The caller has checked that the IPv4 header is in the capture and that the TTL is above 1.
    @inlinable @inline(__always)
    public static func decrementTTL(_ frame: FrameBytes) {
        let l3 = Wire.ethernetHeaderLength
        frame.setU8(l3 + 8, frame.u8(l3 + 8) &- 1)
        let field = frame.base + (l3 + 10)
        // sum ≥ 0xFFFF exactly when the 16-bit add of one more carries: x − 1 + carry is then
        // sum + (sum ≥ 0xFFFF), which x86 does in an add and an add-with-carry.
        let (x, carry) = field.loadUnaligned(as: UInt16.self).addingReportingOverflow(UInt16(0x0100).bigEndian &+ 1)
        field.storeBytes(of: x &- 1 &+ (carry ? 1 : 0), as: UInt16.self)
    }
}
