/// Numbers and addresses written straight into a byte buffer: the control plane's encoders
/// and listings write 50 000 lines for a 10 000-service table, and a `String` per number
/// (interpolation, `String(value)`) was most of their cost.
extension Array where Element == UInt8 {
    /// The decimal digits of `value`.
    @inlinable
    public mutating func appendDecimal(_ value: UInt64) {
        if value < 10 {
            append(UInt8(truncatingIfNeeded: value) &+ 0x30)
            return
        }
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
            var v = value
            var i = 20
            while v > 0 {
                i -= 1
                digits[i] = UInt8(truncatingIfNeeded: v % 10) &+ 0x30
                v /= 10
            }
            append(contentsOf: UnsafeBufferPointer(rebasing: digits[i..<20]))
        }
    }

    /// A signed decimal (`-` then the digits for a negative value).
    @inlinable
    public mutating func appendDecimal(_ value: Int64) {
        if value < 0 { append(0x2D) }
        appendDecimal(value.magnitude)
    }

    /// `a.b.c.d`.
    @inlinable
    public mutating func appendDottedQuad(_ address: IPv4Address) {
        let v = address.value
        appendDecimal(UInt64(v >> 24))
        append(0x2E)
        appendDecimal(UInt64((v >> 16) & 0xFF))
        append(0x2E)
        appendDecimal(UInt64((v >> 8) & 0xFF))
        append(0x2E)
        appendDecimal(UInt64(v & 0xFF))
    }

    /// The text's UTF-8 bytes.
    @inlinable
    public mutating func appendText(_ text: String) {
        append(contentsOf: text.utf8)
    }

    /// `count` copies of `byte` (padding).
    @inlinable
    public mutating func appendRepeated(_ byte: UInt8, count n: Int) {
        var i = 0
        while i < n {
            append(byte)
            i += 1
        }
    }
}

/// How many bytes `appendDecimal` writes for `value`.
@inlinable
public func decimalLength(_ value: UInt64) -> Int {
    var n = 1
    var v = value
    while v >= 10 {
        v /= 10
        n += 1
    }
    return n
}
