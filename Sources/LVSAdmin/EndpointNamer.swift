import LVSCore

/// ipvsadm's `addrport_to_anyname`: the `addr:port` text of every address in every listing.
///
/// With `-n` it is `a.b.c.d:port`. Without, the host name (or the dotted address when there is
/// none), a colon, and the service name (or the port number when there is none): the host and
/// the port fall back independently, so `10.0.0.1:http` and `web1.example:8080` both occur.
/// ipvsadm builds it with `snprintf` into a 60-byte buffer, so a long host name is cut at 59
/// bytes before any column truncation applies.
struct EndpointNamer<Names: NameResolver> {
    let numeric: Bool
    let names: Names

    /// The size of ipvsadm's buffer minus its terminating NUL.
    static var bufferLimit: Int { 59 }

    /// - Parameter transport: the protocol port names are looked up for; nil for a protocol
    ///   ipvsadm's `port_to_service` has no names for (IP, in a firewall-mark template's line).
    func name(_ address: IPv4Address, _ port: UInt16, _ transport: TransportProtocol?) -> String {
        if numeric { return "\(address):\(port)" }
        let host = names.hostName(for: address) ?? address.description
        let service = transport.flatMap { names.serviceName(for: port, transport: $0) } ?? String(port)
        return TextColumn.truncated(host + ":" + service, toBytes: Self.bufferLimit)
    }
}
