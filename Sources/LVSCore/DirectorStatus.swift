/// Everything `ipvsadm -L` (in all its modes) and `-S` can show, taken from a running engine at
/// one moment: the services with their real servers in the kernel's list order, counters, rates,
/// thresholds, timeouts and, on request, the connection entries.
///
/// It is plain data so that the daemon can build it off the packet path, the control protocol
/// can carry it, and `lvsadm` can format it without knowing anything about the engine.
public struct DirectorStatus: Sendable, Equatable {
    /// The connection table's capacity (shown where ipvsadm shows the kernel's `size=`).
    public var connectionTableSize: Int
    public var timeouts: TimeoutSetting
    /// Services in the order the director holds them (creation order); `lvsadm` sorts.
    public var services: [ServiceStatus]
    /// Connection entries and persistence templates; nil when not asked for.
    public var connections: [ConnectionStatus]?
    /// The last host seen answering ARP for a VIP (lvs-realserver's alarm), if any.
    public var vipConflict: VIPConflict?

    public init(connectionTableSize: Int, timeouts: TimeoutSetting, services: [ServiceStatus] = [],
                connections: [ConnectionStatus]? = nil, vipConflict: VIPConflict? = nil) {
        self.connectionTableSize = connectionTableSize
        self.timeouts = timeouts
        self.services = services
        self.connections = connections
        self.vipConflict = vipConflict
    }
}

/// `ipvsadm --set tcp tcpfin udp` and `--timeout`: seconds; 0 in a `--set` means "unchanged".
public struct TimeoutSetting: Sendable, Equatable, Hashable {
    public var tcp: UInt32
    public var tcpFin: UInt32
    public var udp: UInt32

    public init(tcp: UInt32, tcpFin: UInt32, udp: UInt32) {
        self.tcp = tcp
        self.tcpFin = tcpFin
        self.udp = udp
    }
}

/// The five counters and the five rates ipvsadm shows for a service or a real server.
/// In direct routing the director never sees replies, so the `out` fields stay 0, as in IPVS.
public struct TrafficRates: Sendable, Equatable {
    public var connectionsPerSecond: UInt64 = 0
    public var inPacketsPerSecond: UInt64 = 0
    public var outPacketsPerSecond: UInt64 = 0
    public var inBytesPerSecond: UInt64 = 0
    public var outBytesPerSecond: UInt64 = 0

    public init() {}

    public init(_ estimator: RateEstimator) {
        connectionsPerSecond = estimator.connectionsPerSecond
        inPacketsPerSecond = estimator.inPacketsPerSecond
        outPacketsPerSecond = estimator.outPacketsPerSecond
        inBytesPerSecond = estimator.inBytesPerSecond
        outBytesPerSecond = estimator.outBytesPerSecond
    }
}

public struct ServiceStatus: Sendable, Equatable {
    /// The service as configured (its `realServers` are in `-a` order; `destinations` below
    /// is what is live, in kernel list order).
    public var config: VirtualServiceConfig
    public var stats: TrafficStats
    public var rates: TrafficRates
    /// Real servers in the kernel's list order (newest first), which `--nosort` shows.
    public var destinations: [DestinationStatus]

    public init(config: VirtualServiceConfig, stats: TrafficStats = TrafficStats(), rates: TrafficRates = TrafficRates(),
                destinations: [DestinationStatus] = []) {
        self.config = config
        self.stats = stats
        self.rates = rates
        self.destinations = destinations
    }
}

public struct DestinationStatus: Sendable, Equatable {
    public var config: RealServerConfig
    public var activeConnections: UInt32
    public var inactiveConnections: UInt32
    public var persistentConnections: UInt32
    public var stats: TrafficStats
    public var rates: TrafficRates

    public init(config: RealServerConfig, activeConnections: UInt32 = 0, inactiveConnections: UInt32 = 0,
                persistentConnections: UInt32 = 0, stats: TrafficStats = TrafficStats(),
                rates: TrafficRates = TrafficRates()) {
        self.config = config
        self.activeConnections = activeConnections
        self.inactiveConnections = inactiveConnections
        self.persistentConnections = persistentConnections
        self.stats = stats
        self.rates = rates
    }
}

/// One line of `ipvsadm -L -c`: a connection or a persistence template.
public struct ConnectionStatus: Sendable, Equatable {
    public var transport: TransportProtocol
    /// The state name ipvsadm prints (`ESTABLISHED`, `FIN_WAIT`, `UDP`, `NONE` for templates...).
    public var state: String
    /// Milliseconds until the entry expires.
    public var expiresInMilliseconds: UInt64
    public var clientAddress: IPv4Address
    public var clientPort: UInt16
    public var virtualAddress: IPv4Address
    public var virtualPort: UInt16
    public var destinationAddress: IPv4Address
    public var destinationPort: UInt16
    public var isTemplate: Bool
    /// Non-zero for the persistence template of a firewall-mark service: the kernel keys it on
    /// `<IPPROTO_IP, client network, 0, mark, 0>` and lists its protocol as `IP`, with the mark
    /// as its virtual address (`virtualAddress` then holds it: mark 1 reads 0.0.0.1).
    /// `transport` is the service's (TCP).
    public var firewallMark: UInt32

    public init(transport: TransportProtocol, state: String, expiresInMilliseconds: UInt64,
                clientAddress: IPv4Address, clientPort: UInt16, virtualAddress: IPv4Address, virtualPort: UInt16,
                destinationAddress: IPv4Address, destinationPort: UInt16, isTemplate: Bool, firewallMark: UInt32 = 0) {
        self.transport = transport
        self.state = state
        self.expiresInMilliseconds = expiresInMilliseconds
        self.clientAddress = clientAddress
        self.clientPort = clientPort
        self.virtualAddress = virtualAddress
        self.virtualPort = virtualPort
        self.destinationAddress = destinationAddress
        self.destinationPort = destinationPort
        self.isTemplate = isTemplate
        self.firewallMark = firewallMark
    }
}

/// Another host answered ARP for one of our VIPs: usually a real server whose VIP is not on a
/// non-ARPing device.
public struct VIPConflict: Sendable, Equatable {
    public var vip: IPv4Address
    public var mac: MACAddress
    /// The host behind the MAC: the real server with that MAC if the director knows it (its
    /// own address, which names the culprit), else the VIP the frame claimed.
    public var senderAddress: IPv4Address
    /// Frames seen claiming a VIP since lvsd started.
    public var count: UInt64
    /// Seconds since the last such frame (listings warn only about recent ones).
    public var secondsSinceLast: UInt64

    public init(vip: IPv4Address, mac: MACAddress, senderAddress: IPv4Address, count: UInt64,
                secondsSinceLast: UInt64 = 0) {
        self.vip = vip
        self.mac = mac
        self.senderAddress = senderAddress
        self.count = count
        self.secondsSinceLast = secondsSinceLast
    }
}
