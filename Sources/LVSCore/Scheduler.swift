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
    case leastConnection(LeastConnectionScheduler)
    case weightedLeastConnection(WeightedLeastConnectionScheduler)
    case shortestExpectedDelay(ShortestExpectedDelayScheduler)
    case neverQueue(NeverQueueScheduler)
    case weightedFailover(WeightedFailoverScheduler)
    case weightedOverflow(WeightedOverflowScheduler)
    case powerOfTwoChoices(PowerOfTwoChoicesScheduler)
    case sourceHashing(SourceHashingScheduler)
    case destinationHashing(DestinationHashingScheduler)
    case maglevHash(MaglevHashScheduler)
    case localityBasedLeastConnection(LocalityBasedLeastConnectionScheduler)
    case localityBasedLeastConnectionReplication(LocalityBasedLeastConnectionReplicationScheduler)

    public var name: String {
        switch self {
        case .roundRobin: RoundRobinScheduler.name
        case .weightedRoundRobin: WeightedRoundRobinScheduler.name
        case .leastConnection: LeastConnectionScheduler.name
        case .weightedLeastConnection: WeightedLeastConnectionScheduler.name
        case .shortestExpectedDelay: ShortestExpectedDelayScheduler.name
        case .neverQueue: NeverQueueScheduler.name
        case .weightedFailover: WeightedFailoverScheduler.name
        case .weightedOverflow: WeightedOverflowScheduler.name
        case .powerOfTwoChoices: PowerOfTwoChoicesScheduler.name
        case .sourceHashing: SourceHashingScheduler.name
        case .destinationHashing: DestinationHashingScheduler.name
        case .maglevHash: MaglevHashScheduler.name
        case .localityBasedLeastConnection: LocalityBasedLeastConnectionScheduler.name
        case .localityBasedLeastConnectionReplication: LocalityBasedLeastConnectionReplicationScheduler.name
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
        case .leastConnection(var s):
            let r = s.schedule(list, context: context)
            self = .leastConnection(s)
            return r
        case .weightedLeastConnection(var s):
            let r = s.schedule(list, context: context)
            self = .weightedLeastConnection(s)
            return r
        case .shortestExpectedDelay(var s):
            let r = s.schedule(list, context: context)
            self = .shortestExpectedDelay(s)
            return r
        case .neverQueue(var s):
            let r = s.schedule(list, context: context)
            self = .neverQueue(s)
            return r
        case .weightedFailover(var s):
            let r = s.schedule(list, context: context)
            self = .weightedFailover(s)
            return r
        case .weightedOverflow(var s):
            let r = s.schedule(list, context: context)
            self = .weightedOverflow(s)
            return r
        case .powerOfTwoChoices(var s):
            let r = s.schedule(list, context: context)
            self = .powerOfTwoChoices(s)
            return r
        case .sourceHashing(var s):
            let r = s.schedule(list, context: context)
            self = .sourceHashing(s)
            return r
        case .destinationHashing(var s):
            let r = s.schedule(list, context: context)
            self = .destinationHashing(s)
            return r
        case .maglevHash(var s):
            let r = s.schedule(list, context: context)
            self = .maglevHash(s)
            return r
        case .localityBasedLeastConnection(var s):
            let r = s.schedule(list, context: context)
            self = .localityBasedLeastConnection(s)
            return r
        case .localityBasedLeastConnectionReplication(var s):
            let r = s.schedule(list, context: context)
            self = .localityBasedLeastConnectionReplication(s)
            return r
        }
    }

    public mutating func destinationAdded(_ list: DestinationList) {
        switch self {
        case .roundRobin(var s): s.destinationAdded(list); self = .roundRobin(s)
        case .weightedRoundRobin(var s): s.destinationAdded(list); self = .weightedRoundRobin(s)
        case .leastConnection(var s): s.destinationAdded(list); self = .leastConnection(s)
        case .weightedLeastConnection(var s): s.destinationAdded(list); self = .weightedLeastConnection(s)
        case .shortestExpectedDelay(var s): s.destinationAdded(list); self = .shortestExpectedDelay(s)
        case .neverQueue(var s): s.destinationAdded(list); self = .neverQueue(s)
        case .weightedFailover(var s): s.destinationAdded(list); self = .weightedFailover(s)
        case .weightedOverflow(var s): s.destinationAdded(list); self = .weightedOverflow(s)
        case .powerOfTwoChoices(var s): s.destinationAdded(list); self = .powerOfTwoChoices(s)
        case .sourceHashing(var s): s.destinationAdded(list); self = .sourceHashing(s)
        case .destinationHashing(var s): s.destinationAdded(list); self = .destinationHashing(s)
        case .maglevHash(var s): s.destinationAdded(list); self = .maglevHash(s)
        case .localityBasedLeastConnection(var s): s.destinationAdded(list); self = .localityBasedLeastConnection(s)
        case .localityBasedLeastConnectionReplication(var s): s.destinationAdded(list); self = .localityBasedLeastConnectionReplication(s)
        }
    }

    public mutating func destinationRemoved(at position: Int, _ list: DestinationList) {
        switch self {
        case .roundRobin(var s): s.destinationRemoved(at: position, list); self = .roundRobin(s)
        case .weightedRoundRobin(var s): s.destinationRemoved(at: position, list); self = .weightedRoundRobin(s)
        case .leastConnection(var s): s.destinationRemoved(at: position, list); self = .leastConnection(s)
        case .weightedLeastConnection(var s): s.destinationRemoved(at: position, list); self = .weightedLeastConnection(s)
        case .shortestExpectedDelay(var s): s.destinationRemoved(at: position, list); self = .shortestExpectedDelay(s)
        case .neverQueue(var s): s.destinationRemoved(at: position, list); self = .neverQueue(s)
        case .weightedFailover(var s): s.destinationRemoved(at: position, list); self = .weightedFailover(s)
        case .weightedOverflow(var s): s.destinationRemoved(at: position, list); self = .weightedOverflow(s)
        case .powerOfTwoChoices(var s): s.destinationRemoved(at: position, list); self = .powerOfTwoChoices(s)
        case .sourceHashing(var s): s.destinationRemoved(at: position, list); self = .sourceHashing(s)
        case .destinationHashing(var s): s.destinationRemoved(at: position, list); self = .destinationHashing(s)
        case .maglevHash(var s): s.destinationRemoved(at: position, list); self = .maglevHash(s)
        case .localityBasedLeastConnection(var s): s.destinationRemoved(at: position, list); self = .localityBasedLeastConnection(s)
        case .localityBasedLeastConnectionReplication(var s):
            s.destinationRemoved(at: position, list); self = .localityBasedLeastConnectionReplication(s)
        }
    }

    public mutating func destinationUpdated(_ list: DestinationList) {
        switch self {
        case .roundRobin(var s): s.destinationUpdated(list); self = .roundRobin(s)
        case .weightedRoundRobin(var s): s.destinationUpdated(list); self = .weightedRoundRobin(s)
        case .leastConnection(var s): s.destinationUpdated(list); self = .leastConnection(s)
        case .weightedLeastConnection(var s): s.destinationUpdated(list); self = .weightedLeastConnection(s)
        case .shortestExpectedDelay(var s): s.destinationUpdated(list); self = .shortestExpectedDelay(s)
        case .neverQueue(var s): s.destinationUpdated(list); self = .neverQueue(s)
        case .weightedFailover(var s): s.destinationUpdated(list); self = .weightedFailover(s)
        case .weightedOverflow(var s): s.destinationUpdated(list); self = .weightedOverflow(s)
        case .powerOfTwoChoices(var s): s.destinationUpdated(list); self = .powerOfTwoChoices(s)
        case .sourceHashing(var s): s.destinationUpdated(list); self = .sourceHashing(s)
        case .destinationHashing(var s): s.destinationUpdated(list); self = .destinationHashing(s)
        case .maglevHash(var s): s.destinationUpdated(list); self = .maglevHash(s)
        case .localityBasedLeastConnection(var s): s.destinationUpdated(list); self = .localityBasedLeastConnection(s)
        case .localityBasedLeastConnectionReplication(var s): s.destinationUpdated(list); self = .localityBasedLeastConnectionReplication(s)
        }
    }
}

