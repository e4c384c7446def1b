import LVSCore

/// One IPv4 address on an interface, as `ip -j addr` reports it.
public struct InterfaceAddress: Hashable, Sendable {
    public var address: IPv4Address
    public var prefixLength: Int
    /// `lo:0` style label (the interface name when there is none).
    public var label: String
    /// `global`, `host`, `link`, ...: `arp_ignore=3` only protects `host` addresses.
    public var scope: String

    public init(address: IPv4Address, prefixLength: Int, label: String, scope: String = "global") {
        self.address = address
        self.prefixLength = prefixLength
        self.label = label
        self.scope = scope
    }
}

/// A network interface and its IPv4 addresses.
public struct HostInterface: Hashable, Sendable {
    public var name: String
    /// `ip link` flags: UP, LOOPBACK, NOARP, ...
    public var flags: Set<String>
    public var addresses: [InterfaceAddress]

    public init(name: String, flags: Set<String>, addresses: [InterfaceAddress] = []) {
        self.name = name
        self.flags = flags
        self.addresses = addresses
    }

    public var isLoopback: Bool { flags.contains("LOOPBACK") }
    /// Whether the kernel speaks ARP on this device at all: a VIP on a loopback or NOARP device
    /// (lo, dummy with arp off) is never answered *on that device*; the question is then only
    /// whether another interface answers for it (arp_ignore).
    public var speaksARP: Bool { !isLoopback && !flags.contains("NOARP") }

    /// The address the kernel uses as this interface's own: the first one that is not a /32.
    public var primaryAddress: IPv4Address? {
        addresses.first { $0.prefixLength < 32 }?.address ?? addresses.first?.address
    }
}

/// One of the IPv4 per-device settings under /proc/sys/net/ipv4/conf/.
public struct SysctlKey: Hashable, Codable, Sendable, Comparable, CustomStringConvertible {
    /// `all`, `default` or an interface name.
    public var device: String
    /// `arp_ignore`, `arp_announce`, `rp_filter`, ...
    public var name: String

    public init(_ device: String, _ name: String) {
        self.device = device
        self.name = name
    }

    public static let settingNames = ["arp_ignore", "arp_announce", "rp_filter", "proxy_arp", "arp_filter"]

    public var procPath: String { "/proc/sys/net/ipv4/conf/\(device)/\(name)" }

    /// The sysctl(8) name. A dot in an interface name (VLAN eth0.100) is written as `/`, as
    /// sysctl(8) and sysctl.d(5) expect.
    public var description: String {
        "net.ipv4.conf.\(device.replacingDots(with: "/")).\(name)"
    }

    public static func < (a: SysctlKey, b: SysctlKey) -> Bool { (a.device, a.name) < (b.device, b.name) }
}

/// A socket that accepts traffic on a port: a TCP listener or a bound UDP socket.
public struct ListeningSocket: Hashable, Sendable {
    public var transport: ServicePort.Transport
    /// `nil` for the wildcard address (0.0.0.0 or ::, which also takes IPv4 unless v6only).
    public var address: IPv4Address?
    /// True for an IPv6 socket bound to a specific IPv6 address: it never sees IPv4 traffic.
    public var ipv6Only: Bool
    public var port: UInt16

    public init(transport: ServicePort.Transport, address: IPv4Address?, port: UInt16, ipv6Only: Bool = false) {
        self.transport = transport
        self.address = address
        self.port = port
        self.ipv6Only = ipv6Only
    }

    /// Whether IPv4 traffic to `destination:port` reaches this socket.
    public func accepts(_ destination: IPv4Address, _ port: ServicePort) -> Bool {
        !ipv6Only && transport == port.transport && self.port == port.port && (address == nil || address == destination)
    }
}

/// A default route (`ip route show default`).
public struct DefaultRoute: Hashable, Sendable {
    public var gateway: IPv4Address?
    public var device: String?

    public init(gateway: IPv4Address?, device: String?) {
        self.gateway = gateway
        self.device = device
    }
}

/// Which kernel interface an xtables tool drives.
public enum XtablesBackend: String, Codable, Sendable {
    /// `iptables-nft`/`arptables-nft` (Debian's default): rules live in nftables tables that the
    /// first rule creates and that stay, empty, after the last rule is deleted.
    case nftables
    /// The x_tables kernel interface.
    case legacy
}

/// What an xtables tool reported: its backend and the `-save` dump.
public struct RuleToolState: Sendable, Equatable {
    public var backend: XtablesBackend
    public var dump: RuleDump

