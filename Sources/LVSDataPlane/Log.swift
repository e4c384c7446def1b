import Glibc

/// Line-oriented logging to standard error. Each line is one write(2), so lines from the
/// worker and the control thread never interleave mid-line.
public enum Log {
    public static func info(_ message: String) { emit("lvsd: " + message) }
    public static func warning(_ message: String) { emit("lvsd: warning: " + message) }
    public static func error(_ message: String) { emit("lvsd: error: " + message) }

    static func emit(_ line: String) {
        var text = line
        text.append("\n")
        text.withUTF8 { buffer in
            guard let base = buffer.baseAddress else { return }
            var offset = 0
            while offset < buffer.count {
                let r = write(2, base + offset, buffer.count - offset)
                if r <= 0 {
                    if r < 0 && errno == EINTR { continue }
                    return
                }
                offset += r
            }
        }
    }
}
