import Testing
import LVSCore
import LVSConfig

@Suite struct ServiceNamesTests {
    // services(5): `name port/proto [aliases…] [# comment]`; aliases resolve like the name;
    // a name is looked up per protocol.
    @Test func parsesNamesAliasesAndProtocols() {
        let names = ServiceNames(servicesFileText: """
            # Network services, Internet style
            http\t\t80/tcp\t\twww\t\t# WorldWideWeb HTTP
            domain\t\t53/tcp
            domain\t\t53/udp
            syslog  514/udp
            """)
        #expect(names.port(named: "http", transport: .tcp) == 80)
        #expect(names.port(named: "www", transport: .tcp) == 80)
        #expect(names.port(named: "http", transport: .udp) == nil)
        #expect(names.port(named: "domain", transport: .tcp) == 53)
        #expect(names.port(named: "domain", transport: .udp) == 53)
        #expect(names.port(named: "syslog", transport: .udp) == 514)
        #expect(names.port(named: "syslog", transport: .tcp) == nil)
        #expect(names.port(named: "WorldWideWeb", transport: .tcp) == nil)   // in the comment
        #expect(names.port(named: "HTTP", transport: .tcp) == nil)           // case-sensitive, like getservbyname
    }

    // The first entry for a name wins, as getservbyname reads the file top down.
    @Test func firstEntryWins() {
        let names = ServiceNames(servicesFileText: "alt 8080/tcp web\nweb 8000/tcp\nalt 9090/tcp\n")
        #expect(names.port(named: "alt", transport: .tcp) == 8080)
        #expect(names.port(named: "web", transport: .tcp) == 8080)
    }

    // Lines that are not `name port/proto` are skipped rather than fatal.
    @Test func malformedLinesSkipped() {
        let names = ServiceNames(servicesFileText: "lonely\nbig 70000/tcp\nsctpish 9/sctp\nword abc/tcp\nslash 80\nok 7/tcp\n")
        #expect(names.port(named: "lonely", transport: .tcp) == nil)
        #expect(names.port(named: "big", transport: .tcp) == nil)
        #expect(names.port(named: "sctpish", transport: .tcp) == nil)
        #expect(names.port(named: "word", transport: .tcp) == nil)
        #expect(names.port(named: "slash", transport: .tcp) == nil)
        #expect(names.port(named: "ok", transport: .tcp) == 7)
    }

    // CRLF line endings: every line is read, not just the first (CR LF is one Swift Character).
    @Test func crlfLineEndings() {
        let names = ServiceNames(servicesFileText: "http 80/tcp www\r\nhttps 443/tcp\r\ndomain 53/udp\r\n")
        #expect(names.port(named: "http", transport: .tcp) == 80)
        #expect(names.port(named: "www", transport: .tcp) == 80)
        #expect(names.port(named: "https", transport: .tcp) == 443)
        #expect(names.port(named: "domain", transport: .udp) == 53)
    }

    // An empty table knows nothing; a missing services file gives an empty table.
    @Test func emptyAndMissing() {
        #expect(ServiceNames().port(named: "http", transport: .tcp) == nil)
        #expect(ServiceNames.system(path: "/nonexistent/services").port(named: "http", transport: .tcp) == nil)
        let file = TemporaryFile("gopher 70/tcp\n")
        #expect(ServiceNames.system(path: file.path).port(named: "gopher", transport: .tcp) == 70)
    }
}
