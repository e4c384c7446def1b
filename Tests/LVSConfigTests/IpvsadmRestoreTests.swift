import Testing
import LVSCore
import LVSConfig

/// `-R` streams (IPVS-SEMANTICS.md §5.5): tokenising, comments, all-or-nothing with the first
/// bad line's number, and which commands a stream may hold.
@Suite struct IpvsadmRestoreTests {
    static let services = ServiceNames(servicesFileText: "http 80/tcp\nhttps 443/tcp\n")
    let parser = IpvsadmCommandLine(serviceNames: Self.services, resolveHost: { _ in nil })

    static let vip = IPv4Address(10, 0, 0, 100)
    static let tcp80 = VirtualServiceKey(transport: .tcp, address: vip, port: 80)

    func failure(_ text: String) -> IpvsadmRestoreError? {
        do {
            let commands = try parser.parseRestore(text)
            Issue.record("restored: \(commands)")
            return nil
        } catch {
            return error
        }
    }

    // Spaces, tabs and CRs split; every `ipvsadm` token goes, wherever it stands.
    @Test func tokenize() {
        #expect(IpvsadmCommandLine.tokenizeRestoreLine("ipvsadm -A  -t\t10.0.0.100:80 -s rr\r")
                == ["-A", "-t", "10.0.0.100:80", "-s", "rr"])
        #expect(IpvsadmCommandLine.tokenizeRestoreLine("-a -t 10.0.0.100:80 ipvsadm -r 10.0.0.11") == ["-a", "-t", "10.0.0.100:80", "-r", "10.0.0.11"])
        #expect(IpvsadmCommandLine.tokenizeRestoreLine("  ipvsadm  ").isEmpty)
        #expect(IpvsadmCommandLine.tokenizeRestoreLine("").isEmpty)
        // No quoting and no inline comments: they are words like any other.
        #expect(IpvsadmCommandLine.tokenizeRestoreLine("-C # flush 'all'") == ["-C", "#", "flush", "'all'"])
        // Only whole tokens: a word containing "ipvsadm" stays.
        #expect(IpvsadmCommandLine.tokenizeRestoreLine("ipvsadm2 -C") == ["ipvsadm2", "-C"])
    }

    // An `ipvsadm -S` dump with a header, a script-style block with `ipvsadm` prefixes, a
    // double space, blank lines and CRLF line ends: the commands in order.
    @Test func saveOutputAndScriptLines() throws {
        let text = """
            # saved by ipvsadm-save
            -A -t 10.0.0.100:http -s wlc
            -a -t 10.0.0.100:http -r 10.0.0.11:http -g -w 1

            ipvsadm -A -t 10.0.0.100:443  -s rr -p 300\r
               # indented comment
            ipvsadm -a -t 10.0.0.100:443 -r 10.0.0.12 -g -w 2
            ipvsadm
            -Z
            --set 900 120 300
            -e -t 10.0.0.100:443 -r 10.0.0.12 -w 0
            -d -t 10.0.0.100:80 -r 10.0.0.11
            -D -t 10.0.0.100:80
            -E -t 10.0.0.100:443 -s sh -b sh-port
            -C
            """
        let https = VirtualServiceKey(transport: .tcp, address: Self.vip, port: 443)
        let commands = try parser.parseRestore(text)
        #expect(commands == [
            .addService(VirtualServiceConfig(key: Self.tcp80, scheduler: "wlc")),
            .addServer(Self.tcp80, RealServerConfig(address: IPv4Address(10, 0, 0, 11), port: 80)),
            .addService(VirtualServiceConfig(key: https, scheduler: "rr", persistence: Persistence(timeout: 300))),
            .addServer(https, RealServerConfig(address: IPv4Address(10, 0, 0, 12), port: 443, weight: 2)),
            .zero(nil),
            .setTimeouts(TimeoutSetting(tcp: 900, tcpFin: 120, udp: 300)),
            .editServer(https, RealServerConfig(address: IPv4Address(10, 0, 0, 12), port: 443, weight: 0)),
            .deleteServer(Self.tcp80, address: IPv4Address(10, 0, 0, 11), port: 80),
            .deleteService(Self.tcp80),
            .editService(VirtualServiceConfig(key: https, scheduler: "sh", schedulerFlags: .port)),
            .clear,
        ])
        #expect(try parser.parseRestore("").isEmpty)
        #expect(try parser.parseRestore("# only a comment\n\n").isEmpty)
    }

    // The first bad line stops the stream, and its number counts every line.
    @Test func firstBadLineIsNumbered() throws {
        let error = try #require(failure("""
            # header
            -A -t 10.0.0.100:80 -s rr
            -a -t 10.0.0.100:80 -r 10.0.0.11 -w x
            -a -t 10.0.0.100:80 -r bad
            """))
        #expect(error.line == 3)
        #expect(error.error.message == "illegal weight specified")
        #expect(error.exitCode == 2)
        #expect(error.description == "line 3: illegal weight specified ('x': expected 0..65535)")
        #expect(error.standardErrorText(programName: "lvsadm") == "line 3: illegal weight specified\n")
    }

    // Option-parser errors keep their exit status and hint.
    @Test func parserErrorsInAStream() throws {
        let error = try #require(failure("-C\n-A -t 10.0.0.100:80 --bogus\n"))
        #expect(error.line == 2)
        #expect(error.exitCode == 255)
        #expect(error.standardErrorText(programName: "lvsadm")
                == "line 2: --bogus: unknown option\nTry `lvsadm -h' or 'lvsadm --help' for more information.\n")
    }

    // An inline `#` is a stray argument, as in ipvsadm -R.
    @Test func inlineCommentIsAnArgument() throws {
        let error = try #require(failure("-A -t 10.0.0.100:80 -s rr # web\n"))
        #expect(error.line == 1)
        #expect(error.error.message == "unexpected argument #")
    }

    // Only table commands: listing, saving, usage, version and the daemon have no place in one
    // atomic change (exit 2); -R inside -R is refused as ipvsadm refuses it (hint, exit 255).
    @Test func onlyTableCommands() throws {
        for (line, name) in [("-L -n", "-L"), ("-S", "-S"), ("-h", "-h"), ("-v", "-v"),
                             ("--start-daemon master", "--start-daemon"), ("--stop-daemon backup", "--stop-daemon")] {
            let error = try #require(failure("-C\n\(line)\n"))
            #expect(error.line == 2)
            #expect(error.exitCode == 2)
            #expect(error.error.message == "\(name) is not allowed in a restore stream: it holds table commands (-A -E -D -C -a -e -d -Z --set)")
        }
        let nested = try #require(failure("-C\n-R\n"))
        #expect(nested.line == 2)
        #expect(nested.exitCode == 255)
        #expect(nested.error.suggestsHelp)
        #expect(nested.error.message.isEmpty)
        #expect(nested.description == "line 2: -R cannot be used inside a restore stream")
    }
}
