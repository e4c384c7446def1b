/// The few printf conversions ipvsadm's listings use, without Foundation's `String(format:)`.
///
/// printf pads and truncates by bytes, not by characters, so every width here counts UTF-8
/// bytes: a host name with a non-ASCII byte must shift the columns exactly as it does in C.
enum TextColumn {
    /// `%-Ns`: the text, then spaces up to `width` bytes; longer text is left whole.
    static func left(_ text: String, _ width: Int) -> String {
        let missing = width - text.utf8.count
        return missing > 0 ? text + String(repeating: " ", count: missing) : text
    }

    /// `%Ns` / `%Nllu`: spaces up to `width` bytes, then the text.
    static func right(_ text: String, _ width: Int) -> String {
        let missing = width - text.utf8.count
        return missing > 0 ? String(repeating: " ", count: missing) + text : text
    }

    /// `%0Nd`: zeros in front up to `width` digits (used for the `-c` listing's mm:ss).
    static func zeroPadded(_ value: UInt32, _ width: Int) -> String {
        let digits = String(value)
        let missing = width - digits.utf8.count
        return missing > 0 ? String(repeating: "0", count: missing) + digits : digits
    }

    /// The C string cut at `bytes` bytes, as ipvsadm cuts names by writing a NUL into its buffer
    /// (`svc_name[33] = '\0'`, `dname[28] = '\0'`, `snprintf(buf, 60, ...)`).
    static func truncated(_ text: String, toBytes bytes: Int) -> String {
        let utf8 = text.utf8
        guard utf8.count > bytes else { return text }
        return String(decoding: utf8.prefix(bytes), as: UTF8.self)
    }
}
