import LVSCore

/// One VRRP instance as lvsd runs it: a typed, checked `vrrp_instance` block. Defaults are
/// keepalived's (VRRP version 2, priority 100, advert_int 1 s, preempt on, 224.0.0.18, a GARP burst of 5 on
/// takeover and another 5 s later).
public struct VRRPInstanceConfiguration: Sendable, Equatable {
    /// The state an instance starts in (`state MASTER|BACKUP`): MASTER takes the VIPs at once
    /// instead of waiting one master-down interval; an election follows either way.
    public enum InitialState: String, Sendable, Equatable {
        case master = "MASTER"
        case backup = "BACKUP"
    }

    /// The scripts keepalived runs on state changes; each a command line split into words.
    public struct NotifyScripts: Sendable, Equatable {
        public var master: [String]?
        public var backup: [String]?
        public var fault: [String]?
        public var stop: [String]?
        /// `notify`: run on every change with `INSTANCE NAME STATE PRIORITY` appended.
        public var any: [String]?
        public init() {}
    }

    public var name: String
    public var interface: String
    public var virtualRouterID: UInt8
    /// 1...255; 255 is the address owner, which takes over at once.
    public var priority: UInt8 = 100
    /// `vrrp_version` / `version`: 2 by default, as keepalived.
    public var version: VRRPVersion = .v2
    /// The advertisement interval in centiseconds: 1...4095 with v3; whole seconds (a
    /// multiple of 100, up to 255 s) with v2.
    public var advertIntervalCentiseconds: UInt16 = 100
    /// v2's `authentication { auth_type PASS; auth_pass ... }`: sent in every advert, and an
    /// advert without the same is dropped. Always `.none` with v3.
    public var authentication: VRRPAuthentication = .none
    public var preempt = true
    /// keepalived's `vrrp_strict` / `strict_mode`: besides ignoring authentication (done by the
    /// reader), a received advert whose address list differs from `virtualAddresses` is
    /// dropped, as keepalived drops it; without it lvsd accepts the advert and logs the
    /// difference (a backup that dropped its master's adverts would take the VIPs too).
    public var strict = false
    /// Seconds from first hearing a lower-priority master until preempting it (keepalived's
    /// `preempt_delay`; 0: at once).
    public var preemptDelaySeconds: UInt32 = 0
    public var initialState: InitialState = .backup
    public var virtualAddresses: [IPv4Address] = []
    /// Unicast mode: adverts go to each peer instead of 224.0.0.18, and only peers are heard.
    public var unicastSource: IPv4Address?
    public var unicastPeers: [IPv4Address] = []
    /// Interfaces whose loss puts the instance in FAULT (its own interface always counts).
    public var trackInterfaces: [String] = []
    public var notify = NotifyScripts()
    /// Gratuitous ARPs per VIP sent at once on becoming master (`garp_master_repeat`).
    public var garpMasterRepeat: Int = 5
    /// Seconds after becoming master until the second burst (`garp_master_delay`, 0 = none).
    public var garpMasterDelaySeconds: UInt32 = 5
    /// Where the block starts, for messages.
    public var file: String
    public var line: Int

    public init(name: String, interface: String, virtualRouterID: UInt8, file: String = "", line: Int = 0) {
        self.name = name
        self.interface = interface
        self.virtualRouterID = virtualRouterID
        self.file = file
        self.line = line
    }

    /// The IPv4 multicast group of VRRP (RFC 5798 §5.1.1.2).
    public static let multicastGroup = IPv4Address(224, 0, 0, 18)
}
