import LVSCore

/// The states of RFC 5798 §6.4, plus keepalived's FAULT (a tracked interface is down).
public enum VRRPState: String, Sendable, Equatable {
    case initialize = "INIT"
    case backup = "BACKUP"
    case master = "MASTER"
    case fault = "FAULT"
}

/// What the state machine asks its I/O layer to do, in order.
public enum VRRPAction: Sendable, Equatable {
    /// Send an advertisement with this priority (0 when a master stops).
    case sendAdvertisement(priority: UInt8)
    /// The instance changed state: on MASTER take the VIPs and announce them (gratuitous
    /// ARP), on leaving MASTER release them at once; run the notify scripts.
    case enter(VRRPState)
}

/// What happens to an instance.
public enum VRRPEvent: Sendable, Equatable {
    case startup
    case shutdown
    /// `deadline` has passed (the advertisement timer in MASTER, master-down in BACKUP).
    case timerExpired
    /// A valid advertisement for this instance's router id, from `source`.
    case advertisement(priority: UInt8, maxAdvertInterval: UInt16, source: IPv4Address)
    /// A tracked interface went down / all of them are up again.
    case interfaceDown
    case interfaceUp
}

/// One VRRP instance's state machine (RFC 5798 §6.4; v2's RFC 3768 §6.4 is the same but for
/// the timers, see `skewTime` and `learned`), pure: time is handed in (nanoseconds
/// on any monotonic clock), and what to do comes back as `VRRPAction`s. It keeps one timer,
/// `deadline`; the caller delivers `.timerExpired` once the clock reaches it.
public struct VRRPStateMachine: Sendable {
    public private(set) var configuration: VRRPInstanceConfiguration
    /// The local primary address, the tie-break between equal priorities (§6.4.3).
    public let primaryAddress: IPv4Address
    public private(set) var state: VRRPState = .initialize
    /// When the running timer fires (nil: none runs).
    public private(set) var deadline: UInt64?
    /// The master's advertised interval, in centiseconds (§6.1). v2 has none to learn: there it
    /// is always the instance's own `advert_int` (a peer's other interval is dropped before).
    public private(set) var masterAdvertInterval: UInt16
    /// With `preempt_delay`: when the lower-priority master first heard may be preempted
    /// (nil: none heard since this instance last left MASTER), as keepalived counts it.
    public private(set) var preemptAllowedAt: UInt64?
    /// Consulted before this instance preempts a lower-priority master: lvsd's hook for
    /// "the connection table is synced, a takeover loses nothing". Always true by default.
    public var mayPreempt: @Sendable () -> Bool = { true }

    static let nanosPerCentisecond: UInt64 = 10_000_000

    public init(configuration: VRRPInstanceConfiguration, primaryAddress: IPv4Address) {
        self.configuration = configuration
        self.primaryAddress = primaryAddress
        masterAdvertInterval = configuration.advertIntervalCentiseconds
    }

    public var priority: UInt8 { configuration.priority }

    /// Skew_Time in nanoseconds: v3's ((256 - Priority) × Master_Adver_Interval) / 256
    /// (RFC 5798 §6.1); v2's (256 - Priority) / 256 seconds, whatever the interval (RFC 3768
    /// §6.1, and keepalived's VRRP_TIMER_SKEW for v2).
    public var skewTime: UInt64 {
        switch configuration.version {
        case .v2: UInt64(256 - Int(priority)) * 1_000_000_000 / 256
        case .v3: UInt64(256 - Int(priority)) * UInt64(masterAdvertInterval) * Self.nanosPerCentisecond / 256
        }
    }

    /// Master_Down_Interval = 3 × Master_Adver_Interval + Skew_Time, in nanoseconds.
    public var masterDownInterval: UInt64 {
        3 * UInt64(masterAdvertInterval) * Self.nanosPerCentisecond + skewTime
    }

    var advertInterval: UInt64 { UInt64(configuration.advertIntervalCentiseconds) * Self.nanosPerCentisecond }

