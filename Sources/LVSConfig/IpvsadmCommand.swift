import LVSCore

/// One ipvsadm invocation (or one `-R` line), parsed: what `lvsadm` sends to lvsd, what a rules
/// file holds, and what the daemon applies. Fields carry ipvsadm's defaults already applied, so
/// an edit is a full replace exactly as ipvsadm's is (IPVS-SEMANTICS.md §5.4: `-E` without `-s`
/// resets the scheduler to wlc, `-e` without `-w` resets the weight to 1).
public enum IpvsadmCommand: Sendable, Equatable {
    /// `-A`: the service, without real servers.
    case addService(VirtualServiceConfig)
    /// `-E`: scheduler, flags, persistence and `-o` replaced as given.
    case editService(VirtualServiceConfig)
    /// `-D`.
    case deleteService(VirtualServiceKey)
    /// `-C`.
    case clear
    /// `-a`.
    case addServer(VirtualServiceKey, RealServerConfig)
    /// `-e`: weight and thresholds replaced as given.
    case editServer(VirtualServiceKey, RealServerConfig)
    /// `-d`.
    case deleteServer(VirtualServiceKey, address: IPv4Address, port: UInt16)
    /// `-Z`: one service's counters, or all (nil).
    case zero(VirtualServiceKey?)
    /// `--set tcp tcpfin udp` (0 leaves a value unchanged).
    case setTimeouts(TimeoutSetting)
    /// `-L`/`-l`, or no arguments at all.
    case list(ListOptions)
    /// `-S [-n]`.
    case save(numeric: Bool)
    /// `-R`: commands follow on standard input.
    case restore
    /// `--start-daemon master|backup` with its options.
    case startDaemon(SyncDaemonOptions)
    /// `--stop-daemon master|backup`.
    case stopDaemon(SyncDaemonOptions)
    /// `-h`.
    case help
    /// `-v`.
    case version

    /// Whether the command changes the director's table (and so is sent as a change request).
    public var changesTable: Bool {
        switch self {
        case .addService, .editService, .deleteService, .clear, .addServer, .editServer, .deleteServer, .zero,
             .setTimeouts:
            true
        case .list, .save, .restore, .startDaemon, .stopDaemon, .help, .version:
            false
        }
    }
}

/// The options of `-L` (IPVS-SEMANTICS.md §5.2, list options).
public struct ListOptions: Sendable, Equatable {
    public var numeric = false
    public var connections = false
    public var timeout = false
    public var daemon = false
    public var stats = false
    public var rate = false
    public var thresholds = false
    public var persistentConnections = false
    public var tunnelInfo = false
    /// `--nosort` clears it; `--sort` is accepted and changes nothing.
    public var sort = true
    public var exact = false
    /// `-L -t VIP:PORT`: only this service.
    public var service: VirtualServiceKey?

    public init() {}
}

/// `--start-daemon` / `--stop-daemon` and their options.
public struct SyncDaemonOptions: Sendable, Equatable {
    public enum Role: String, Sendable, Equatable {
        case master, backup
    }

    public var role: Role
    public var syncID: UInt8 = 0
    public var interface: String?
    public var maximumLength: UInt16?
    public var group: IPv4Address?
    public var port: UInt16?
    public var ttl: UInt8?

    public init(role: Role) { self.role = role }
}

/// A command line ipvsadm refuses, with ipvsadm's text and exit status: 2 for its own checks
/// (`fail()`), 255 for option-parser errors (which also print the "Try ... -h" hint).
///
/// `message` is exactly what ipvsadm prints, because scripts match it; it is empty where
/// ipvsadm prints only the hint (a line with no command, `-R` inside a restore stream).
/// `detail` says more for a human reading a log or a rules-file error (the value and the range
/// expected); `lvsadm` does not print it, so that its standard error stays ipvsadm's.
public struct IpvsadmError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String
    public var exitCode: Int32
    /// popt errors add ``Try `ipvsadm -h' or 'ipvsadm --help' for more information.``
    public var suggestsHelp: Bool
    /// What the value was and what was expected, e.g. `'70000': expected 0..65535`.
    public var detail: String?

    public init(_ message: String, exitCode: Int32 = 2, suggestsHelp: Bool = false, detail: String? = nil) {
        self.message = message
        self.exitCode = exitCode
        self.suggestsHelp = suggestsHelp
        self.detail = detail
    }

    public var description: String { explanation }

    /// `message (detail)`, or whichever of the two there is: the text for logs and rules files.
    public var explanation: String {
        switch (message.isEmpty, detail) {
        case (_, nil): message
        case (true, let detail?): detail
        case (false, let detail?): "\(message) (\(detail))"
        }
    }

    /// What ipvsadm writes to standard error for this error, byte for byte: the message line,
    /// then the hint naming the program as it was invoked.
    public func standardErrorText(programName: String) -> String {
        var text = message.isEmpty ? "" : message + "\n"
        if suggestsHelp {
            text += "Try `\(programName) -h' or '\(programName) --help' for more information.\n"
        }
        return text
    }
}
