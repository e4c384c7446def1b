import LVSCore

/// The C library's readings of numbers and addresses that ipvsadm's checks rest on, written out
/// so that a value ipvsadm accepts is accepted here and one it refuses is refused, without
/// depending on the C library's locale or version.
enum IpvsadmValues {
    /// ipvsadm's `string_to_number`: `strtol` in base 10 over the whole text (leading blanks and
    /// a sign allowed, nothing after the digits), then a range check. So `+5`, `007` and `-0`
    /// are numbers, `5x`, `1.5` and the empty string are not.
    static func number(_ text: String, in range: ClosedRange<Int64>) -> Int64? {
        guard let value = strtolWhole(text), range.contains(value) else { return nil }
        return value
    }

    /// ipvsadm's `parse_fwmark`: like ``number(_:in:)``, 1...UINT32_MAX (a negative number
    /// becomes huge once it is stored unsigned, so it is refused too).
    static func firewallMark(_ text: String) -> UInt32? {
        number(text, in: 1...Int64(UInt32.max)).map { UInt32($0) }
    }

    /// `strtol(text, &end, 10)` that must consume the whole text; nil when it does not, when it
    /// reads no digit, or when the value overflows (ERANGE).
    static func strtolWhole(_ text: String) -> Int64? {
        var bytes = Substring(text).utf8.drop(while: isCSpace)
        var negative = false
        if let sign = bytes.first, sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") {
            negative = sign == UInt8(ascii: "-")
            bytes = bytes.dropFirst()
        }
        guard !bytes.isEmpty else { return nil }
        var magnitude: UInt64 = 0
        for byte in bytes {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            let (times10, o1) = magnitude.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times10.addingReportingOverflow(UInt64(byte - UInt8(ascii: "0")))
            guard !o1, !o2, sum <= UInt64(Int64.max) + 1 else { return nil }
            magnitude = sum
        }
        if negative { return magnitude == UInt64(Int64.max) + 1 ? Int64.min : -Int64(magnitude) }
        return magnitude <= UInt64(Int64.max) ? Int64(magnitude) : nil
    }

    /// `atoi`: leading blanks, a sign, then as many digits as there are; 0 when there are none.
    /// ipvsadm reads an IPv6 `-M` prefix length with it, so `64abc` is 64.
    static func atoi(_ text: String) -> Int64 {
        var bytes = Substring(text).utf8.drop(while: isCSpace)
        var negative = false
        if let sign = bytes.first, sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") {
            negative = sign == UInt8(ascii: "-")
            bytes = bytes.dropFirst()
        }
        var value: Int64 = 0
        for byte in bytes {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { break }
            value = value &* 10 &+ Int64(byte - UInt8(ascii: "0"))
        }
        return negative ? -value : value
    }

    /// ipvsadm's `str_is_digit`: true for the empty string too, so `-t ""` is refused with the
    /// all-digit hosts.
    static func isAllDigits(_ text: some StringProtocol) -> Bool {
        text.utf8.allSatisfy { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }
    }

    /// `isspace` in the C locale.
    static func isCSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || (0x09...0x0D).contains(byte)
    }

    /// `inet_pton(AF_INET, ...)`: four decimal octets, no leading zeros. The multicast group of
    /// the sync daemon is read this way (host names are not accepted there).
    static func strictDottedQuad(_ text: some StringProtocol) -> IPv4Address? {
        // No leading zero in an octet (inet_aton would read it as octal): a '0' that starts an
        // octet must be the whole octet. Checked on bytes; IPv4Address does the rest.
        var atOctetStart = true
        var previousWasLeadingZero = false
        for byte in text.utf8 {
            if byte == UInt8(ascii: ".") {
                atOctetStart = true
                previousWasLeadingZero = false
                continue
            }
            if previousWasLeadingZero { return nil }
            previousWasLeadingZero = atOctetStart && byte == UInt8(ascii: "0")
            atOctetStart = false
        }
        return IPv4Address(text)
    }

    /// `inet_pton(AF_INET6, ...)` success: hex groups of up to four digits separated by colons,
    /// at most one `::`, optionally ending in a dotted IPv4 address that counts as two groups.
    /// SwiftLVS does not forward IPv6, but ipvsadm tells an IPv6 address from a host name by
    /// this test, and so the errors it gives next depend on it.
    static func isIPv6Literal(_ text: some StringProtocol) -> Bool {
        // Every IPv6 literal has at least two colons; most addresses here are `a.b.c.d:port`,
        // so answer those without building the groups.
        var colons = 0
        for byte in text.utf8 where byte == UInt8(ascii: ":") { colons += 1 }
        guard colons >= 2 else { return false }
        return ipv6Groups(text) != nil
    }

    /// The eight 16-bit groups of an IPv6 literal, nil if `text` is not one.
    static func ipv6Groups(_ text: some StringProtocol) -> [UInt16]? {
        let bytes = Array(text.utf8)
        guard !bytes.isEmpty else { return nil }
        var head: [UInt16] = []
        var tail: [UInt16] = []
        var sawDoubleColon = false
        var i = 0
        if bytes.starts(with: [UInt8(ascii: ":"), UInt8(ascii: ":")]) {
            sawDoubleColon = true
            i = 2
            if i == bytes.count { return Array(repeating: 0, count: 8) }
        } else if bytes[0] == UInt8(ascii: ":") {
            return nil
        }
        while i < bytes.count {
            // One group, or a trailing dotted IPv4 address.
            var j = i
            while j < bytes.count, bytes[j] != UInt8(ascii: ":") { j += 1 }
            let field = bytes[i..<j]
            if field.contains(UInt8(ascii: ".")) {
                guard j == bytes.count,
                      let v4 = strictDottedQuad(String(decoding: field, as: UTF8.self)) else { return nil }
                let groups = [UInt16(v4.value >> 16), UInt16(v4.value & 0xFFFF)]
                if sawDoubleColon { tail += groups } else { head += groups }
                i = j
                break
            }
            guard (1...4).contains(field.count), let group = UInt16(String(decoding: field, as: UTF8.self), radix: 16),
                  field.allSatisfy({ isHexDigit($0) }) else { return nil }
            if sawDoubleColon { tail.append(group) } else { head.append(group) }
            if j == bytes.count { i = j; break }
            // At a colon: `::` once, otherwise a single colon must be followed by a group.
            if j + 1 < bytes.count, bytes[j + 1] == UInt8(ascii: ":") {
                guard !sawDoubleColon else { return nil }
                sawDoubleColon = true
                i = j + 2
                if i == bytes.count { break }
            } else {
                guard j + 1 < bytes.count else { return nil }
                i = j + 1
            }
        }
        let count = head.count + tail.count
        if sawDoubleColon {
            guard count <= 7 else { return nil }
            return head + Array(repeating: 0, count: 8 - count) + tail
        }
        return count == 8 ? head : nil
    }

    private static func isHexDigit(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || (UInt8(ascii: "a")...UInt8(ascii: "f")).contains(byte)
            || (UInt8(ascii: "A")...UInt8(ascii: "F")).contains(byte)
    }

    /// C's `strncpy` into a fixed buffer of `capacity` bytes with a terminating NUL: ipvsadm
    /// keeps at most `capacity - 1` bytes of a scheduler, engine or interface name.
    static func truncated(_ text: String, capacity: Int) -> String {
        let bytes = text.utf8.prefix(capacity - 1)
        return String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
    }
}
