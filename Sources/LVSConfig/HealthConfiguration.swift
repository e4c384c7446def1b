import LVSCore

/// What keepalived.conf says about health checking, beside the table itself: per virtual
/// service the check loop, quorum and sorry server; per real server its checkers and how a
/// failure is answered. The keepalived.conf reader fills it; LVSHealth runs it.
///
/// Durations are in seconds as keepalived.conf writes them (it accepts fractions).
public struct HealthConfiguration: Sendable, Equatable {
    public var services: [ServiceHealth]

    public init(services: [ServiceHealth] = []) { self.services = services }
}

public struct ServiceHealth: Sendable, Equatable {
    public var key: VirtualServiceKey
    /// `delay_loop` (keepalived's default 60 s): the interval between two checks of a server.
    public var delayLoop: Double = 60
    /// `quorum` (default 1) and `hysteresis` (default 0): the service is "up" while the sum of
    /// the weights of the healthy servers is ≥ quorum + hysteresis when rising, and stays up
    /// until it drops below quorum − hysteresis.
    public var quorum: UInt32 = 1
    public var hysteresis: UInt32 = 0
    /// `quorum_up` / `quorum_down`: scripts run when the quorum is gained or lost.
    public var quorumUp: [String]?
    public var quorumDown: [String]?
    /// `sorry_server IP [PORT]`: put in the table when no real server is healthy.
    public var sorryServer: RealServerConfig?
    /// `sorry_server_inhibit`: the sorry server is kept in the table at weight 0 while it is not
    /// needed, instead of being removed (its `inhibit_on_failure`).
    public var sorryServerInhibit = false
    /// `inhibit_on_failure` at virtual-server level: the default for its real servers.
    public var inhibitOnFailure = false
    /// `alpha`: servers start as failed until their first successful check (default: up).
    public var alpha = false
    /// `omega`: on reload/exit, run the quorum-down script for a service that goes away.
    public var omega = false
    public var realServers: [RealServerHealth] = []

    public init(key: VirtualServiceKey) { self.key = key }
}

public struct RealServerHealth: Sendable, Equatable {
    public var address: IPv4Address
    public var port: UInt16
    /// The weight to restore when the server recovers (its configured weight).
    public var weight: Int32 = 1
    /// `inhibit_on_failure`: a failed server stays in the table with weight 0 (its established
    /// connections keep going) instead of being removed.
    public var inhibitOnFailure = false
    /// `notify_up` / `notify_down`: argv of scripts run on a state change (no shell).
    public var notifyUp: [String]?
    public var notifyDown: [String]?
    /// SwiftLVS's addition: consecutive successful checks needed before a failed server is
    /// used again (keepalived: 1), against flapping. `rise` in the config.
    public var rise: UInt32 = 1
    public var checkers: [CheckerConfig] = []

    public init(address: IPv4Address, port: UInt16) {
        self.address = address
        self.port = port
    }
}

/// One checker block of a real server. A server is healthy while all its checkers are.
public struct CheckerConfig: Sendable, Equatable {
    public enum Kind: Sendable, Equatable {
        /// `TCP_CHECK`: a TCP connection is accepted.
        case tcp
        /// `HTTP_GET`: each `url` answers with its status code (default: 2xx) and, if given, an
        /// MD5 digest of the body.
        case http(HTTPCheck)
        /// `SSL_GET`: HTTP_GET over TLS (no certificate verification, as keepalived).
        case ssl(HTTPCheck)
        /// `MISC_CHECK`: a program's exit status (0 = up; with `misc_dynamic`, 2-255 set the
        /// weight to status − 2).
        case misc(MiscCheck)
        /// `UDP_CHECK`: a datagram gets an answer (or at least no ICMP port unreachable).
        case udp(UDPCheck)
        /// `DNS_CHECK`: a query of `name`/`type` gets an answer.
        case dns(DNSCheck)
        /// `PING_CHECK`: an ICMP echo is answered.
        case ping
    }

