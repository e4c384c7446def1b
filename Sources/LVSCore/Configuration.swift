/// The director's configuration model: what `ipvsadm -S` lines, and later keepalived.conf, turn
/// into. Pure data, compared and copied freely; the data plane builds its runtime state from it.
public struct VirtualServiceKey: Hashable, Sendable, CustomStringConvertible {
    public var transport: TransportProtocol
    public var address: IPv4Address
    public var port: UInt16

    public init(transport: TransportProtocol, address: IPv4Address, port: UInt16) {
        self.transport = transport
        self.address = address
        self.port = port
    }

    public var description: String { "\(transport) \(address):\(port)" }
}

/// How a real server is reached. SwiftLVS forwards by direct routing only; the other IPVS
/// methods are named so that a rules file that asks for them gets a precise refusal.
public enum ForwardingMethod: String, Sendable, Hashable {
    case directRouting = "Route"
}

public struct RealServerConfig: Sendable, Hashable {
    public var address: IPv4Address
    public var port: UInt16
    public var weight: Int32
    public var upperThreshold: UInt32
    public var lowerThreshold: UInt32
    public var forwarding: ForwardingMethod

    public init(address: IPv4Address, port: UInt16, weight: Int32 = 1, upperThreshold: UInt32 = 0,
                lowerThreshold: UInt32 = 0, forwarding: ForwardingMethod = .directRouting) {
        self.address = address
        self.port = port
        self.weight = weight
        self.upperThreshold = upperThreshold
        self.lowerThreshold = lowerThreshold
        self.forwarding = forwarding
    }
}

/// `-p [timeout] [-M netmask]`: every connection from one client network goes to the server
/// its first connection got, for `timeout` seconds after the last one.
public struct Persistence: Sendable, Hashable {
    /// Seconds; ipvsadm's default for a bare `-p` is 360 (libipvs), though its man page says 300.
    public var timeout: UInt32
    public var netmask: IPv4Address

    public static let defaultTimeout: UInt32 = 360

    public init(timeout: UInt32 = Persistence.defaultTimeout, netmask: IPv4Address = IPv4Address(0xFFFF_FFFF)) {
        self.timeout = timeout
        self.netmask = netmask
    }
}

public struct VirtualServiceConfig: Sendable, Hashable {
    public var key: VirtualServiceKey
    /// The IPVS scheduler name (`rr`, `wrr`, ...), as ipvsadm spells it.
    public var scheduler: String
    /// `-b`: scheduler flags (sh/mh fallback and port, flag-1..3).
    public var schedulerFlags: SchedulerFlags
    /// `-p`/`-M`, or nil for a service without persistence.
    public var persistence: Persistence?
    /// `-o`: one-packet scheduling (UDP only): every datagram is scheduled on its own and no
    /// connection is kept, for DNS-like services where a client port carries many requests.
    public var onePacketScheduling: Bool
    /// Real servers in the order they were added (`-a` order); the kernel's list order is the reverse.
    public var realServers: [RealServerConfig]

    public init(key: VirtualServiceKey, scheduler: String, schedulerFlags: SchedulerFlags = [],
                persistence: Persistence? = nil, onePacketScheduling: Bool = false,
                realServers: [RealServerConfig] = []) {
        self.key = key
        self.scheduler = scheduler
        self.schedulerFlags = schedulerFlags
        self.persistence = persistence
        self.onePacketScheduling = onePacketScheduling
        self.realServers = realServers
    }
}

public struct DirectorConfiguration: Sendable, Hashable {
    public var services: [VirtualServiceConfig]

    public init(services: [VirtualServiceConfig] = []) { self.services = services }

    /// Every distinct VIP, in first-seen order: the addresses the director answers ARP for.
    public var virtualAddresses: [IPv4Address] {
        var seen = Set<IPv4Address>()
        return services.map(\.key.address).filter { seen.insert($0).inserted }
    }

    /// Every distinct real-server address, in first-seen order: the neighbours to resolve.
    public var realServerAddresses: [IPv4Address] {
        var seen = Set<IPv4Address>()
        return services.flatMap { $0.realServers.map(\.address) }.filter { seen.insert($0).inserted }
    }
}
