import LVSCore

/// What `probe_via_vip` needs from the data plane: the interface the director forwards on, its
/// own address and MAC there, and the real servers' MACs the forwarding engine has resolved.
/// lvsd builds it from its `NetworkInterface` and the worker's published snapshot.
public struct DirectRoutingPath: Sendable {
    public var interfaceName: String
    public var interfaceIndex: Int32
    public var directorAddress: IPv4Address
    public var directorMAC: MACAddress
    /// The real servers' MACs as the data plane knows them right now (called on the health
    /// thread at most once a second; it must not block for long).
    public var realServerMACs: @Sendable () -> [IPv4Address: MACAddress]

    public init(interfaceName: String, interfaceIndex: Int32, directorAddress: IPv4Address, directorMAC: MACAddress,
                realServerMACs: @escaping @Sendable () -> [IPv4Address: MACAddress]) {
        self.interfaceName = interfaceName
        self.interfaceIndex = interfaceIndex
        self.directorAddress = directorAddress
        self.directorMAC = directorMAC
        self.realServerMACs = realServerMACs
    }
}

/// Where a `probe_via_vip` handshake goes: the virtual service's address and port (sent to the
/// real server's MAC, as the data plane forwards a client's SYN).
struct VIPTarget: Hashable {
    var address: IPv4Address
    var port: UInt16
}