    public var kind: Kind
    /// `connect_ip` / `connect_port` (default: the real server's address and port).
    public var connectAddress: IPv4Address?
    public var connectPort: UInt16?
    /// `bindto` / `bind_port`: the source of the check's connection.
    public var bindAddress: IPv4Address?
    public var bindPort: UInt16?
    /// `connect_timeout` (default 5 s).
    public var connectTimeout: Double = 5
    /// `retry` (keepalived's default: 1, 3 for DNS, 0 for MISC): extra attempts before a
    /// server is declared down; `delay_before_retry` (default 1 s, 3 s for HTTP, the delay loop
    /// for DNS) between them.
    public var retry: UInt32 = 1
    public var delayBeforeRetry: Double = 1
    /// `delay_loop` on the checker (or its real server) overrides the virtual server's.
    public var delayLoop: Double?
    /// `warmup`: a random delay up to this before the first check, to spread the load
    /// (keepalived's default, which the keepalived.conf reader fills in: the delay loop).
    public var warmup: Double?
    /// SwiftLVS's addition: probe through the DR path (to the VIP, with the real server's MAC)
    /// so the check fails when the server does not really serve the VIP. `probe_via_vip`.
    public var probeThroughVIP = false

    public init(kind: Kind) { self.kind = kind }
}

public struct HTTPCheck: Sendable, Equatable {
    public struct URL: Sendable, Equatable {
        public var path: String
        /// Expected MD5 of the body, lowercase hex.
        public var digest: String?
        /// Expected status; nil = any 2xx.
        public var statusCode: Int?
        /// `status_code` with several codes or a range (`status_code 200-299 301`): when not
        /// empty, a status in any of these ranges passes and `statusCode` is nil.
        public var statusCodeRanges: [ClosedRange<Int>]

        public init(path: String, digest: String? = nil, statusCode: Int? = nil, statusCodeRanges: [ClosedRange<Int>] = []) {
            self.path = path
            self.digest = digest
            self.statusCode = statusCode
            self.statusCodeRanges = statusCodeRanges
        }

        /// Whether an answer with this status passes: the ranges if any, else the single code,
        /// else any 2xx (keepalived's default).
        public func accepts(status: Int) -> Bool {
            if !statusCodeRanges.isEmpty { return statusCodeRanges.contains { $0.contains(status) } }
            if let statusCode { return status == statusCode }
            return (200...299).contains(status)
        }
    }

    public var urls: [URL]
    /// `virtualhost`: the Host header (default: the address).
    public var virtualHost: String?
    /// SSL_GET's `enable_sni`: the Host header's name goes in the TLS ClientHello too.
    public var enableSNI = false
    /// The global `SSL { certificate; key }`: a client certificate SSL_GET presents (PEM files).
    public var clientCertificate: String?
    public var clientKey: String?

    public init(urls: [URL], virtualHost: String? = nil) {
        self.urls = urls
        self.virtualHost = virtualHost
    }
}

public struct MiscCheck: Sendable, Equatable {
    /// `misc_path`, split into argv as keepalived splits it (quotes respected); run without a shell.
    public var arguments: [String]
    /// `misc_timeout` (default: the delay loop).
    public var timeout: Double?
    /// `misc_dynamic`: exit status 2..255 sets the weight to status − 2.
    public var dynamic = false

    public init(arguments: [String]) { self.arguments = arguments }
}

public struct UDPCheck: Sendable, Equatable {
    /// `payload` (hex in keepalived.conf), sent as the probe.
    public var payload: [UInt8]
    /// `require_reply`: only an answer counts (else: no ICMP error within the timeout is enough).
    public var requireReply = false

    public init(payload: [UInt8] = []) { self.payload = payload }
}

public struct DNSCheck: Sendable, Equatable {
    /// `type` (default SOA) and `name` (default ".").
    public var type: String = "SOA"
    public var name: String = "."

    public init() {}
}

/// A `vrrp_instance` block, kept whole for director high availability (issue 7).
public struct VRRPInstanceBlock: Sendable, Equatable {
    public var name: String
    /// The block's `keyword value...` lines, in order, with nested blocks flattened as
    /// `block.keyword` (`authentication.auth_type`). The lines of a list block
    /// (`virtual_ipaddress`, `unicast_peer`, `track_script`, ...) are kept whole under the
    /// block's name: `("virtual_ipaddress", ["10.0.0.100/24", "dev", "eth0"])`.
    public var settings: [(keyword: String, values: [String])]
    public var file: String
    public var line: Int
    /// The line of each of `settings` (same order), so that an error names the line it is
    /// about; empty when the block was built without them (then `line` stands for all).
    public var settingLines: [Int]

