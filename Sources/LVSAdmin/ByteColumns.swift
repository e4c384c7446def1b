import LVSCore

/// `TextColumn`'s printf conversions, appended to a byte buffer: the table listing writes
/// 50 000 lines for 10 000 services, and a `String` per column was most of its cost. Widths
/// count bytes, as printf does.
extension Array where Element == UInt8 {
    /// `%-Ns` of the bytes appended since `mark`: spaces up to `width` bytes.
    mutating func padLeftAligned(from mark: Int, _ width: Int) {
        appendRepeated(0x20, count: width - (count - mark))
    }

    /// `%-Ns`.
    mutating func appendLeft(_ text: String, _ width: Int) {
        let mark = count
        appendText(text)
        padLeftAligned(from: mark, width)
    }

    /// `%-Nu` / `%-Nd`.
    mutating func appendLeft(_ value: Int64, _ width: Int) {
        let mark = count
        appendDecimal(value)
        padLeftAligned(from: mark, width)
    }

    /// `%Nllu`.
    mutating func appendRight(_ value: UInt64, _ width: Int) {
        appendRepeated(0x20, count: width - decimalLength(value))
        appendDecimal(value)
    }

    /// Cuts what was appended since `mark` to `limit` bytes, as `TextColumn.truncated` cuts a
    /// String (a multi-byte character cut in two is repaired the same way).
    mutating func truncate(from mark: Int, toBytes limit: Int) {
        guard count - mark > limit else { return }
        let kept = String(decoding: self[mark..<(mark + limit)], as: UTF8.self)
        removeSubrange(mark...)
        appendText(kept)
    }
}

extension EndpointNamer {
    /// `name(...)`, appended.
    func append(_ address: IPv4Address, _ port: UInt16, _ transport: TransportProtocol, to out: inout [UInt8]) {
        if numeric {
            out.appendDottedQuad(address)
            out.append(0x3A)
            out.appendDecimal(UInt64(port))
        } else {
            out.appendText(name(address, port, transport))
        }
    }
}
