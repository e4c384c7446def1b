/// Byte-order-aware access to a frame in place (a ring slot or a receive buffer).
///
/// The data plane never copies a frame: it reads and rewrites it where the kernel put it.
/// Loads are unaligned because the IP header's position depends on the link header and IHL.
/// Callers check bounds once, against the captured length, before they touch a field.
@frozen
public struct FrameBytes {
    public let base: UnsafeMutableRawPointer
    public let count: Int

    @inlinable
    public init(base: UnsafeMutableRawPointer, count: Int) {
        self.base = base
        self.count = count
    }

    @inlinable @inline(__always)
    public func u8(_ offset: Int) -> UInt8 { base.load(fromByteOffset: offset, as: UInt8.self) }

    @inlinable @inline(__always)
    public func u16(_ offset: Int) -> UInt16 {
        UInt16(bigEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt16.self))
    }

    @inlinable @inline(__always)
    public func u32(_ offset: Int) -> UInt32 {
        UInt32(bigEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }

    /// Reads six bytes as a MAC address.
    @inlinable @inline(__always)
    public func mac(_ offset: Int) -> MACAddress {
        MACAddress(value: UInt64(u16(offset)) << 32 | UInt64(u32(offset + 2)))
    }

    @inlinable @inline(__always)
    public func setU8(_ offset: Int, _ value: UInt8) {
        base.storeBytes(of: value, toByteOffset: offset, as: UInt8.self)
    }

    @inlinable @inline(__always)
    public func setU16(_ offset: Int, _ value: UInt16) {
        base.storeBytes(of: value.bigEndian, toByteOffset: offset, as: UInt16.self)
    }

    @inlinable @inline(__always)
    public func setU32(_ offset: Int, _ value: UInt32) {
        base.storeBytes(of: value.bigEndian, toByteOffset: offset, as: UInt32.self)
    }

    @inlinable @inline(__always)
    public func setMAC(_ offset: Int, _ mac: MACAddress) {
        setU16(offset, UInt16(truncatingIfNeeded: mac.value >> 32))
        setU32(offset + 2, UInt32(truncatingIfNeeded: mac.value))
    }
}

/// Offsets and constants of the headers the director reads. Names follow the RFCs.
public enum Wire {
    public static let ethernetHeaderLength = 14
    public static let etherTypeIPv4: UInt16 = 0x0800
    public static let etherTypeARP: UInt16 = 0x0806
    public static let etherTypeVLAN: UInt16 = 0x8100

    public static let arpPayloadLength = 28
    public static let arpRequest: UInt16 = 1
    public static let arpReply: UInt16 = 2

    public static let ipv4MinimumHeaderLength = 20
    public static let tcpMinimumHeaderLength = 20
    public static let udpHeaderLength = 8

    public static let tcpFIN: UInt8 = 0x01
    public static let tcpSYN: UInt8 = 0x02
    public static let tcpRST: UInt8 = 0x04
    public static let tcpACK: UInt8 = 0x10
}
