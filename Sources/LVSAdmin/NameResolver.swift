import LVSCore

/// Turns addresses and ports into the names ipvsadm prints when `-n` is not given.
///
/// ipvsadm asks `gethostbyaddr` and `getservbyport` for every address and port it prints; a
/// protocol lets tests give fixed answers and lets `lvsadm` use the system's resolver. A nil
/// answer means "no name", and the number is printed instead, as ipvsadm does.
public protocol NameResolver {
    /// The host name for an address (what `gethostbyaddr` gives as `h_name`), or nil.
    func hostName(for address: IPv4Address) -> String?
    /// The service name for a port of a protocol (what `getservbyport` gives as `s_name`), or nil.
    func serviceName(for port: UInt16, transport: TransportProtocol) -> String?
}

/// A resolver that knows no names: everything prints as numbers, exactly as with `-n`.
public struct NumericNames: NameResolver, Sendable {
    public init() {}

    public func hostName(for address: IPv4Address) -> String? { nil }

    public func serviceName(for port: UInt16, transport: TransportProtocol) -> String? { nil }
}
