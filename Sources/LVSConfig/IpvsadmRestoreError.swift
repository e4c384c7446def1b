/// A `-R` stream that cannot be applied: the first bad line's number and ipvsadm's error for it.
/// Nothing from such a stream is applied (ipvsadm itself stops at a bad line, after applying the
/// lines before it; SwiftLVS checks the whole stream first).
public struct IpvsadmRestoreError: Error, Sendable, Equatable, CustomStringConvertible {
    /// 1-based, counting every line of the stream, comments and blank lines included.
    public var line: Int
    public var error: IpvsadmError

    public init(line: Int, error: IpvsadmError) {
        self.line = line
        self.error = error
    }

    /// ipvsadm's exit status for the line: 2 for its checks, 255 for option-parser errors.
    public var exitCode: Int32 { error.exitCode }

    /// `line 3: illegal weight specified ('x': expected 0..65535)`.
    public var description: String { "line \(line): \(error.explanation)" }

    /// What `lvsadm -R` writes to standard error: ipvsadm's message for the line, prefixed with
    /// the line number, and the hint where ipvsadm prints it.
    public func standardErrorText(programName: String) -> String {
        let text = error.message.isEmpty ? error.detail ?? "" : error.message
        var result = "line \(line): \(text)\n"
        if error.suggestsHelp {
            result += "Try `\(programName) -h' or '\(programName) --help' for more information.\n"
        }
        return result
    }
}
