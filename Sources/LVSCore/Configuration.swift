/// The director's configuration model: what `ipvsadm -S` lines, and later keepalived.conf, turn
/// into. Pure data, compared and copied freely; the data plane builds its runtime state from it.
public struct VirtualServiceKey: Hashable, Sendable, CustomStringConvertible {
    public var transport: TransportProtocol
    public var address: IPv4Address
    public var port: UInt16
    /// `-f N`: a firewall-mark service (IPVS's `fwmark`), or 0 for a `-t`/`-u` service.
    ///
    /// A firewall-mark service has no address or port of its own: it takes every new flow
    /// that the mark classifier (`MarkClassifier`, lvsd's `--fwmark-rules`) gives its mark, of
    /// either protocol, whatever VIP and port. Its key has address 0.0.0.0, port 0 and TCP, the
    /// protocol ipvsadm sets for `-f` ("a sane value"), so two keys with one mark are equal.
    public var firewallMark: UInt32

    public init(transport: TransportProtocol, address: IPv4Address, port: UInt16) {
        self.transport = transport
        self.address = address
        self.port = port
        firewallMark = 0
    }

    /// The key of `-f mark` (mark 1...UInt32.max), as ipvsadm builds it.
    public static func firewallMark(_ mark: UInt32) -> VirtualServiceKey {
        var key = VirtualServiceKey(transport: .tcp, address: .any, port: 0)
        key.firewallMark = mark
        return key
    }

    public var isFirewallMark: Bool { firewallMark != 0 }

    /// The mark is hashed only when there is one, so a `-t`/`-u` key (looked up for every new
    /// flow) hashes as before the mark existed; equal keys still hash alike.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(transport)
        hasher.combine(address)
        hasher.combine(port)
        if firewallMark != 0 { hasher.combine(firewallMark) }
    }

    /// `TCP 10.0.0.100:80`, or `FWM 1` for a firewall-mark service.
    public var description: String { isFirewallMark ? "FWM \(firewallMark)" : "\(transport) \(address):\(port)" }
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
    /// What gives a new flow its firewall mark (lvsd's `--fwmark-rules`): the stand-in for the
    /// `iptables -t mangle ... -j MARK` rules a kernel director would have. It is not part of
    /// the ipvsadm table: `-C` leaves it, and it is neither listed nor saved.
    public var markRules: MarkClassifier

    public init(services: [VirtualServiceConfig] = [], markRules: MarkClassifier = MarkClassifier()) {
        self.services = services
        self.markRules = markRules
    }

    /// The marks some firewall-mark service takes.
    public var serviceMarks: Set<UInt32> {
        Set(services.map(\.key.firewallMark).filter { $0 != 0 })
    }

    /// Every distinct VIP, in first-seen order: the addresses the director answers ARP for.
    /// The addresses of the `-t`/`-u` services, then the single addresses (`/32`) of mark rules
    /// whose mark a service takes: a rule for a mark no service takes brings no traffic, so
    /// its address is not claimed. Wider mark-rule destinations are `virtualNetworks`.
    public var virtualAddresses: [IPv4Address] {
        var seen = Set<IPv4Address>()
        let marks = serviceMarks
        let own = services.filter { !$0.key.isFirewallMark }.map(\.key.address)
        let marked = markRules.rules.filter { $0.prefixLength == 32 && marks.contains($0.mark) }.map(\.destination)
        return (own + marked).filter { seen.insert($0).inserted }
    }

    /// The destinations wider than one address (`/0` to `/31`) of mark rules whose mark a
    /// service takes, in rule order without repeats. The director forwards what is sent to
    /// them but does not answer ARP for them: a network may hold other hosts (real servers,
    /// the router), and claiming their addresses would take their traffic. Route such a
    /// network to the director instead (see docs/OPERATING.md, "Firewall marks").
    public var virtualNetworks: [IPv4Network] {
        var seen = Set<IPv4Network>()
        let marks = serviceMarks
        return markRules.rules.filter { $0.prefixLength < 32 && marks.contains($0.mark) }
            .map(\.network).filter { seen.insert($0).inserted }
    }

    /// Every distinct real-server address, in first-seen order: the neighbours to resolve.
    public var realServerAddresses: [IPv4Address] {
        var seen = Set<IPv4Address>()
        return services.flatMap { $0.realServers.map(\.address) }.filter { seen.insert($0).inserted }
    }
}
