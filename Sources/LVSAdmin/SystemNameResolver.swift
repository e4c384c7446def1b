#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import LVSConfig
import LVSCore

/// The names `lvsadm` prints without `-n`: the system's reverse host lookup and /etc/services.
///
/// ipvsadm calls `gethostbyaddr` and prints `h_name`. This uses `getnameinfo` with
/// `NI_NAMEREQD`, which glibc answers from the same NSS `hosts` sources with the same canonical
/// name, and which, unlike `gethostbyaddr`, is safe to call from any thread. Ports come from
/// /etc/services through `ServiceNames`, which returns the official name of the first entry for a
/// port, as `getservbyport` does with the `files` source.
public struct SystemNameResolver: NameResolver, Sendable {
    let services: ServiceNames

    public init(services: ServiceNames = .system()) {
        self.services = services
    }

    public func hostName(for address: IPv4Address) -> String? {
        var socketAddress = sockaddr_in()
        socketAddress.sin_family = sa_family_t(AF_INET)
        socketAddress.sin_addr.s_addr = address.value.bigEndian
        let capacity = Int(NI_MAXHOST)
        var host = [CChar](repeating: 0, count: capacity)
        let status = withUnsafePointer(to: &socketAddress) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { generic in
                getnameinfo(generic, socklen_t(MemoryLayout<sockaddr_in>.size), &host, socklen_t(capacity),
                            nil, 0, NI_NAMEREQD)
            }
        }
        guard status == 0 else { return nil }
        let bytes = host.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
        return bytes.isEmpty ? nil : String(decoding: bytes, as: UTF8.self)
    }

    public func serviceName(for port: UInt16, transport: TransportProtocol) -> String? {
        services.name(forPort: port, transport: transport)
    }
}