    public init(backend: XtablesBackend, dump: RuleDump) {
        self.backend = backend
        self.dump = dump
    }
}

/// Whether firewalld runs, and its direct rules when it does.
public enum FirewalldState: Sendable, Equatable {
    /// `firewall-cmd` is not installed.
    case notInstalled
    /// Installed but `firewall-cmd --state` did not say `running`; carries what it said.
    case notRunning(String)
    /// Running, with `--direct --get-all-rules` (runtime and permanent), one rule a line.
    case running(runtimeRules: [String], permanentRules: [String])
}

/// What is at a path the persistence files use.
public enum PathState: Hashable, Sendable {
    case file(contents: String)
    case directory
    case symlink(target: String)
}

/// Everything apply, revert and check need to know about the host, read in one go by the
/// executor; the planner and the checks are pure functions of it.
public struct HostState: Sendable, Equatable {
    public var interfaces: [HostInterface]
    /// Values under /proc/sys/net/ipv4/conf/{all,default,IF}/ for `SysctlKey.settingNames`.
    public var sysctls: [SysctlKey: Int]
    public var defaultRoutes: [DefaultRoute]
    public var listeners: [ListeningSocket]
    /// `nil`: arptables is not installed.
    public var arptables: RuleToolState?
    /// `nil`: iptables is not installed.
    public var iptables: RuleToolState?
    /// Whether `nft` is installed (to drop the empty tables an nftables-backed tool created).
    public var hasNft: Bool
    public var firewalld: FirewalldState
    /// The persistence paths (as on disk, below the persistence root) that exist; a path that is
    /// absent holds nothing.
    public var paths: [String: PathState]
    /// Absolute paths of the tools the persisted unit runs at boot (`ip`, `arptables-restore`,
    /// `iptables-restore`), as found on this host.
    public var toolPaths: [String: String]

    public init(interfaces: [HostInterface] = [], sysctls: [SysctlKey: Int] = [:], defaultRoutes: [DefaultRoute] = [],
                listeners: [ListeningSocket] = [], arptables: RuleToolState? = nil, iptables: RuleToolState? = nil,
                hasNft: Bool = false, firewalld: FirewalldState = .notInstalled, paths: [String: PathState] = [:],
                toolPaths: [String: String] = [:]) {
        self.interfaces = interfaces
        self.sysctls = sysctls
        self.defaultRoutes = defaultRoutes
        self.listeners = listeners
        self.arptables = arptables
        self.iptables = iptables
        self.hasNft = hasNft
        self.firewalld = firewalld
        self.paths = paths
        self.toolPaths = toolPaths
    }

    /// The tool's absolute path, or the usual Debian one.
    public func toolPath(_ name: String) -> String { toolPaths[name] ?? "/usr/sbin/\(name)" }

    public func interface(named name: String) -> HostInterface? { interfaces.first { $0.name == name } }

    /// The devices that hold `address`, with the address entry.
    public func holders(of address: IPv4Address) -> [(interface: HostInterface, entry: InterfaceAddress)] {
        interfaces.flatMap { i in i.addresses.filter { $0.address == address }.map { (i, $0) } }
    }

    /// A setting as the kernel reads it for `device`: for arp_ignore, arp_announce and rp_filter
    /// the larger of `all` and the device (IN_DEV_MAXCONF); for proxy_arp and arp_filter either
    /// one being on (IN_DEV_ORCONF). `nil` when neither value is known.
    public func effective(_ name: String, on device: String) -> Int? {
        let all = sysctls[SysctlKey("all", name)]
        let dev = sysctls[SysctlKey(device, name)]
        guard all != nil || dev != nil else { return nil }
        switch name {
        case "proxy_arp", "arp_filter": return ((all ?? 0) != 0 || (dev ?? 0) != 0) ? 1 : 0
        default: return max(all ?? 0, dev ?? 0)
        }
    }
}

extension String {
    func replacingDots(with replacement: Character) -> String {
        String(map { $0 == "." ? replacement : $0 })
    }
}

extension HostState {
    /// The interface that faces the director when none is named: the default route's, else the
    /// only ARP-speaking interface that is up and has an IPv4 address.
    public func guessInterface() -> String? {
        if let device = defaultRoutes.compactMap(\.device).first { return device }
        let candidates = interfaces.filter { $0.speaksARP && $0.flags.contains("UP") && !$0.addresses.isEmpty }
        return candidates.count == 1 ? candidates[0].name : nil
    }
}
