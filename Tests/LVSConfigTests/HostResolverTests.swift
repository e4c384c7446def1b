import Testing
import LVSCore
import LVSConfig

/// The system resolver behind host names in ipvsadm arguments. Only answers that need no
/// network: /etc/hosts and the C library's numeric forms.
@Suite struct HostResolverTests {
    @Test func numericFormsAndHostsFile() {
        #expect(HostResolver.resolveIPv4("10.0.0.1") == IPv4Address(10, 0, 0, 1))
        // inet_aton's shorthand and octal, as ipvsadm reads them.
        #expect(HostResolver.resolveIPv4("10.1") == IPv4Address(10, 0, 0, 1))
        #expect(HostResolver.resolveIPv4("010.0.0.1") == IPv4Address(8, 0, 0, 1))
        #expect(HostResolver.resolveIPv4("localhost") == IPv4Address(127, 0, 0, 1))
        #expect(HostResolver.resolveIPv4("") == nil)
    }

    // With the system resolver, the parser reads addresses as ipvsadm does.
    @Test func parserWithTheSystemResolver() throws {
        let parser = IpvsadmCommandLine(serviceNames: ServiceNames())
        let key = { (address: IPv4Address) in VirtualServiceKey(transport: .tcp, address: address, port: 80) }
        #expect(try parser.parse(["-D", "-t", "010.0.0.1:80"]) == .deleteService(key(IPv4Address(8, 0, 0, 1))))
        #expect(try parser.parse(["-D", "-t", "127.1:80"]) == .deleteService(key(IPv4Address(127, 0, 0, 1))))
        #expect(try parser.parse(["-D", "-t", "localhost:80"]) == .deleteService(key(IPv4Address(127, 0, 0, 1))))
    }
}
