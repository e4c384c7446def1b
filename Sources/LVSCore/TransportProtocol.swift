/// The layer-4 protocols a virtual service can carry, with their IP protocol numbers.
public enum TransportProtocol: UInt8, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case tcp = 6
    case udp = 17

    /// The name ipvsadm prints (`TCP`, `UDP`).
    public var description: String {
        switch self {
        case .tcp: "TCP"
        case .udp: "UDP"
        }
    }
}
