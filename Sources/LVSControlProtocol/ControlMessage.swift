import LVSConfig
import LVSCore

/// The control socket's wire format between lvsd and lvsadm.
///
/// A connection carries one request and one response, both plain text in lines of
/// tab-separated fields, so that a request can be typed by hand with `socat` and a response
/// read in a log. The first line of each names the protocol and its version; a peer that speaks
/// another version is refused by name rather than misread.
///
/// Table changes travel as typed records (`ChangeCodec`): lvsadm has read the command line
/// with ipvsadm's grammar and messages, and the daemon reads each record with byte splitting,
/// checks its fields' syntax and ranges, and applies the batch (`lvsadm -R`) whole or not at
/// all with the table's own checks.
public enum ControlProtocol {
    /// Bumped whenever a message's layout changes (2: firewall marks in the status records;
    /// 3: typed change records instead of ipvsadm argument lists; 4: the sync daemon requests).
    public static let version = 4
    public static let magic = "lvsctl"
    /// Where lvsd listens and lvsadm connects unless `--socket` or `LVSD_SOCKET` says otherwise.
    public static let defaultSocketPath = "/run/lvsd/lvsd.sock"
    /// The environment variable both programs read for the socket path.
    public static let socketEnvironmentVariable = "LVSD_SOCKET"
}

/// What lvsadm asks of lvsd.
public enum ControlRequest: Sendable, Equatable {
    /// Table commands (`IpvsadmCommand.changesTable`), applied in order, all or nothing.
    case change([IpvsadmCommand])
    /// The table, counters and rates; with the connection entries when asked.
    case status(includeConnections: Bool)
    /// `--start-daemon master|backup` with its options.
    case startDaemon(SyncDaemonOptions)
    /// `--stop-daemon master|backup`.
    case stopDaemon(SyncDaemonOptions)
    /// `-L --daemon`: the running sync daemons.
    case daemons
    /// lvsd's own (`lvsadm --sync-role`): switch the running sync daemon to this role keeping
    /// its options, as the VRRP state hook does.
    case syncRole(SyncDaemonOptions.Role)
}

/// A request lvsd refused, with what ipvsadm would print and return.
public struct ControlFailure: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public var exitCode: Int32
    /// The position in a `.change` batch of the command that failed (nothing was applied).
    public var commandIndex: Int?

    public init(message: String, exitCode: Int32, commandIndex: Int? = nil) {
        self.message = message
        self.exitCode = exitCode
        self.commandIndex = commandIndex
    }

    public var description: String { message }
}

/// lvsd's answer: done (with the status, for a status request) or refused.
public enum ControlResponse: Sendable, Equatable {
    case ok(DirectorStatus?)
    /// The running sync daemons, every option filled in with the value in force.
    case daemons([SyncDaemonOptions])
    case failed(ControlFailure)
}

/// A message that is not in this protocol (or not in this version of it).
public struct ControlProtocolError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}

extension ControlRequest {
    public func encoded() -> String {
        switch self {
        case .change(let commands):
            var out = Array("\(ControlProtocol.magic) \(ControlProtocol.version) change\n".utf8)
            out.reserveCapacity(out.count + commands.count * 48)
            for command in commands { ChangeCodec.encode(command, into: &out) }
            return String(decoding: out, as: UTF8.self)
        case .status(let connections):
            return "\(ControlProtocol.magic) \(ControlProtocol.version) status\(connections ? " connections" : "")\n"
        case .startDaemon(let options):
            return "\(ControlProtocol.magic) \(ControlProtocol.version) start-daemon \(SyncDaemonCodec.words(options))\n"
        case .stopDaemon(let options):
            return "\(ControlProtocol.magic) \(ControlProtocol.version) stop-daemon \(SyncDaemonCodec.words(options))\n"
        case .daemons:
            return "\(ControlProtocol.magic) \(ControlProtocol.version) daemons\n"
        case .syncRole(let role):
            return "\(ControlProtocol.magic) \(ControlProtocol.version) sync-role \(role.rawValue)\n"
        }
    }

    public static func decode(_ text: String) throws(ControlProtocolError) -> ControlRequest {
        var text = text
        return try text.withUTF8 { bytes in Result { () throws(ControlProtocolError) in try decode(bytes) } }.get()
    }