    public init(name: String, settings: [(keyword: String, values: [String])], file: String, line: Int,
                settingLines: [Int] = []) {
        self.name = name
        self.settings = settings
        self.file = file
        self.line = line
        self.settingLines = settingLines
    }

    /// The line of setting `index`, or the block's own line when it is not known.
    public func line(ofSetting index: Int) -> Int {
        index < settingLines.count ? settingLines[index] : line
    }

    public static func == (a: VRRPInstanceBlock, b: VRRPInstanceBlock) -> Bool {
        a.name == b.name && a.file == b.file && a.line == b.line && a.settings.count == b.settings.count
            && zip(a.settings, b.settings).allSatisfy { $0.keyword == $1.keyword && $0.values == $1.values }
    }
}

/// A keepalived.conf line that was read but not used, as keepalived would log it.
public struct ConfigurationWarning: Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var line: Int
    public var message: String

    public init(file: String, line: Int, message: String) {
        self.file = file
        self.line = line
        self.message = message
    }

    public var description: String { "\(file):\(line): \(message)" }
}

/// Everything lvsd takes from a keepalived.conf.
public struct KeepalivedConfiguration: Sendable, Equatable {
    /// The virtual services with their real servers at their configured weights (the health
    /// monitor changes weights and membership at run time from there).
    public var director: DirectorConfiguration
    public var health: HealthConfiguration
    public var vrrpInstances: [VRRPInstanceBlock]
    public var warnings: [ConfigurationWarning]
    /// `global_defs { router_id }`: the name this director gives itself (HA, notifications).
    public var routerID: String?
    /// `global_defs { lvs_timeouts tcp N tcpfin N udp N }`, as `ipvsadm --set` takes them:
    /// 0 leaves a timeout unchanged.
    public var lvsTimeouts: TimeoutSetting?
    /// `global_defs { lvs_sync_daemon ... }`: the connection sync daemon, whose role follows
    /// its VRRP instance.
    public var syncDaemon: KeepalivedSyncDaemon?
    /// `global_defs { vrrp_version 2|3 }`: every vrrp_instance's version unless the instance
    /// sets its own `version` (nil: none given, keepalived's default 2).
    public var vrrpVersion: KeepalivedVRRPVersion?
    /// `global_defs { vrrp_strict }`: keepalived's strict RFC mode, which among other things
    /// ignores every instance's authentication (so lvsd must too, or the two disagree).
    public var vrrpStrict: Bool

    public init(director: DirectorConfiguration = DirectorConfiguration(), health: HealthConfiguration = HealthConfiguration(),
                vrrpInstances: [VRRPInstanceBlock] = [], warnings: [ConfigurationWarning] = [],
                routerID: String? = nil, lvsTimeouts: TimeoutSetting? = nil, syncDaemon: KeepalivedSyncDaemon? = nil,
                vrrpVersion: KeepalivedVRRPVersion? = nil, vrrpStrict: Bool = false) {
        self.vrrpStrict = vrrpStrict
        self.syncDaemon = syncDaemon
        self.vrrpVersion = vrrpVersion
        self.director = director
        self.health = health
        self.vrrpInstances = vrrpInstances
        self.warnings = warnings
        self.routerID = routerID
        self.lvsTimeouts = lvsTimeouts
    }
}

/// `global_defs { vrrp_version N }`, with where it was written (for the messages of the
/// instances it applies to).
public struct KeepalivedVRRPVersion: Sendable, Equatable {
    /// 2 or 3 (checked when read).
    public var version: Int
    public var file: String
    public var line: Int

    public init(version: Int, file: String, line: Int) {
        self.version = version
        self.file = file
        self.line = line
    }
}

/// keepalived's `lvs_sync_daemon INTERFACE [VRRP_INSTANCE] [id N] [maxlen N] [port N] [ttl N]
/// [group IP]`: a sync daemon that runs as master while the VRRP instance is MASTER and as
/// backup otherwise (it starts as backup).
public struct KeepalivedSyncDaemon: Sendable, Equatable {
    /// The ipvsadm options; `role` is the starting one, backup.
    public var options: SyncDaemonOptions
    /// The VRRP instance whose state the role follows (nil: none named).
    public var vrrpInstance: String?

    public init(options: SyncDaemonOptions, vrrpInstance: String? = nil) {
        self.options = options
        self.vrrpInstance = vrrpInstance
    }
}
