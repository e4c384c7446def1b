/// A 48-bit Ethernet address, packed into the low bits of a `UInt64` so that it compares and
/// copies as one machine word on the packet path.
@frozen
public struct MACAddress: Hashable, Sendable, CustomStringConvertible {
    /// The six bytes in transmission order, most significant first: `02:00:..` is `0x0200_....`.
    public var value: UInt64

    @inlinable
    public init(value: UInt64) { self.value = value & 0xFFFF_FFFF_FFFF }

    @inlinable
    public init(bytes b: (UInt8, UInt8, UInt8, UInt8, UInt8, UInt8)) {
        value = UInt64(b.0) << 40 | UInt64(b.1) << 32 | UInt64(b.2) << 24
            | UInt64(b.3) << 16 | UInt64(b.4) << 8 | UInt64(b.5)
    }

    /// Parses `aa:bb:cc:dd:ee:ff` (also with `-` separators, as /etc/ethers allows either).
    public init?(_ text: some StringProtocol) {
        // Empty parts are kept so that `02::00:…` or a trailing `:` is refused, not skipped.
        let parts = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == ":" || $0 == "-" })
        guard parts.count == 6 else { return nil }
        var v: UInt64 = 0
        for part in parts {
            // Hex digits only: `UInt8(_:radix:)` alone would also take a sign (`+f`, `-0`).
            guard part.count >= 1, part.count <= 2, part.allSatisfy(\.isHexDigit),
                  let byte = UInt8(part, radix: 16)
            else { return nil }
            v = v << 8 | UInt64(byte)
        }
        value = v
    }

    public static let broadcast = MACAddress(value: 0xFFFF_FFFF_FFFF)
    public static let zero = MACAddress(value: 0)

    @inlinable
    public var isMulticast: Bool { (value >> 40) & 1 == 1 }

    @inlinable
    public func byte(_ index: Int) -> UInt8 { UInt8(truncatingIfNeeded: value >> UInt64(40 - 8 * index)) }

    public var description: String {
        (0..<6).map { i in
            let s = String(byte(i), radix: 16)
            return s.count == 1 ? "0" + s : s
        }.joined(separator: ":")
    }
}