    static func decode(_ bytes: UnsafeBufferPointer<UInt8>) throws(ControlProtocolError) -> ControlRequest {
        guard !bytes.isEmpty else { throw ControlProtocolError("empty request") }
        var newline = 0
        while newline < bytes.count && bytes[newline] != UInt8(ascii: "\n") { newline += 1 }
        let first = Substring(String(decoding: UnsafeBufferPointer(rebasing: bytes[..<newline]), as: UTF8.self))
        let words = try ControlHeader.words(first)
        let body = UnsafeBufferPointer(rebasing: bytes[min(newline + 1, bytes.count)...])
        switch words.first {
        case "change":
            guard words.count == 1 else { throw ControlProtocolError("change takes no words, got '\(first)'") }
            return .change(try ChangeCodec.decodeAll(body))
        case "status":
            guard words.count <= 2, words.count == 1 || words[1] == "connections" else {
                throw ControlProtocolError("status takes only the word 'connections', got '\(first)'")
            }
            guard body.isEmpty else { throw ControlProtocolError("a status request has one line") }
            return .status(includeConnections: words.count == 2)
        case "start-daemon", "stop-daemon":
            guard body.isEmpty else { throw ControlProtocolError("a daemon request has one line") }
            let options = try SyncDaemonCodec.options(words.dropFirst())
            return words[0] == "start-daemon" ? .startDaemon(options) : .stopDaemon(options)
        case "sync-role":
            guard words.count == 2, body.isEmpty, let role = SyncDaemonOptions.Role(rawValue: String(words[1])) else {
                throw ControlProtocolError("sync-role takes master or backup, got '\(first)'")
            }
            return .syncRole(role)
        case "daemons":
            guard words.count == 1, body.isEmpty else { throw ControlProtocolError("daemons takes no words, got '\(first)'") }
            return .daemons
        default:
            throw ControlProtocolError("unknown request '\(first)': expected change, status, start-daemon, stop-daemon, daemons or sync-role")
        }
    }
}

extension ControlResponse {
    public func encoded() -> String {
        let head = "\(ControlProtocol.magic) \(ControlProtocol.version)"
        switch self {
        case .ok(nil):
            return head + " ok\n"
        case .ok(let status?):
            var out = Array((head + " ok\n").utf8)
            StatusCodec.encode(status, into: &out)
            return String(decoding: out, as: UTF8.self)
        case .daemons(let daemons):
            return head + " ok daemons\n" + daemons.map { SyncDaemonCodec.words($0) + "\n" }.joined()
        case .failed(let failure):
            let index = failure.commandIndex.map(String.init) ?? "-"
            let message = failure.message.replacingNewlines()
            return head + " failed\t\(failure.exitCode)\t\(index)\t\(message)\n"
        }
    }

    public static func decode(_ text: String) throws(ControlProtocolError) -> ControlResponse {
        guard let newline = text.firstIndex(of: "\n") else { throw ControlProtocolError("response without a first line") }
        let first = text[..<newline]
        let rest = text[text.index(after: newline)...]
        if let tab = first.firstIndex(of: "\t") {
            let words = try ControlHeader.words(first[..<tab])
            guard words == ["failed"] else { throw ControlProtocolError("malformed response '\(first)'") }
            let fields = first[first.index(after: tab)...].split(separator: "\t", maxSplits: 2, omittingEmptySubsequences: false)
            guard fields.count == 3, let code = Int32(fields[0]) else {
                throw ControlProtocolError("malformed failure '\(first)'")
            }
            return .failed(ControlFailure(message: String(fields[2]), exitCode: code, commandIndex: Int(fields[1])))
        }
        let words = try ControlHeader.words(first)
        if words == ["ok", "daemons"] {
            return .daemons(try rest.split(separator: "\n").map { line throws(ControlProtocolError) in
                try SyncDaemonCodec.options(line.split(separator: " ")[...])
            })
        }
        guard words == ["ok"] else { throw ControlProtocolError("malformed response '\(first)'") }
        if rest.isEmpty { return .ok(nil) }
        return .ok(try StatusCodec.decode(rest))
    }
}

/// The first line: `lvsctl VERSION word...`.
enum ControlHeader {
    static func words(_ line: Substring) throws(ControlProtocolError) -> [Substring] {
        let words = line.split(separator: " ")
        guard words.count >= 3, words[0] == ControlProtocol.magic else {
            throw ControlProtocolError("not an lvsd control message: '\(line.prefix(60))'")
        }
        guard words[1] == "\(ControlProtocol.version)" else {
            throw ControlProtocolError("control protocol version \(words[1]) is not spoken here (this side speaks \(ControlProtocol.version)): use lvsadm and lvsd from the same release")
        }
        return Array(words.dropFirst(2))
    }
}

extension String {
    /// Messages travel on one line.
    func replacingNewlines() -> String {
        String(map { $0 == "\n" || $0 == "\t" ? " " : $0 })
    }
}