    /// Feeds one event; returns what to do, in order.
    public mutating func handle(_ event: VRRPEvent, now: UInt64) -> [VRRPAction] {
        switch (state, event) {
        case (.initialize, .startup):
            preemptAllowedAt = nil
            return start(now: now, initialState: configuration.initialState)
        case (.initialize, _):
            return []
        case (.fault, .interfaceUp):
            return start(now: now, initialState: .backup)
        case (.fault, .shutdown):
            deadline = nil
            state = .initialize
            return [.enter(.initialize)]
        case (.fault, _):
            return []
        case (_, .interfaceDown):
            // The link is gone: no advert can leave; the peer's master-down timer takes over.
            deadline = nil
            state = .fault
            return [.enter(.fault)]
        case (.backup, .shutdown):
            deadline = nil
            state = .initialize
            return [.enter(.initialize)]
        case (.master, .shutdown):
            deadline = nil
            state = .initialize
            return [.sendAdvertisement(priority: 0), .enter(.initialize)]
        case (.backup, .timerExpired):
            return becomeMaster(now: now)
        case (.master, .timerExpired):
            deadline = now &+ advertInterval
            return [.sendAdvertisement(priority: priority)]
        case (.backup, .advertisement(let theirs, let interval, _)):
            if theirs == 0 {
                // The master stopped: take over after Skew_Time only (§6.4.2).
                deadline = now &+ skewTime
                return []
            }
            if !configuration.preempt || theirs >= priority || !preemptionAllowed(now: now) {
                masterAdvertInterval = learned(interval)
                deadline = now &+ masterDownInterval
            }
            // Otherwise: a lower-priority master we preempt; discard, and let the timer fire.
            return []
        case (.master, .advertisement(let theirs, let interval, let source)):
            if theirs == 0 {
                // Another master stopped: assert ourselves at once (§6.4.3).
                deadline = now &+ advertInterval
                return [.sendAdvertisement(priority: priority)]
            }
            if theirs > priority || (theirs == priority && source.value > primaryAddress.value) {
                masterAdvertInterval = learned(interval)
                deadline = now &+ masterDownInterval
                state = .backup
                return [.enter(.backup)]
            }
            return []
        case (.backup, .startup), (.master, .startup), (_, .interfaceUp):
            return []
        }
    }

    /// Whether `new` can replace the running configuration in place (SIGHUP): the same instance
    /// on the same interface and virtual router, speaking the same version to the same peers.
    /// Anything else is another instance, which only a restart brings up.
    public func canReconfigure(to new: VRRPInstanceConfiguration) -> Bool {
        new.name == configuration.name && new.interface == configuration.interface
            && new.virtualRouterID == configuration.virtualRouterID && new.version == configuration.version
            && new.unicastSource == configuration.unicastSource && new.unicastPeers == configuration.unicastPeers
    }

    /// Applies a reloaded configuration without leaving the current state, as keepalived's
    /// reload keeps a running instance's state: a master announces a changed priority or
    /// interval at once (a backup with a higher priority and preempt then takes over at its
    /// next timer, a lower one keeps waiting); a backup uses its new priority from the next
    /// advert on (and, with v2, its new interval for the master down interval). The caller
    /// checked `canReconfigure(to:)`.
    public mutating func reconfigure(_ new: VRRPInstanceConfiguration, now: UInt64) -> [VRRPAction] {
        let old = configuration
        configuration = new
        if new.preemptDelaySeconds != old.preemptDelaySeconds { preemptAllowedAt = nil }
        switch state {
        case .master where new.priority != old.priority || new.advertIntervalCentiseconds != old.advertIntervalCentiseconds:
            deadline = now &+ advertInterval
            return [.sendAdvertisement(priority: priority)]
        case .backup where new.version == .v2:
            masterAdvertInterval = new.advertIntervalCentiseconds
            return []
        default:
            return []
        }
    }

    /// The Master_Adver_Interval to keep after hearing `interval`: v3 learns it, v2 keeps its own.
    func learned(_ interval: UInt16) -> UInt16 {
        configuration.version == .v3 ? max(1, interval) : configuration.advertIntervalCentiseconds
    }

    /// Whether a lower-priority master may be preempted now: `preempt_delay` seconds after it
    /// was first heard, and when the `mayPreempt` hook agrees.
    mutating func preemptionAllowed(now: UInt64) -> Bool {
        if configuration.preemptDelaySeconds > 0 {
            let at = preemptAllowedAt ?? now &+ UInt64(configuration.preemptDelaySeconds) * 1_000_000_000
            preemptAllowedAt = at
            if now < at { return false }
        }
        return mayPreempt()
    }

    mutating func start(now: UInt64, initialState: VRRPInstanceConfiguration.InitialState) -> [VRRPAction] {
        masterAdvertInterval = configuration.advertIntervalCentiseconds
        if priority == 255 || initialState == .master {
            return becomeMaster(now: now)
        }
        state = .backup
        deadline = now &+ masterDownInterval
        return [.enter(.backup)]
    }

    mutating func becomeMaster(now: UInt64) -> [VRRPAction] {
        state = .master
        preemptAllowedAt = nil
        masterAdvertInterval = configuration.advertIntervalCentiseconds
        deadline = now &+ advertInterval
        return [.sendAdvertisement(priority: priority), .enter(.master)]
    }
}
