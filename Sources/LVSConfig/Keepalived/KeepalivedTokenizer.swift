/// One word of a keepalived.conf line, quotes and escapes already resolved.
struct KeepalivedToken: Equatable {
    var text: String
    /// Whether any part of the word was quoted: a quoted `"{"` is a word, not a brace, and a
    /// quoted `"include"` is not a directive.
    var quoted: Bool

    init(_ text: String, quoted: Bool = false) {
        self.text = text
        self.quoted = quoted
    }

    var isOpenBrace: Bool { !quoted && text == "{" }
    var isCloseBrace: Bool { !quoted && text == "}" }
}

/// A non-empty line of a configuration file after lexing: where it is and its words.
struct KeepalivedLine: Equatable {
    var file: String
    var number: Int
    var tokens: [KeepalivedToken]
}

/// Splits keepalived.conf text into words the way keepalived reads it:
///
/// - `#` and `!` start a comment anywhere on a line, outside quotes;
/// - `{` and `}` are words of their own even when written against another (`80{`);
/// - a quoted part (`"..."` or `'...'`) keeps its spaces and ends at the same quote character;
///   quotes may sit inside a word (`a"b c"d` is `ab cd`), and inside them the C-like escapes of
///   keepalived.conf(5) apply (`\n`, `\t`, `\x41`, `\101`, `\cA`, `\\`, `\"`, ...);
/// - spaces, tabs and a stray CR separate words, so CRLF files and files without a final
///   newline read like any other.
///
/// A quote cannot span lines: an unterminated one is an error at its line.
enum KeepalivedTokenizer {
    static func tokenize(_ text: String, file: String) throws(ConfigurationError) -> [KeepalivedLine] {
        var result: [KeepalivedLine] = []
        for (index, line) in lines(of: text).enumerated() {
            let tokens = try tokenize(line: line, file: file, number: index + 1)
            if !tokens.isEmpty { result.append(KeepalivedLine(file: file, number: index + 1, tokens: tokens)) }
        }
        return result
    }

    /// The words of one line. `bracesAreWords: false` keeps `{` and `}` inside words, for the
    /// pattern of an `include` line (`include conf.d/{web,dns}.conf`), which keepalived hands to
    /// glob as written.
    static func tokenize(line: Substring, file: String, number: Int,
                         bracesAreWords: Bool = true) throws(ConfigurationError) -> [KeepalivedToken] {
        let scalars = Array(line.unicodeScalars)
        var tokens: [KeepalivedToken] = []
        var current = String.UnicodeScalarView()
        var inWord = false
        var wordQuoted = false
        var quote: Unicode.Scalar?
        var i = 0

        func finishWord() {
            if inWord { tokens.append(KeepalivedToken(String(current), quoted: wordQuoted)) }
            current = String.UnicodeScalarView()
            inWord = false
            wordQuoted = false
        }

        scan: while i < scalars.count {
            let c = scalars[i]
            if let open = quote {
                if c == open {
                    quote = nil
                } else if c == "\\" {
                    i = decodeEscape(scalars, at: i, into: &current)
                    continue
                } else {
                    current.append(c)
                }
                i += 1
                continue
            }
            switch c {
            case " ", "\t", "\r", "\u{0B}", "\u{0C}":
                finishWord()
            case "#", "!":
                break scan
            case "{" where bracesAreWords, "}" where bracesAreWords:
                finishWord()
                tokens.append(KeepalivedToken(String(c)))
            case "\"", "'":
                quote = c
                inWord = true
                wordQuoted = true
            default:
                current.append(c)
                inWord = true
            }
            i += 1
        }
        if let open = quote {
            throw ConfigurationError(file: file, line: number,
                                     message: "unterminated quoted string: add the closing \(open) on this line")
        }
        finishWord()
        return tokens
    }

    /// Decodes the escape starting at the backslash `scalars[start]` into `out`; returns the
    /// index after it. Unknown escapes stand for the character itself (`\\`, `\"`, `\'`).
    static func decodeEscape(_ scalars: [Unicode.Scalar], at start: Int, into out: inout String.UnicodeScalarView) -> Int {
        var i = start + 1
        guard i < scalars.count else {
            out.append("\\")
            return i
        }
        let c = scalars[i]
        i += 1
        switch c {
        case "a": out.append("\u{07}")
        case "b": out.append("\u{08}")
        case "E": out.append("\u{1B}")
        case "f": out.append("\u{0C}")
        case "n": out.append("\n")
        case "r": out.append("\r")
        case "t": out.append("\t")
        case "v": out.append("\u{0B}")
        case "0"..."7":
            var value = c.value - 48
            var digits = 1
            while digits < 3, i < scalars.count, ("0"..."7").contains(scalars[i]) {
                value = value * 8 + scalars[i].value - 48
                i += 1
                digits += 1
            }
            out.append(Unicode.Scalar(UInt8(truncatingIfNeeded: value)))
        case "x":
            var value: UInt32 = 0
            var digits = 0
            while digits < 2, i < scalars.count, let nibble = hexValue(scalars[i]) {
                value = value * 16 + nibble
                i += 1
                digits += 1
            }
            if digits == 0 { out.append("x") } else { out.append(Unicode.Scalar(UInt8(value))) }
        case "c":
            guard i < scalars.count else {
                out.append("c")
                return i
            }
            out.append(Unicode.Scalar(UInt8(truncatingIfNeeded: scalars[i].value & 0x1F)))
            i += 1
        default:
            out.append(c)
        }
        return i
    }

    static func hexValue(_ c: Unicode.Scalar) -> UInt32? {
        switch c {
        case "0"..."9": c.value - 48
        case "a"..."f": c.value - 87
        case "A"..."F": c.value - 55
        default: nil
        }
    }
}
