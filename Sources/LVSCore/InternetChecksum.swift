/// The Internet checksum (RFC 1071) and its incremental update (RFC 1624).
public enum InternetChecksum {
    /// Sums 16-bit big-endian words of `count` bytes at `offset`, starting from `initial`, without
    /// folding. An odd trailing byte is padded with zero, as RFC 1071 says.
    @inlinable
    public static func sum(_ frame: FrameBytes, offset: Int, count: Int, initial: UInt64 = 0) -> UInt64 {
        var acc = initial
        var i = offset
        let end = offset + count
        // Eight bytes at a time: the carries of 32-bit halves fit in the 64-bit accumulator.
        while i + 8 <= end {
            let v = UInt64(bigEndian: frame.base.loadUnaligned(fromByteOffset: i, as: UInt64.self))
            acc &+= (v >> 32) &+ (v & 0xFFFF_FFFF)
            i += 8
        }
        while i + 2 <= end {
            acc &+= UInt64(frame.u16(i))
            i += 2
        }
        if i < end { acc &+= UInt64(frame.u8(i)) << 8 }
        return acc
    }

    /// The same sum over a byte array (control-plane messages such as VRRP adverts, built as
    /// arrays; the packet path uses the `FrameBytes` form).
    public static func sum(_ bytes: [UInt8], initial: UInt64 = 0) -> UInt64 {
        var acc = initial
        var i = 0
        while i + 1 < bytes.count {
            acc &+= UInt64(bytes[i]) << 8 | UInt64(bytes[i + 1])
            i += 2
        }
        if i < bytes.count { acc &+= UInt64(bytes[i]) << 8 }
        return acc
    }

    /// Folds a wide sum into 16 bits (ones' complement addition with end-around carry).
    @inlinable
    public static func fold(_ wide: UInt64) -> UInt16 {
        var s = (wide & 0xFFFF_FFFF) &+ (wide >> 32)
        s = (s & 0xFFFF) &+ (s >> 16)
        s = (s & 0xFFFF) &+ (s >> 16)
        s = (s & 0xFFFF) &+ (s >> 16)
        return UInt16(truncatingIfNeeded: s)
    }

    /// Whether the 20-byte IPv4 header (no options) at `header` checks: its ones'-complement
    /// sum, checksum field included, is 0xFFFF.
    ///
    /// Two tricks keep this near ten instructions:
    /// - The sum is taken over two 64-bit words and one 32-bit word in native byte order, with
    ///   the carry out of each add added back. Ones'-complement sums do not care about word
    ///   width (2^16, 2^32 and 2^64 are all 1 modulo 65535) and a byte swap only multiplies the
    ///   sum by 2^8 modulo 65535 (RFC 1071 §2(B)), which keeps 0 at 0.
    /// - A sum folds to 0xFFFF exactly when it is a non-zero multiple of 65535, and
    ///   `x % 65535 == 0` compiles to one multiply and one compare. This header is never all
    ///   zeros (its first byte is 0x45), so the sum is not 0.
    ///
    /// The caller has checked that the 20 bytes are in the capture and that the version and
    /// header length byte is 0x45.
    @inlinable @inline(__always)
    public static func isValidOptionlessIPv4Header(_ header: UnsafeRawPointer) -> Bool {
        let a = header.loadUnaligned(as: UInt64.self)
        let b = header.loadUnaligned(fromByteOffset: 8, as: UInt64.self)
        let c = UInt64(header.loadUnaligned(fromByteOffset: 16, as: UInt32.self))
        // After an add that carried, the sum is at most 2^64 - 2: adding the carry back cannot carry.
        let (ab, carry1) = a.addingReportingOverflow(b)
        let (abc, carry2) = (ab &+ (carry1 ? 1 : 0)).addingReportingOverflow(c)
        return (abc &+ (carry2 ? 1 : 0)) % 0xFFFF == 0
    }

    /// The checksum field value for `count` bytes at `offset` (with the field itself zeroed or,
    /// for a partial L4 checksum, holding the pseudo-header sum).
    @inlinable
    public static func checksum(_ frame: FrameBytes, offset: Int, count: Int) -> UInt16 {
        ~fold(sum(frame, offset: offset, count: count))
    }

    /// RFC 1624 eqn. 3: HC' = ~(~HC + ~m + m'), for one 16-bit word changing from `old` to `new`.
    @inlinable @inline(__always)
    public static func updated(_ checksum: UInt16, oldWord: UInt16, newWord: UInt16) -> UInt16 {
        var s = UInt32(~checksum) &+ UInt32(~oldWord) &+ UInt32(newWord)
        s = (s & 0xFFFF) &+ (s >> 16)
        s = (s & 0xFFFF) &+ (s >> 16)
        return ~UInt16(truncatingIfNeeded: s)
    }

    /// Finishes an L4 checksum that the sender's stack left partial (CHECKSUM_PARTIAL: the field at
    /// `start + fieldOffset` holds only the pseudo-header sum, TP_STATUS_CSUMNOTREADY on the ring).
    /// Summing from `start` to the end of the IP payload with that field in place and complementing
    /// gives the value a NIC would have written. UDP's 0 result is sent as 0xFFFF (RFC 768).
    @inlinable
    public static func completePartial(_ frame: FrameBytes, start: Int, end: Int, fieldOffset: Int, isUDP: Bool) {
        guard start >= 0, end <= frame.count, start + fieldOffset + 2 <= end else { return }
        var value = ~fold(sum(frame, offset: start, count: end - start))
        if isUDP && value == 0 { value = 0xFFFF }
        frame.setU16(start + fieldOffset, value)
    }
}
