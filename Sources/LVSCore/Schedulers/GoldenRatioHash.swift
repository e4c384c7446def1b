/// The kernel's `hash_32` (include/linux/hash.h): multiply by `GOLDEN_RATIO_32` and keep the top
/// `bits` bits.
///
/// sh, dh, lblc and lblcr index their tables with it in v6.x kernels. Older kernels (3.x/4.x)
/// multiplied by 2654435761 and kept the *low* bits instead, which puts every key in a different
/// bucket; SwiftLVS follows the current code, so its tables match a current kernel's.
public enum GoldenRatioHash {
    /// `GOLDEN_RATIO_32`.
    public static let multiplier: UInt32 = 0x61C8_8647

    /// `hash_32(value, bits)` for 1 ≤ bits ≤ 32.
    @inlinable
    public static func hash32(_ value: UInt32, bits: Int) -> UInt32 {
        (value &* multiplier) >> UInt32(32 - bits)
    }
}
