#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import LVSCore

/// Host names in ipvsadm arguments (`-t www.example.com:http`, `-r rs1`, `-M`), resolved the
/// way ipvsadm's `gethostbyname` does: the first IPv4 address, through the system's resolver
/// (/etc/hosts, DNS, as nsswitch.conf says). The C library also accepts the old numeric forms
/// here (`10.1` is 10.0.0.1), as ipvsadm's `inet_aton` does.
///
/// The parser takes the resolver as a closure so that tests, and lvsd reading its rules file,
/// can decide what a name means without asking the network.
public enum HostResolver {
    /// `getaddrinfo` for IPv4 only; nil if the name does not resolve.
    @Sendable
    public static func resolveIPv4(_ name: String) -> IPv4Address? {
        guard !name.isEmpty else { return nil }
        var hints = addrinfo()
        hints.ai_family = AF_INET
        #if os(Linux)
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        #else
        hints.ai_socktype = SOCK_STREAM
        #endif
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(name, nil, &hints, &list) == 0, let first = list else { return nil }
        defer { freeaddrinfo(first) }
        guard first.pointee.ai_family == AF_INET, let address = first.pointee.ai_addr else { return nil }
        let networkOrder = address.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee.sin_addr.s_addr }
        return IPv4Address(UInt32(bigEndian: networkOrder))
    }
}
