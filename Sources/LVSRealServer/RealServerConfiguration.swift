import LVSCore

/// How a real server is kept from answering ARP for the VIP (RHEL's "Direct Routing and the ARP
/// limitation" lists the same three, plus firewalld's front end to the iptables one).
public enum SetupMethod: String, Codable, Sendable, CaseIterable, CustomStringConvertible {
    /// VIP/32 on `lo`, `arp_ignore=1` and `arp_announce=2` on `all` and the interface.
    case sysctl
    /// VIP on the interface; arptables drops ARP requests for it and rewrites it out of this
    /// host's own ARP requests.
    case arptables
    /// No VIP on the host: `-t nat PREROUTING ... -j REDIRECT` per port hands VIP traffic to
    /// the local service.
    case iptables
    /// The iptables rule, added through firewalld's direct interface.
    case firewalld

    public var description: String { rawValue }

    /// Whether the method puts the VIP on the host (the REDIRECT methods do not need it).
    public var configuresAddress: Bool { self == .sysctl || self == .arptables }
}

/// One service port of the real server: what `--ports` names and `check` looks for.
public struct ServicePort: Hashable, Codable, Sendable, Comparable, CustomStringConvertible {
    public enum Transport: String, Codable, Sendable, Comparable {
        case tcp, udp
        public static func < (a: Transport, b: Transport) -> Bool { a.rawValue < b.rawValue }
    }

    public var transport: Transport
    public var port: UInt16

    public init(_ transport: Transport, _ port: UInt16) {
        self.transport = transport
        self.port = port
    }

    public var description: String { "\(port)/\(transport.rawValue)" }

    public static func < (a: ServicePort, b: ServicePort) -> Bool {
        (a.port, a.transport) < (b.port, b.transport)
    }

    /// Parses `80,443/tcp,53/udp` (TCP when no protocol is given). Duplicates are dropped and the
    /// result is sorted, so two spellings of one set compare equal.
    public static func parseList(_ text: String) throws -> [ServicePort] {
        var ports = Set<ServicePort>()
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            let parts = item.trimmingWhitespace().split(separator: "/", omittingEmptySubsequences: false)
            guard (1...2).contains(parts.count), let number = UInt16(parts[0]), number > 0 else {
                throw RealServerError(.invalidArgument, "bad port '\(item)' in '\(text)'",
                                      remedy: "give ports as PORT[/tcp|/udp], comma-separated, e.g. --ports 80,443,53/udp")
            }
            var transport = Transport.tcp
            if parts.count == 2 {
                guard let t = Transport(rawValue: String(parts[1]).lowercased()) else {
                    throw RealServerError(.invalidArgument, "bad protocol '\(parts[1])' in '\(item)'",
                                          remedy: "use tcp or udp, e.g. 53/udp")
                }
                transport = t
            }
            ports.insert(ServicePort(transport, number))
        }
        return ports.sorted()
    }
}

/// Parses `--vip 10.0.0.1,10.0.0.2` into distinct IPv4 addresses, in the order given.
public func parseVirtualAddresses(_ text: String) throws -> [IPv4Address] {
    var result: [IPv4Address] = []
    for item in text.split(separator: ",", omittingEmptySubsequences: false) {
        let trimmed = item.trimmingWhitespace()
        let bare = trimmed.hasSuffix("/32") ? trimmed.dropLast(3) : trimmed[...]
        guard let address = IPv4Address(bare), address != .any else {
            throw RealServerError(.invalidArgument, "bad VIP '\(item)'",
                                  remedy: "give IPv4 addresses, comma-separated, e.g. --vip 192.0.2.100,192.0.2.101")
        }
        if !result.contains(address) { result.append(address) }
    }
    return result
}

/// What `apply` is asked to establish (and what the state file records it established).
public struct RealServerConfiguration: Equatable, Sendable {
    public var virtualAddresses: [IPv4Address]
    public var method: SetupMethod
    /// The interface that faces the director (ARP arrives here).
    public var interface: String
    /// This host's own address on `interface`: the arptables method writes it into outgoing ARP
    /// in place of the VIP. `nil` means: the interface's primary address.
    public var realServerAddress: IPv4Address?
    public var ports: [ServicePort]
    /// Write files so the setup survives a reboot.
    public var persist: Bool

    public init(virtualAddresses: [IPv4Address], method: SetupMethod = .sysctl, interface: String,
                realServerAddress: IPv4Address? = nil, ports: [ServicePort] = [], persist: Bool = false) {
        self.virtualAddresses = virtualAddresses
        self.method = method
        self.interface = interface
        self.realServerAddress = realServerAddress
        self.ports = ports
        self.persist = persist
    }

    /// The options that would ask for this configuration, for messages.
    public var summary: String {
        var s = "--vip \(virtualAddresses.map(\.description).joined(separator: ",")) --method \(method) --interface \(interface)"
        if !ports.isEmpty { s += " --ports \(ports.map(\.description).joined(separator: ","))" }
        if persist { s += " --persist" }
        return s
    }
}

extension RealServerConfiguration: Codable {
    enum CodingKeys: String, CodingKey {
        case virtualAddresses = "vips", method, interface, realServerAddress = "rip", ports, persist
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        let vips = try c.decode([String].self, forKey: .virtualAddresses)
        virtualAddresses = try vips.map { text in
            guard let a = IPv4Address(text) else {
                throw DecodingError.dataCorruptedError(forKey: .virtualAddresses, in: c, debugDescription: "bad VIP \(text)")
            }
            return a
        }
        method = try c.decode(SetupMethod.self, forKey: .method)
        interface = try c.decode(String.self, forKey: .interface)
        realServerAddress = try c.decodeIfPresent(String.self, forKey: .realServerAddress).flatMap { IPv4Address($0) }
        ports = try c.decode([ServicePort].self, forKey: .ports)
        persist = try c.decode(Bool.self, forKey: .persist)
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(virtualAddresses.map(\.description), forKey: .virtualAddresses)
        try c.encode(method, forKey: .method)
        try c.encode(interface, forKey: .interface)
        try c.encodeIfPresent(realServerAddress?.description, forKey: .realServerAddress)
        try c.encode(ports, forKey: .ports)
        try c.encode(persist, forKey: .persist)
    }
}

extension StringProtocol {
    func trimmingWhitespace() -> SubSequence {
        var s = self[...]
        while let f = s.first, f == " " || f == "\t" || f == "\n" || f == "\r" { s = s.dropFirst() }
        while let l = s.last, l == " " || l == "\t" || l == "\n" || l == "\r" { s = s.dropLast() }
        return s
    }
}
