/// The few pieces of JSON text the stats file needs, written by hand: the file is rewritten
/// every second from the control thread, and a general encoder (Foundation's) would pull a
/// large dependency into modules that are otherwise Foundation-free.
public enum JSONText {
    /// `s` as a JSON string literal: quotes, backslashes and control characters escaped (a
    /// health check's last result quotes a server's reply, which may hold any of them).
    public static func string(_ s: String) -> String {
        var out = "\""
        out.reserveCapacity(s.utf8.count + 2)
        for scalar in s.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }

    /// An object from already-encoded members, in the given order (the order a reader of the
    /// file sees; JSON objects are unordered but people read them top to bottom).
    public static func object(_ members: [(String, String)]) -> String {
        "{" + members.map { string($0.0) + ": " + $0.1 }.joined(separator: ", ") + "}"
    }

    public static func bool(_ b: Bool) -> String { b ? "true" : "false" }
}
