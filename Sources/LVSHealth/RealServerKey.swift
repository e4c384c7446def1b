import LVSCore

/// A real server of one virtual service: what health state is kept for, and what one table
/// entry (`-a -t VIP:PORT -r RS:PORT`) is.
public struct RealServerKey: Hashable, Sendable, CustomStringConvertible {
    public var service: VirtualServiceKey
    public var address: IPv4Address
    public var port: UInt16

    public init(service: VirtualServiceKey, address: IPv4Address, port: UInt16) {
        self.service = service
        self.address = address
        self.port = port
    }

    /// keepalived's `FMT_RS`: `[10.200.0.12]:tcp:80`.
    public var description: String { KeepalivedFormat.endpoint(address, port, service.transport) }
}

/// The way keepalived writes endpoints in its log lines, so that log watchers written for
/// keepalived keep matching.
enum KeepalivedFormat {
    static func endpoint(_ address: IPv4Address, _ port: UInt16, _ transport: TransportProtocol) -> String {
        "[\(address)]:\(transport == .tcp ? "tcp" : "udp"):\(port)"
    }

    /// `FMT_VS`: `[10.200.0.100]:tcp:80`.
    static func service(_ key: VirtualServiceKey) -> String { endpoint(key.address, key.port, key.transport) }
}
