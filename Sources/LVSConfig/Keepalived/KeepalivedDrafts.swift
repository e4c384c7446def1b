import LVSCore

/// `lvs_method` / `lb_kind` values, spelt as keepalived compares them (case-sensitively).
enum KeepalivedForwarding: String {
    case nat = "NAT"
    case directRouting = "DR"
    case tunnel = "TUN"

    /// How a message names the method.
    var phrase: String {
        switch self {
        case .nat: "NAT"
        case .directRouting: "direct routing"
        case .tunnel: "IP tunnelling"
        }
    }
}

/// A port as written: a number, or a name from /etc/services resolved once the protocol of
/// the virtual server is known (it is often set after the address line).
enum KeepalivedPort: Equatable {
    case number(UInt16)
    case name(String)
}

/// The check settings a virtual server passes to its real servers and a real server to its
/// checkers: each level's own value wins, and an unset one comes from the level above.
struct KeepalivedCheckDefaults {
    var connectTimeout: Double?
    var retry: UInt32?
    var delayBeforeRetry: Double?
    var warmup: Double?
    var delayLoop: Double?
    var virtualHost: String?
    var probeViaVIP: Bool?
    var alpha: Bool?

    func inheriting(_ parent: KeepalivedCheckDefaults) -> KeepalivedCheckDefaults {
        KeepalivedCheckDefaults(
            connectTimeout: connectTimeout ?? parent.connectTimeout, retry: retry ?? parent.retry,
            delayBeforeRetry: delayBeforeRetry ?? parent.delayBeforeRetry, warmup: warmup ?? parent.warmup,
            delayLoop: delayLoop ?? parent.delayLoop, virtualHost: virtualHost ?? parent.virtualHost,
            probeViaVIP: probeViaVIP ?? parent.probeViaVIP, alpha: alpha ?? parent.alpha)
    }
}

/// A `virtual_server` block as read, before defaults, methods and ports are settled.
struct KeepalivedVirtualServerDraft {
    enum Target {
        case address(IPv4Address, KeepalivedPort?)
        case group(String)
    }

    var target: Target
    var file: String
    var line: Int
    /// `virtual_server 10.0.0.1 80`, for messages.
    var spelling: String
    var scheduler = "wlc"
    var flagStatements: [KeepalivedStatement] = []
    var onePacket: KeepalivedStatement?
    var forwarding: KeepalivedForwarding?
    var forwardingStatement: KeepalivedStatement?
    /// The value of an `lb_kind` keepalived did not understand (`dr`), for the skip message.
    var rejectedForwarding: KeepalivedStatement?
    var persistenceTimeout: UInt32?
    var persistenceNetmask: IPv4Address?
    var transport: TransportProtocol?
    var sctp: KeepalivedStatement?
    var sorryServer: KeepalivedSorryServerDraft?
    var quorum: UInt32 = 1
    var hysteresis: UInt32 = 0
    var quorumUp: [String]?
    var quorumDown: [String]?
    var alpha = false
    var omega = false
    var inhibitOnFailure = false
    /// `weight` at virtual-server level: the default weight of its real servers.
    var weight: Int32 = 1
    var rise: UInt32?
    var defaults = KeepalivedCheckDefaults()
    var realServers: [KeepalivedRealServerDraft] = []

    init(target: Target, statement: KeepalivedStatement) {
        self.target = target
        file = statement.file
        line = statement.line
        spelling = statement.spelling
    }
}

struct KeepalivedSorryServerDraft {
    var address: IPv4Address
    var port: KeepalivedPort?
    var inhibit = false
    var forwarding: KeepalivedForwarding?
    var file: String
    var line: Int
}

/// A `real_server` block as read.
struct KeepalivedRealServerDraft {
    var address: IPv4Address
    var port: KeepalivedPort?
    var file: String
    var line: Int
    var spelling: String
    var weight: Int32?
    var upperThreshold: UInt32 = 0
    var lowerThreshold: UInt32 = 0
    var forwarding: KeepalivedForwarding?
    var forwardingStatement: KeepalivedStatement?
    var inhibitOnFailure: Bool?
    var notifyUp: [String]?
    var notifyDown: [String]?
    var rise: UInt32?
    var defaults = KeepalivedCheckDefaults()
    var checkers: [KeepalivedCheckerDraft] = []
    /// Checker blocks lvsd cannot run (SMTP_CHECK, BFD_CHECK, FILE_CHECK), reported once the real
    /// server's other checkers are known.
    var unsupportedCheckers: [KeepalivedStatement] = []

    init(address: IPv4Address, port: KeepalivedPort?, statement: KeepalivedStatement) {
        self.address = address
        self.port = port
        file = statement.file
        line = statement.line
        spelling = statement.spelling
    }
}

/// A checker block as read; its timing comes from the real server and virtual server when
/// the service is built.
struct KeepalivedCheckerDraft {
    struct URLDraft {
        var url: HTTPCheck.URL
        var virtualHost: String?
    }

    var kind: CheckerConfig.Kind
    var file: String
    var line: Int
    var connectAddress: IPv4Address?
    var connectPort: UInt16?
    var bindAddress: IPv4Address?
    var bindPort: UInt16?
    var defaults = KeepalivedCheckDefaults()
    /// HTTP_GET's urls, each with its own `virtualhost` if it has one.
    var urls: [URLDraft] = []
    /// SSL_GET's `enable_sni`.
    var enableSNI = false
}

/// A `virtual_server_group`: the addresses (ranges expanded) and ports its virtual servers
/// stand for, and what reading it had to say.
struct KeepalivedServerGroup {
    struct Entry {
        var address: IPv4Address
        var port: KeepalivedPort?
        var file: String
        var line: Int
    }

    var name: String
    var file: String
    var line: Int
    var entries: [Entry] = []
    var warnings: [ConfigurationWarning] = []
}
