import LVSConfig
import LVSCore
import Testing
@testable import LVSAdmin

/// `addrport_to_anyname` and the system resolver's port names.
@Suite struct NameResolverTests {
    // Host and port fall back to numbers independently; the whole text is cut at 59 bytes.
    @Test func endpointNames() {
        let namer = EndpointNamer(numeric: false, names: FakeNames())
        #expect(namer.name(ListingFixtures.ip("10.0.0.100"), 8080, .tcp) == "vip.example:8080")
        #expect(namer.name(ListingFixtures.ip("10.9.9.9"), 80, .tcp) == "10.9.9.9:http")
        #expect(namer.name(ListingFixtures.ip("10.9.9.9"), 80, .udp) == "10.9.9.9:80")
        let long = namer.name(ListingFixtures.ip("192.168.1.21"), 53, .udp)
        #expect(long == "an-extremely-long-host-name-for-the-dns-real-server.interna")
        #expect(long.utf8.count == 59)
        let numeric = EndpointNamer(numeric: true, names: FakeNames())
        #expect(numeric.name(ListingFixtures.ip("10.0.0.100"), 80, .tcp) == "10.0.0.100:80")
    }

    @Test func numericNamesKnowNothing() {
        #expect(NumericNames().hostName(for: ListingFixtures.ip("127.0.0.1")) == nil)
        #expect(NumericNames().serviceName(for: 80, transport: .tcp) == nil)
    }

    // getservbyport gives the official name of the first entry for the port, never an alias.
    @Test func systemResolverPortNames() {
        let services = ServiceNames(servicesFileText: """
            # comment 81/tcp
            http\t\t80/tcp\t\twww\t\t# WorldWideWeb HTTP
            www-alt\t80/tcp
            domain\t\t53/tcp
            domain\t\t53/udp
            syslog  514/udp
            """)
        let resolver = SystemNameResolver(services: services)
        #expect(resolver.serviceName(for: 80, transport: .tcp) == "http")
        #expect(resolver.serviceName(for: 80, transport: .udp) == nil)
        #expect(resolver.serviceName(for: 53, transport: .udp) == "domain")
        #expect(resolver.serviceName(for: 514, transport: .tcp) == nil)
        #expect(resolver.serviceName(for: 81, transport: .tcp) == nil)
    }

    // The host lookup goes through getnameinfo; what loopback is called depends on the machine's
    // /etc/hosts, so only the shape of the answer is checked: a name, or nil for the address.
    @Test func systemResolverHostNameShape() {
        let name = SystemNameResolver(services: ServiceNames()).hostName(for: ListingFixtures.ip("127.0.0.1"))
        #expect(name.map { !$0.isEmpty && !$0.contains("\0") } ?? true)
    }

    // Scheduler flags by scheduler: the third bit has no sh/mh name, but still prints "()".
    @Test func schedulerFlagNames() {
        #expect(SchedulerFlagNames.text([], scheduler: "sh") == nil)
        #expect(SchedulerFlagNames.text([.flag1, .flag2], scheduler: "sh") == "sh-fallback,sh-port")
        #expect(SchedulerFlagNames.text([.flag2, .flag3], scheduler: "mh") == "mh-port")
        #expect(SchedulerFlagNames.text([.flag3], scheduler: "sh") == "")
        #expect(SchedulerFlagNames.text([.flag1, .flag2, .flag3], scheduler: "wlc") == "flag-1,flag-2,flag-3")
    }
}
