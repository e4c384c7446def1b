/// An IPv4 network: an address and a prefix length, the address with no host bits set.
public struct IPv4Network: Hashable, Sendable, CustomStringConvertible {
    public let address: IPv4Address
    public let prefixLength: UInt8

    /// nil when `prefixLength` is above 32 or `address` has bits set past the prefix
    /// (`10.0.0.5/24`: is 10.0.0.0/24 meant, or the host 10.0.0.5?).
    public init?(address: IPv4Address, prefixLength: UInt8) {
        guard prefixLength <= 32, address.value & ~Self.mask(prefixLength) == 0 else { return nil }
        self.address = address
        self.prefixLength = prefixLength
    }

    /// The netmask of a prefix length, in host byte order (`/24` is 0xFFFFFF00, `/0` is 0).
    public static func mask(_ prefixLength: UInt8) -> UInt32 {
        prefixLength == 0 ? 0 : UInt32.max << (32 - UInt32(min(prefixLength, 32)))
    }

    public var mask: UInt32 { Self.mask(prefixLength) }

    public func contains(_ candidate: IPv4Address) -> Bool { candidate.value & mask == address.value }

    /// `10.0.0.0/24`, or the bare address for a `/32`.
    public var description: String { prefixLength == 32 ? "\(address)" : "\(address)/\(prefixLength)" }
}

/// One classifier line, `mark protocol destination ports`: new flows of `transport` to an
/// address in `network` and a port in `ports` get `mark`. The equivalent of
/// `iptables -t mangle -A PREROUTING -p PROTO -d DEST -m multiport --dports PORTS -j MARK --set-mark MARK`.
public struct MarkRule: Hashable, Sendable, CustomStringConvertible {
    public var mark: UInt32
    public var transport: TransportProtocol
    public var network: IPv4Network
    /// The destination ports, as inclusive ranges in the order written; `[0...65535]` for `*`.
    public var ports: [ClosedRange<UInt16>]

    public init(mark: UInt32, transport: TransportProtocol, network: IPv4Network, ports: [ClosedRange<UInt16>]) {
        self.mark = mark
        self.transport = transport
        self.network = network
        self.ports = ports
    }

    /// The network address (for a `/32`, the VIP itself).
    public var destination: IPv4Address { network.address }
    public var prefixLength: UInt8 { network.prefixLength }

    public static let anyPort: [ClosedRange<UInt16>] = [0...65535]

    public func matches(transport t: TransportProtocol, destination d: IPv4Address, port: UInt16) -> Bool {
        t == transport && network.contains(d) && ports.contains { $0.contains(port) }
    }

    /// The rule as a rules-file line: `1 tcp 10.0.0.100 80,443`.
    public var description: String {
        let portText = ports == Self.anyPort ? "*"
            : ports.map { $0.lowerBound == $0.upperBound ? "\($0.lowerBound)" : "\($0.lowerBound)-\($0.upperBound)" }
                .joined(separator: ",")
        return "\(mark) \(transport.rawValue == 6 ? "tcp" : "udp") \(network) \(portText)"
    }
}

/// What marks a new flow for a firewall-mark service: SwiftLVS's stand-in for the
/// `iptables -t mangle ... -j MARK --set-mark N` rules that mark packets for IPVS in the kernel.
/// A userspace director never sees the kernel's packet marks, so it marks flows itself.
///
/// The rules are tried in order and the **first** that matches gives the mark. (A chain of
/// plain `-j MARK` rules in iptables behaves the other way round, since MARK does not end the
/// chain and a later match overwrites the mark; first match is what a chain gives when each
/// MARK rule is followed by `-j ACCEPT` or `-j RETURN`, and it is easier to read.) A flow that
/// no rule matches has no mark. As in the kernel, a mark that no service takes makes the
/// packet fall through to the `-t`/`-u` services (IPVS looks for a firewall-mark service
/// first, then for protocol, address and port).
///
/// Pure and allocation-free to query; the engine compiles it against its services at
/// `apply` and asks it only for a flow it has no connection for.
public struct MarkClassifier: Hashable, Sendable {
    public var rules: [MarkRule]

    public init(rules: [MarkRule] = []) { self.rules = rules }

    public var isEmpty: Bool { rules.isEmpty }

    /// The mark of the first rule that matches, or 0 (no mark).
    public func mark(transport: TransportProtocol, destination: IPv4Address, port: UInt16) -> UInt32 {
        for rule in rules where rule.matches(transport: transport, destination: destination, port: port) {
            return rule.mark
        }
        return 0
    }

    /// Every distinct mark the rules give, in first-seen order.
    public var marks: [UInt32] {
        var seen = Set<UInt32>()
        return rules.map(\.mark).filter { seen.insert($0).inserted }
    }
}
