/// Why lvs-realserver could not do what it was asked, with what to do about it.
///
/// One struct with a nested `Code` (as swift-service-lifecycle's `ServiceGroupError`), so new
/// kinds of failure do not break callers that switch on the ones they know. Every error names
/// the command or file involved and says what the operator can do.
public struct RealServerError: Error, CustomStringConvertible, Sendable {
    /// The kind of failure.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        let name: String
        public var description: String { name }

        /// An argument or option that cannot be used (bad address, unknown method, ...).
        public static let invalidArgument = Code(name: "invalid argument")
        /// A host command (`ip`, `arptables`, ...) exited non-zero or could not be started.
        public static let commandFailed = Code(name: "command failed")
        /// A tool the chosen method needs is not installed.
        public static let toolMissing = Code(name: "tool missing")
        /// firewalld is not running (the firewalld method needs it).
        public static let firewalldNotRunning = Code(name: "firewalld not running")
        /// The host is in a state that apply will not change on its own (a VIP on the wrong
        /// device, a file that is not ours, another configuration already applied).
        public static let conflict = Code(name: "conflict")
        /// Reading or writing a file (state, persistence, /proc/sys) failed.
        public static let fileError = Code(name: "file error")
        /// What the host reported could not be understood.
        public static let unreadableOutput = Code(name: "unreadable output")
    }

    public var code: Code
    /// What went wrong, naming the command or file.
    public var message: String
    /// What the operator can do about it.
    public var remedy: String?
    public var fileID: String
    public var line: Int

    public init(_ code: Code, _ message: String, remedy: String? = nil,
                fileID: String = #fileID, line: Int = #line) {
        self.code = code
        self.message = message
        self.remedy = remedy
        self.fileID = fileID
        self.line = line
    }

    public var description: String {
        if let remedy { return "\(message)\n  what to do: \(remedy)" }
        return message
    }
}