extension SchedulerInstance {
    /// Destination slots the scheduler remembers beyond the service's list (lblc and lblcr
    /// caches). The engine does not give such a slot to another server while it is named here.
    public var heldSlots: [Int32] {
        switch self {
        case .localityBasedLeastConnection(let s): s.heldSlots
        case .localityBasedLeastConnectionReplication(let s): s.heldSlots
        default: []
        }
    }
}

/// The schedulers SwiftLVS implements, by name.
public enum SchedulerRegistry {
    /// Names accepted today. A name of `known` that is missing here is refused with a message
    /// that says so, rather than silently replaced.
    public static let implemented: [String] = [
        RoundRobinScheduler.name, WeightedRoundRobinScheduler.name,
        LeastConnectionScheduler.name, WeightedLeastConnectionScheduler.name, ShortestExpectedDelayScheduler.name,
        NeverQueueScheduler.name, WeightedFailoverScheduler.name, WeightedOverflowScheduler.name,
        PowerOfTwoChoicesScheduler.name,
        SourceHashingScheduler.name, DestinationHashingScheduler.name, MaglevHashScheduler.name,
        LocalityBasedLeastConnectionScheduler.name, LocalityBasedLeastConnectionReplicationScheduler.name,
    ]

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
        case LeastConnectionScheduler.name:
            .leastConnection(LeastConnectionScheduler(destinations: destinations, flags: flags))
        case WeightedLeastConnectionScheduler.name:
            .weightedLeastConnection(WeightedLeastConnectionScheduler(destinations: destinations, flags: flags))
        case ShortestExpectedDelayScheduler.name:
            .shortestExpectedDelay(ShortestExpectedDelayScheduler(destinations: destinations, flags: flags))
        case NeverQueueScheduler.name: .neverQueue(NeverQueueScheduler(destinations: destinations, flags: flags))
        case WeightedFailoverScheduler.name:
            .weightedFailover(WeightedFailoverScheduler(destinations: destinations, flags: flags))
        case WeightedOverflowScheduler.name:
            .weightedOverflow(WeightedOverflowScheduler(destinations: destinations, flags: flags))
        case PowerOfTwoChoicesScheduler.name:
            .powerOfTwoChoices(PowerOfTwoChoicesScheduler(destinations: destinations, flags: flags))
        case SourceHashingScheduler.name:
            .sourceHashing(SourceHashingScheduler(destinations: destinations, flags: flags))
        case DestinationHashingScheduler.name:
            .destinationHashing(DestinationHashingScheduler(destinations: destinations, flags: flags))
        case MaglevHashScheduler.name:
            .maglevHash(MaglevHashScheduler(destinations: destinations, flags: flags))
        case LocalityBasedLeastConnectionScheduler.name:
            .localityBasedLeastConnection(LocalityBasedLeastConnectionScheduler(destinations: destinations, flags: flags))
        case LocalityBasedLeastConnectionReplicationScheduler.name:
            .localityBasedLeastConnectionReplication(LocalityBasedLeastConnectionReplicationScheduler(destinations: destinations, flags: flags))
        default: nil
        }
    }
}
