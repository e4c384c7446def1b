/// What a scheduler sees of the packet that opens a connection: the inputs that hashing
/// schedulers (sh, dh, mh, lblc, lblcr) need, the time for those that keep caches, and two
/// random draws for twos. The engine fills it; tests inject every field.
public struct SchedulingContext: Sendable {
    public var clientAddress: IPv4Address
    public var clientPort: UInt16
    public var virtualAddress: IPv4Address
    public var virtualPort: UInt16
    /// Monotonic nanoseconds (the engine's clock).
    public var now: UInt64
    /// Two uniformly random 32-bit numbers, fresh for every decision.
    public var random: (UInt32, UInt32)

    public init(clientAddress: IPv4Address, clientPort: UInt16, virtualAddress: IPv4Address, virtualPort: UInt16,
                now: UInt64 = 0, random: (UInt32, UInt32) = (0, 0)) {
        self.clientAddress = clientAddress
        self.clientPort = clientPort
        self.virtualAddress = virtualAddress
        self.virtualPort = virtualPort
        self.now = now
        self.random = random
    }
}

/// A service's scheduler flags (`ipvsadm -b`): the kernel's IP_VS_SVC_F_SCHED1..3. sh and mh
/// read them as fallback (1) and port (2).
public struct SchedulerFlags: OptionSet, Sendable, Hashable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    public static let flag1 = SchedulerFlags(rawValue: 1)
    public static let flag2 = SchedulerFlags(rawValue: 2)
    public static let flag3 = SchedulerFlags(rawValue: 4)
    /// `sh-fallback` / `mh-fallback`.
    public static let fallback = flag1
    /// `sh-port` / `mh-port`.
    public static let port = flag2
}

/// An IPVS scheduler. The requirements mirror the kernel's `ip_vs_scheduler` hooks
/// (init_service, add_dest, del_dest, upd_dest, schedule) so that each scheduler can be checked
/// against its `ip_vs_<name>.c` line by line. Schedulers run only when a connection is created,
/// never for packets of a known connection.
public protocol Scheduler: Sendable {
    /// The name ipvsadm and keepalived use (`rr`, `wrr`, ...).
    static var name: String { get }

    /// `init_service`: the scheduler starts on a service's current list, with the service's
    /// scheduler flags.
    init(destinations: DestinationList, flags: SchedulerFlags)

    /// `add_dest`: a destination was inserted at the head of the list (position 0).
    mutating func destinationAdded(_ destinations: DestinationList)

    /// `del_dest`: the destination that was at `position` has been unlinked from the list.
    mutating func destinationRemoved(at position: Int, _ destinations: DestinationList)

    /// `upd_dest`: a destination's weight or thresholds were edited.
    mutating func destinationUpdated(_ destinations: DestinationList)

    /// Picks a destination for a new connection, or `nil` ("no destination available").
    mutating func schedule(_ destinations: DestinationList, context: SchedulingContext) -> Int?
}

extension Scheduler {
    /// A scheduler for a service without scheduler flags.
    public init(destinations: DestinationList) { self.init(destinations: destinations, flags: []) }

    public mutating func destinationAdded(_ destinations: DestinationList) {}
    public mutating func destinationRemoved(at position: Int, _ destinations: DestinationList) {}
    public mutating func destinationUpdated(_ destinations: DestinationList) {}
}

/// One service's scheduler, dispatched by a switch instead of an existential so that the
/// connection-creating path has no witness-table calls or boxing. Adding a scheduler adds one
/// case here and one line in `SchedulerRegistry`.
public enum SchedulerInstance: Sendable {
    case roundRobin(RoundRobinScheduler)
    case weightedRoundRobin(WeightedRoundRobinScheduler)

    public var name: String {
        switch self {
        case .roundRobin: RoundRobinScheduler.name
        case .weightedRoundRobin: WeightedRoundRobinScheduler.name
        }
    }

    public mutating func schedule(_ list: DestinationList, context: SchedulingContext) -> Int? {
        switch self {
        case .roundRobin(var s):
            let r = s.schedule(list, context: context)
            self = .roundRobin(s)
            return r
        case .weightedRoundRobin(var s):
            let r = s.schedule(list, context: context)
            self = .weightedRoundRobin(s)
            return r
        }
    }

    public mutating func destinationAdded(_ list: DestinationList) {
        switch self {
        case .roundRobin(var s): s.destinationAdded(list); self = .roundRobin(s)
        case .weightedRoundRobin(var s): s.destinationAdded(list); self = .weightedRoundRobin(s)
        }
    }

    public mutating func destinationRemoved(at position: Int, _ list: DestinationList) {
        switch self {
        case .roundRobin(var s): s.destinationRemoved(at: position, list); self = .roundRobin(s)
        case .weightedRoundRobin(var s): s.destinationRemoved(at: position, list); self = .weightedRoundRobin(s)
        }
    }

    public mutating func destinationUpdated(_ list: DestinationList) {
        switch self {
        case .roundRobin(var s): s.destinationUpdated(list); self = .roundRobin(s)
        case .weightedRoundRobin(var s): s.destinationUpdated(list); self = .weightedRoundRobin(s)
        }
    }
}

/// The schedulers SwiftLVS implements, by name.
public enum SchedulerRegistry {
    /// Names accepted today. The rest of ipvsadm's list (`lc wlc sed nq fo ovf lblc lblcr dh sh mh twos`)
    /// is refused with a message that says so, rather than silently replaced.
    public static let implemented: [String] = [RoundRobinScheduler.name, WeightedRoundRobinScheduler.name]

    /// Every scheduler name IPVS knows, so that an unknown name and a not-yet-implemented one
    /// get different messages.
    public static let known: Set<String> = [
        "rr", "wrr", "lc", "wlc", "sed", "nq", "fo", "ovf", "lblc", "lblcr", "dh", "sh", "mh", "twos", "none",
    ]

    public static func make(_ name: String, destinations: DestinationList, flags: SchedulerFlags = []) -> SchedulerInstance? {
        switch name {
        case RoundRobinScheduler.name: .roundRobin(RoundRobinScheduler(destinations: destinations, flags: flags))
        case WeightedRoundRobinScheduler.name:
            .weightedRoundRobin(WeightedRoundRobinScheduler(destinations: destinations, flags: flags))
        default: nil
        }
    }
}
