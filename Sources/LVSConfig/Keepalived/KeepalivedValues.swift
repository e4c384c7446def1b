#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import LVSCore

/// The value syntaxes of keepalived.conf(5), each read the way keepalived reads it.
enum KeepalivedValues {
    /// A decimal integer in `range` (no sign, no spaces).
    static func unsigned(_ text: String, in range: ClosedRange<UInt64>) -> UInt64? {
        guard !text.isEmpty, text.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }), let value = UInt64(text) else { return nil }
        return range.contains(value) ? value : nil
    }

    static func uint32(_ text: String, in range: ClosedRange<UInt32> = 0...UInt32.max) -> UInt32? {
        unsigned(text, in: UInt64(range.lowerBound)...UInt64(range.upperBound)).map { UInt32($0) }
    }

    /// A `<TIMER>`: seconds, with a fraction if wanted (`2.5`), resolution one microsecond.
    static func timer(_ text: String) -> Double? {
        let parts = text.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard let whole = parts.first, whole.utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }),
              parts.count == 1 || parts[1].utf8.allSatisfy({ $0 >= 48 && $0 <= 57 }),
              !(whole.isEmpty && (parts.count == 1 || parts[1].isEmpty)),
              let value = Double(text.hasPrefix(".") ? "0" + text : text), value.isFinite else { return nil }
        return value
    }

    /// A `<BOOL>`: on|off|true|false|yes|no.
    static func bool(_ text: String) -> Bool? {
        switch text.lowercased() {
        case "on", "true", "yes": true
        case "off", "false", "no": false
        default: nil
        }
    }

    /// keepalived's free-form hex string (`payload`, `require_reply`): each word is read two
    /// digits at a time from its left, and a lone last digit is a byte of its own, so
    /// `Ab12f 3 456` is AB 12 0F 03 45 06. Nil if a character is not a hex digit.
    static func hexBytes(_ words: [String]) -> [UInt8]? {
        var bytes: [UInt8] = []
        for word in words {
            var nibbles: [UInt8] = []
            for scalar in word.unicodeScalars {
                guard let nibble = KeepalivedTokenizer.hexValue(scalar) else { return nil }
                nibbles.append(UInt8(nibble))
            }
            var i = 0
            while i < nibbles.count {
                if i + 1 < nibbles.count {
                    bytes.append(nibbles[i] << 4 | nibbles[i + 1])
                } else {
                    bytes.append(nibbles[i])
                }
                i += 2
            }
        }
        return bytes
    }

    /// A script string split into argv as keepalived splits it: at unquoted spaces and tabs;
    /// single or double quotes keep their content (spaces included) in one argument, and a
    /// backslash outside quotes takes the next character literally.
    static func scriptArguments(_ text: String) -> [String] {
        var arguments: [String] = []
        var current = ""
        var inArgument = false
        var quote: Character?
        var escaped = false
        for character in text {
            if escaped {
                current.append(character)
                escaped = false
                continue
            }
            if let open = quote {
                if character == open { quote = nil } else { current.append(character) }
                continue
            }
            switch character {
            case " ", "\t":
                if inArgument { arguments.append(current) }
                current = ""
                inArgument = false
            case "'", "\"":
                quote = character
                inArgument = true
            case "\\":
                escaped = true
                inArgument = true
            default:
                current.append(character)
                inArgument = true
            }
        }
        if escaped { current.append("\\") }
        if inArgument { arguments.append(current) }
        return arguments
    }

    /// `persistence_granularity`: a netmask (`255.255.255.0`) or, lvsd's reading of a bare
    /// number, a prefix length (`24`).
    static func netmask(_ text: String) -> IPv4Address? {
        if let mask = IPv4Address(text) { return mask }
        guard let length = unsigned(text, in: 0...32) else { return nil }
        return IPv4Address(length == 0 ? 0 : UInt32.max << (32 - UInt32(length)))
    }

    /// Whether `text` is an IPv6 literal (valid, but not something SwiftLVS forwards).
    static func isIPv6(_ text: String) -> Bool {
        guard text.contains(":") else { return false }
        var storage = in6_addr()
        let literal = text.split(separator: "%", maxSplits: 1).first.map(String.init) ?? text
        return inet_pton(AF_INET6, literal, &storage) == 1
    }

    /// Whether `text` is made of digits and dots only: meant as an IPv4 address, so never
    /// handed to the resolver when it is not a valid one.
    static func looksNumeric(_ text: String) -> Bool {
        text.utf8.allSatisfy { ($0 >= 48 && $0 <= 57) || $0 == 46 }
    }

    /// The Levenshtein distance from `a` to `b` (for "did you mean"; a swap of two letters,
    /// `weigth`, counts 2).
    static func editDistance(_ a: String, _ b: String) -> Int {
        let a = Array(a), b = Array(b)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        var current = [Int](repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)
                current[j] = min(previous[j] + 1, current[j - 1] + 1, substitution)
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }
}
