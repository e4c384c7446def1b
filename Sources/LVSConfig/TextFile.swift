#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Why a file could not be read, with the path and the system's reason.
public struct FileReadError: Error, Sendable, CustomStringConvertible {
    public var path: String
    public var reason: String
    public var description: String { "\(path): cannot read: \(reason)" }
}

/// Splits text into lines at LF. Swift treats CR LF as one `Character` that is not equal to
/// "\n", so splitting on "\n" alone would read a CRLF file as a single line; both end a line here.
func lines(of text: String) -> [Substring] {
    // Split on UTF-8 bytes, not Characters: grapheme breaking made this the most expensive step
    // of reading a 50 000-line `-R` stream. A line feed is always a scalar boundary, so the
    // byte positions are valid String indices; a CR before it belongs to the line break.
    var result: [Substring] = []
    let utf8 = text.utf8
    var start = utf8.startIndex
    var i = start
    var previous: UInt8 = 0
    while i != utf8.endIndex {
        let byte = utf8[i]
        if byte == UInt8(ascii: "\n") {
            let end = previous == UInt8(ascii: "\r") && start != i ? utf8.index(before: i) : i
            result.append(text[start..<end])
            start = utf8.index(after: i)
        }
        previous = byte
        i = utf8.index(after: i)
    }
    result.append(text[start..<utf8.endIndex])
    return result
}

/// Reads a whole text file as UTF-8 (invalid bytes are replaced, so a stray byte in a comment
/// cannot make a file unreadable).
public func readTextFile(_ path: String) throws(FileReadError) -> String {
    guard let handle = fopen(path, "r") else {
        throw FileReadError(path: path, reason: String(cString: strerror(errno)))
    }
    defer { fclose(handle) }
    var bytes: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 65536)
    while true {
        let n = chunk.withUnsafeMutableBytes { fread($0.baseAddress, 1, $0.count, handle) }
        if n > 0 { bytes.append(contentsOf: chunk[0..<n]) }
        if n < chunk.count {
            if ferror(handle) != 0 { throw FileReadError(path: path, reason: String(cString: strerror(errno))) }
            break
        }
    }
    return String(decoding: bytes, as: UTF8.self)
}

/// Reads a configuration file whole; a file that cannot be read is a `ConfigurationError` on
/// line 0 that says which kind of file it was (`what`, e.g. "the rules file").
func readConfigurationFile(_ path: String, what: String) throws(ConfigurationError) -> String {
    do {
        return try readTextFile(path)
    } catch {
        throw ConfigurationError(file: path, line: 0, message: "cannot read \(what): \(error.reason)")
    }
}
