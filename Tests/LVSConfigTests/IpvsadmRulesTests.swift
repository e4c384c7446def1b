import Testing
import LVSCore
import LVSConfig

/// `ipvsadm -S` / `-R` lines (§5.2–5.5) turned into the configuration model.
@Suite struct IpvsadmRulesTests {
    static let services = ServiceNames(servicesFileText: """
        # services(5) excerpt
        http		80/tcp		www		# WorldWideWeb HTTP
        https		443/tcp
        domain		53/tcp
        domain		53/udp
        """)
    /// Host names resolve to nothing unless a test says otherwise, so no test asks the network.
    let rules = IpvsadmRules(serviceNames: Self.services, resolveHost: { _ in nil })

    static let vip = IPv4Address(10, 0, 0, 100)
    static let tcp80 = VirtualServiceKey(transport: .tcp, address: vip, port: 80)

    func parse(_ text: String) throws(ConfigurationError) -> DirectorConfiguration {
        try rules.parse(text, file: "test.rules")
    }

    /// The error a text produces (nil if it parses).
    func failure(_ text: String) -> ConfigurationError? {
        do {
            _ = try parse(text)
            return nil
        } catch {
            return error
        }
    }

    /// Expects `text` to fail on `line` with a message containing `fragment`.
    func expectFailure(_ text: String, line: Int, _ fragment: String, sourceLocation: SourceLocation = #_sourceLocation) {
        guard let e = failure(text) else {
            Issue.record("parsed without error: \(text)", sourceLocation: sourceLocation)
            return
        }
        #expect(e.file == "test.rules", sourceLocation: sourceLocation)
        #expect(e.line == line, "\(e)", sourceLocation: sourceLocation)
        #expect(e.message.contains(fragment), "\(e.message)", sourceLocation: sourceLocation)
    }

    static func server(_ last: UInt8, port: UInt16 = 80, weight: Int32 = 1) -> RealServerConfig {
        RealServerConfig(address: IPv4Address(10, 0, 0, last), port: port, weight: weight)
    }

    // MARK: - Accepted input

    // The 4-line rr example (as demo.sh writes it): one service, three DR servers of weight 1,
    // in file order (the engine, not the parser, reverses them into kernel order).
    @Test func fourLineRoundRobinExample() throws {
        let c = try parse("""
            -A -t 10.0.0.100:80 -s rr
            -a -t 10.0.0.100:80 -r 10.0.0.11:80 -g -w 1
            -a -t 10.0.0.100:80 -r 10.0.0.12:80 -g -w 1
            -a -t 10.0.0.100:80 -r 10.0.0.13:80 -g -w 1
            """)
        #expect(c.services == [VirtualServiceConfig(key: Self.tcp80, scheduler: "rr",
                                                    realServers: [Self.server(11), Self.server(12), Self.server(13)])])
        #expect(c.services[0].realServers.allSatisfy { $0.forwarding == .directRouting })
    }

    // wrr with weights, including the `--weight=3` and `--weight 2` long forms.
    @Test func weightedRoundRobinWithWeights() throws {
        let c = try parse("""
            -A -t 10.0.0.100:80 -s wrr
            -a -t 10.0.0.100:80 -r 10.0.0.11:80 -g --weight=3
            -a -t 10.0.0.100:80 -r 10.0.0.12:80 -g --weight 2
            -a -t 10.0.0.100:80 -r 10.0.0.13:80 -g -w 0
            -a -t 10.0.0.100:80 -r 10.0.0.14:80 -g -w 65535
            """)
        #expect(c.services[0].scheduler == "wrr")
        #expect(c.services[0].realServers.map(\.weight) == [3, 2, 0, 65535])
    }

    // -u makes a UDP service; the same VIP:port as TCP is a different service.
    @Test func udpService() throws {
        let c = try parse("""
            -A -u 10.0.0.100:53 -s rr
            -a -u 10.0.0.100:53 -r 10.0.0.11:53
            -A -t 10.0.0.100:53 -s rr
            """)
        #expect(c.services.map(\.key) == [VirtualServiceKey(transport: .udp, address: Self.vip, port: 53),
                                          VirtualServiceKey(transport: .tcp, address: Self.vip, port: 53)])
        #expect(c.services[0].realServers == [Self.server(11, port: 53)])
    }

    // §5.5: any token equal to `ipvsadm` is dropped, wherever it stands.
    @Test func ipvsadmTokensDropped() throws {
        let c = try parse("""
            ipvsadm -A -t 10.0.0.100:80 -s rr
            ipvsadm -a -t 10.0.0.100:80 ipvsadm -r 10.0.0.11:80 -g
            ipvsadm
            """)
        #expect(c.services[0].realServers == [Self.server(11)])
    }

    // Comment lines (also indented), blank and whitespace-only lines, tabs and repeated spaces.
    @Test func commentsBlankLinesAndWhitespace() throws {
        let c = try parse("# saved by ipvsadm-save\n\n   \n\t\n\t-A\t-t  10.0.0.100:80   -s\trr \n   # indented comment\n"
                          + "-a -t 10.0.0.100:80\t\t-r 10.0.0.11:80  -g  -w   2\n")
        #expect(c.services == [VirtualServiceConfig(key: Self.tcp80, scheduler: "rr", realServers: [Self.server(11, weight: 2)])])
    }

    // CRLF line endings (a file edited on Windows) parse like LF; error line numbers still count lines.
    @Test func crlfLineEndings() throws {
        let c = try parse("-A -t 10.0.0.100:80 -s rr\r\n-a -t 10.0.0.100:80 -r 10.0.0.11:80 -g -w 4\r\n\r\n")
        #expect(c.services[0].realServers == [Self.server(11, weight: 4)])
        expectFailure("# header\r\n-A -t 10.0.0.100:80 -s rr\r\n-a -t 10.0.0.100:80 -r 10.0.0.11:80 -w x\r\n", line: 3,
                      "illegal weight specified")
    }

    // Port names resolve through services(5) for the service's protocol (`:http` → 80, `:domain` → 53).
    @Test func serviceNamesResolve() throws {
        let c = try parse("""
            -A -t 10.0.0.100:http -s rr
            -a -t 10.0.0.100:www -r 10.0.0.11:http -g
            -A -u 10.0.0.100:domain -s rr
            """)
        #expect(c.services.map(\.key) == [Self.tcp80, VirtualServiceKey(transport: .udp, address: Self.vip, port: 53)])
        #expect(c.services[0].realServers == [Self.server(11)])
        // https is TCP-only in the table, so a UDP service cannot use it.
        expectFailure("-A -u 10.0.0.100:https -s rr", line: 1, "illegal virtual server address")
        expectFailure("-A -t 10.0.0.100:gopher -s rr", line: 1, "illegal virtual server address")
    }

    // A real server without a port gets the service's port, and with -g any port given is
    // forced to the service port (§5.2: ipvsadm does this for -g/-i).
    @Test func realServerPortIsTheServicePort() throws {
        let c = try parse("""
            -A -t 10.0.0.100:8080 -s rr
            -a -t 10.0.0.100:8080 -r 10.0.0.11
            -a -t 10.0.0.100:8080 -r 10.0.0.12:9090 -g
            """)
        #expect(c.services[0].realServers.map(\.port) == [8080, 8080])
    }

    // Without -g/-i/-m the method is direct routing (§5.3 default): the same model as with -g.
    @Test func gatewayingIsTheDefault() throws {
        let explicit = try parse("-A -t 10.0.0.100:80 -s rr\n-a -t 10.0.0.100:80 -r 10.0.0.11:80 -g -w 1\n")
        let implicit = try parse("-A -t 10.0.0.100:80 -s rr\n-a -t 10.0.0.100:80 -r 10.0.0.11:80\n")
        #expect(explicit == implicit)
        #expect(implicit.services[0].realServers[0].forwarding == .directRouting)
        #expect(implicit.services[0].realServers[0].weight == 1)
    }

    // Long option names, option order free (getopt), and thresholds.
    @Test func longOptionsAnyOrderAndThresholds() throws {
        let c = try parse("""
            --add-service --scheduler rr --tcp-service 10.0.0.100:80
            -g -w 2 -r 10.0.0.11:80 -t 10.0.0.100:80 -a -x 100 -y 50
            --add-server --tcp-service=10.0.0.100:80 --real-server=10.0.0.12 --gatewaying --u-threshold=10
            """)
        let servers = c.services[0].realServers
        #expect(servers.count == 2)
        #expect(servers[0].weight == 2)
        #expect(servers[0].upperThreshold == 100)
        #expect(servers[0].lowerThreshold == 50)
        #expect(servers[1].address == IPv4Address(10, 0, 0, 12))
        #expect(servers[1].upperThreshold == 10)
    }

    // Several services keep file order, and each keeps its own servers in file order.
    @Test func servicesAndServersKeepFileOrder() throws {
        let c = try parse("""
            -A -t 10.0.0.101:80 -s rr
            -A -t 10.0.0.100:80 -s wrr
            -a -t 10.0.0.100:80 -r 10.0.0.13 -w 1
            -a -t 10.0.0.101:80 -r 10.0.0.12
            -a -t 10.0.0.100:80 -r 10.0.0.11 -w 2
            """)
        #expect(c.services.map(\.key.address) == [IPv4Address(10, 0, 0, 101), Self.vip])
        #expect(c.services[1].realServers.map(\.address) == [IPv4Address(10, 0, 0, 13), IPv4Address(10, 0, 0, 11)])
        #expect(c.services[0].realServers.map(\.address) == [IPv4Address(10, 0, 0, 12)])
    }

    // An empty file (or only comments) is an empty configuration.
    @Test func emptyFile() throws {
        #expect(try parse("").services.isEmpty)
        #expect(try parse("# nothing\n\n").services.isEmpty)
    }

    // MARK: - Errors: file, line and message

    // description is FILE:LINE: message, the format compilers use.
    @Test func errorDescriptionFormat() throws {
        let e = try #require(failure("# one\n-A -t 10.0.0.100:80 -s rr\n-Q\n"))
        #expect(e.line == 3)
        #expect(e.description == "test.rules:3: \(e.message)")
        #expect(e.message == "-Q: unknown option")
    }

    // Unknown options and stray arguments (an inline `# comment` is one, as in ipvsadm -R).
    @Test func unknownOptionAndUnexpectedArgument() {
        expectFailure("-A -t 10.0.0.100:80 -s rr --frobnicate", line: 1, "--frobnicate: unknown option")
        expectFailure("-A -t 10.0.0.100:80 -s rr extra", line: 1, "unexpected argument extra")
        expectFailure("-A -t 10.0.0.100:80 -s rr # web", line: 1, "unexpected argument #")
        expectFailure("-t 10.0.0.100:80 -s rr", line: 1, "expected a command")
        expectFailure("-A -a -t 10.0.0.100:80", line: 1, "multiple commands specified")
        expectFailure("-A -t 10.0.0.100:80 -u 10.0.0.100:80 -s rr", line: 1, "multiple 'service-address' options specified")
        expectFailure("-A -t 10.0.0.100:80 -s", line: 1, "-s: missing argument")
    }

    // A command without -t/-u.
    @Test func missingServiceAddress() {
        expectFailure("-A -s rr", line: 1, "You need to supply the 'service-address' option for the 'add-service' command")
        expectFailure("-A -t 10.0.0.100:80 -s rr\n-a -r 10.0.0.11", line: 2,
                      "You need to supply the 'service-address' option for the 'add-server' command")
        expectFailure("-A -t 10.0.0.100:80 -s rr\n-a -t 10.0.0.100:80 -w 2", line: 2,
                      "You need to supply the 'real-server' option")
    }

    // Bad addresses, including a bare number (ipvsadm refuses all-digit hosts) and host names.
    @Test func badAddresses() {
        for bad in ["10.0.0.300:80", "10.0.0:80", "10.0.0.100:", "10.0.0.100:80:1", "10.0.0.100:70000",
                    "80", "167772260:80", "lb.example.com:80", "10.0.0.100:-1"] {
            expectFailure("-A -t \(bad) -s rr", line: 1, "illegal virtual server address")
        }
        for bad in ["10.0.0.256", "167772171", "rs1", "10.0.0.11:abc"] {
            expectFailure("-A -t 10.0.0.100:80 -s rr\n-a -t 10.0.0.100:80 -r \(bad)", line: 2, "illegal real server address")
        }
        // ipvsadm takes an IPv6 service; SwiftLVS says why it does not.
        expectFailure("-A -t [::1]:80 -s rr", line: 1, "IPv6 is not supported")
    }

    // Host names resolve through the resolver the rules were given, as ipvsadm -R resolves them.
    @Test func hostNamesResolve() throws {
        let hosts: [String: IPv4Address] = ["lb": Self.vip, "rs1": IPv4Address(10, 0, 0, 11)]
        let named = IpvsadmRules(serviceNames: Self.services, resolveHost: { hosts[$0] })
        let c = try named.parse("-A -t lb:http -s rr\n-a -t lb:80 -r rs1\n", file: "test.rules")
        #expect(c.services == [VirtualServiceConfig(key: Self.tcp80, scheduler: "rr", realServers: [Self.server(11)])])
    }

    // Weight must be an integer 0...65535 (§5.2).
    @Test(arguments: ["-1", "65536", "abc", "1.5", "", "99999999999"])
    func badWeight(weight: String) {
        expectFailure("-A -t 10.0.0.100:80 -s rr\n-a -t 10.0.0.100:80 -r 10.0.0.11 -w \(weight)",
                      line: 2, weight.isEmpty ? "-w: missing argument" : "illegal weight specified")
    }

    // Only direct routing: -m (NAT) and -i (tunnel) are refused with what to use instead.
    @Test func nonDirectRoutingRefused() {
        for option in ["-m", "-i", "--masquerading", "--ipip"] {
            expectFailure("-A -t 10.0.0.100:80 -s rr\n-a -t 10.0.0.100:80 -r 10.0.0.11 \(option)", line: 2,
                          "is not supported: SwiftLVS forwards by direct routing; use -g")
        }
    }

    // -p with and without a timeout (popt's optional argument: the default is libipvs's 360 s),
    // -M masks the client address; a port-0 service needs persistence (§5.2, §5.3, §3.7).
    @Test func persistence() throws {
        let config = try parse("""
            -A -t 10.0.0.100:80 -s rr -p 300
            -A -t 10.0.0.100:443 -s rr -p -M 255.255.255.0
            -A -t 10.0.0.101:0 -s rr --persistent=60
            -A -u 10.0.0.100:53 -s rr
            """)
        #expect(config.services[0].persistence == Persistence(timeout: 300))
        #expect(config.services[1].persistence == Persistence(timeout: 360, netmask: IPv4Address(255, 255, 255, 0)))
        #expect(config.services[2].key.port == 0 && config.services[2].persistence?.timeout == 60)
        #expect(config.services[3].persistence == nil)
        expectFailure("-A -t 10.0.0.100:80 -s rr -p 0", line: 1, "invalid timeout value `0' specified")
        expectFailure("-A -t 10.0.0.100:80 -s rr -p 2678401", line: 1, "invalid timeout value `2678401' specified")
        expectFailure("-A -t 10.0.0.100:80 -s rr -p -M 255.255.0", line: 1, "illegal virtual server persistent mask specified")
        expectFailure("-A -t 10.0.0.100:0 -s rr", line: 1, "Zero port specified for non-persistent service")
        expectFailure("-A -t 10.0.0.100:80 -s rr\n-a -t 10.0.0.100:80 -r 10.0.0.11 -p", line: 2,
                      "Illegal 'persistent' option with the 'add-server' command")
    }

    // What is still missing says so.
    @Test func notSupportedYet() {
        expectFailure("-A -t 10.0.0.100:80 -s rr --pe sip", line: 1, "persistence engines (--pe) are not supported")
    }

    // `-f` lines, as `ipvsadm -S` writes them for firewall-mark services.
    @Test func firewallMarkServices() throws {
        let config = try parse("""
            -A -f 1 -s rr -p 300
            -a -f 1 -r 10.0.0.11:0 -g -w 1
            -a -f 1 -r 10.0.0.12 -g -w 2
            -A -t 10.0.0.100:22 -s rr
            -a -t 10.0.0.100:22 -r 10.0.0.11 -g -w 1
            """)
        #expect(config.services.map(\.key) == [.firewallMark(1), VirtualServiceKey(transport: .tcp, address: Self.vip, port: 22)])
        #expect(config.services[0].persistence == Persistence(timeout: 300))
        #expect(config.services[0].realServers.map(\.port) == [0, 0])
        #expect(config.services[0].realServers.map(\.weight) == [1, 2])
        #expect(config.markRules.isEmpty)
        expectFailure("-a -f 2 -r 10.0.0.11", line: 1, "Service not defined: add FWM 2 with an -A line before its real servers")
        expectFailure("-A -f 1 -s rr\n-A -f 1 -s wrr", line: 2, "Service already exists: FWM 1 was added before")
        expectFailure("-A -f 1 -s rr\n-a -f 1 -r 10.0.0.11\n-a -f 1 -r 10.0.0.11:0", line: 3, "Destination already exists")
    }

    // -o (--ops) is for UDP services only, with ipvsadm's message (§5.2, §3.6).
    @Test func onePacketScheduling() throws {
        let config = try parse("-A -u 10.0.0.100:53 -s rr -o\n-A -u 10.0.0.100:54 -s rr --ops\n-A -u 10.0.0.100:55 -s rr")
        #expect(config.services.map(\.onePacketScheduling) == [true, true, false])
        expectFailure("-A -t 10.0.0.100:80 -s rr -o", line: 1, "One-Packet Scheduling is only for UDP virtual services")
        expectFailure("-A -u 10.0.0.100:53 -s rr\n-a -u 10.0.0.100:53 -r 10.0.0.11 -o", line: 2,
                      "Illegal 'ops' option with the 'add-server' command")
    }

    // Without -s, -A gets ipvsadm's default scheduler, wlc (§5.3); the other schedulers of §2
    // are accepted by name.
    @Test func defaultSchedulerIsWeightedLeastConnection() throws {
        let c = try parse("-A -t 10.0.0.100:80\n-a -t 10.0.0.100:80 -r 10.0.0.11")
        #expect(c.services == [VirtualServiceConfig(key: Self.tcp80, scheduler: "wlc", realServers: [Self.server(11)])])
        for name in ["lc", "wlc", "sed", "nq", "fo", "ovf", "twos"] {
            #expect(try parse("-A -t 10.0.0.100:80 -s \(name)").services.first?.scheduler == name)
        }
    }

    // -b (§5.2, ipvsadm's parse_sched_flags): a comma list; sh-* need -s sh and mh-* need -s mh
    // (without -s the scheduler is wlc), flag-N go with any scheduler; sh-fallback/mh-fallback
    // are SCHED1 and sh-port/mh-port SCHED2.
    @Test func schedulerFlags() throws {
        let config = try parse("""
            -A -t 10.0.0.100:80 -s sh -b sh-fallback,sh-port
            -A -t 10.0.0.100:81 -s mh --sched-flags=mh-port
            -A -t 10.0.0.100:82 -s rr -b flag-1,,flag-3
            -A -t 10.0.0.100:83 -s mh
            -A -t 10.0.0.100:84 -b mh-fallback -s mh
            """)
        #expect(config.services[0].schedulerFlags == [.fallback, .port])
        #expect(config.services[1].schedulerFlags == .port)
        #expect(config.services[2].schedulerFlags == [.flag1, .flag3])
        #expect(config.services[3].schedulerFlags == [])
        #expect(config.services[4].schedulerFlags == .fallback)
        expectFailure("-A -t 10.0.0.100:80 -s rr -b sh-port", line: 1, "incompatible scheduler flag `sh-port'")
        expectFailure("-A -t 10.0.0.100:80 -s sh -b mh-fallback", line: 1, "incompatible scheduler flag `mh-fallback'")
        expectFailure("-A -t 10.0.0.100:80 -b sh-port", line: 1, "incompatible scheduler flag `sh-port' (it needs -s sh, not wlc)")
        expectFailure("-A -t 10.0.0.100:80 -s sh -b sh-bogus", line: 1, "invalid scheduler flag `sh-bogus'")
        expectFailure("-A -t 10.0.0.100:80 -s sh -b sh-port -b sh-fallback", line: 1, "multiple 'sched-flags' options specified")
        expectFailure("-A -t 10.0.0.100:80 -s sh\n-a -t 10.0.0.100:80 -r 10.0.0.11 -b flag-1", line: 2,
                      "Illegal 'sched-flags' option with the 'add-server' command")
    }

    // Scheduler names: unknown ones and known-but-not-implemented ones get different messages.
    // `none` (which ip_vs_add_service accepts) is the only known name SwiftLVS does not run.
    @Test func schedulerErrors() {
        expectFailure("-A -t 10.0.0.100:80 -s foo", line: 1, "unknown scheduler 'foo'")
        expectFailure("-A -t 10.0.0.100:80 -s none", line: 1, "scheduler 'none' is not implemented yet")
        expectFailure("-A -t 10.0.0.100:80 -s rr\n-a -t 10.0.0.100:80 -r 10.0.0.11 -s wrr", line: 2,
                      "Illegal 'scheduler' option with the 'add-server' command")
        expectFailure("-A -t 10.0.0.100:80 -s rr -w 2", line: 1, "Illegal 'weight' option with the 'add-service' command")
    }

    // Kernel errors of §5.2 for the order of lines: -a before its -A, -A twice, -a twice
    // (also when the second only differs by a port that -g forces back to the service port).
    @Test func serviceAndDestinationErrors() {
        expectFailure("# rules\n-a -t 10.0.0.100:80 -r 10.0.0.11\n-A -t 10.0.0.100:80 -s rr", line: 2, "Service not defined")
        expectFailure("-A -t 10.0.0.100:80 -s rr\n-A -t 10.0.0.100:80 -s wrr", line: 2, "Service already exists")
        expectFailure("-A -t 10.0.0.100:80 -s rr\n-a -t 10.0.0.100:80 -r 10.0.0.11\n-a -t 10.0.0.100:80 -r 10.0.0.11 -w 5",
                      line: 3, "Destination already exists")
        expectFailure("-A -t 10.0.0.100:80 -s rr\n-a -t 10.0.0.100:80 -r 10.0.0.11:80\n-a -t 10.0.0.100:80 -r 10.0.0.11:8080",
                      line: 3, "Destination already exists")
        // A server for the UDP service on the same VIP:port is not a server of the TCP one.
        expectFailure("-A -t 10.0.0.100:53 -s rr\n-a -u 10.0.0.100:53 -r 10.0.0.11", line: 2, "Service not defined")
    }

    // A rules file holds -A and -a only: edit, delete, clear and the rest are refused.
    @Test(arguments: ["-E -t 10.0.0.100:80 -s wrr", "-D -t 10.0.0.100:80", "-C", "-e -t 10.0.0.100:80 -r 10.0.0.11",
                      "-d -t 10.0.0.100:80 -r 10.0.0.11", "-L -n", "--set 1 2 3"])
    func otherCommandsRefused(line: String) {
        expectFailure("-A -t 10.0.0.100:80 -s rr\n\(line)", line: 2, "does not belong in a rules file")
    }

    // Port 0 is refused for a non-persistent service (§5.3), written out or missing.
    @Test func zeroPort() {
        expectFailure("-A -t 10.0.0.100:0 -s rr", line: 1, "Zero port specified for non-persistent service")
        expectFailure("-A -t 10.0.0.100 -s rr", line: 1, "Zero port specified for non-persistent service")
    }

    // Thresholds: 0...INT_MAX, and l-threshold may not exceed a non-zero u-threshold (ERANGE).
    @Test func thresholdErrors() {
        expectFailure("-A -t 10.0.0.100:80 -s rr\n-a -t 10.0.0.100:80 -r 10.0.0.11 -x -5", line: 2, "illegal u_threshold specified")
        expectFailure("-A -t 10.0.0.100:80 -s rr\n-a -t 10.0.0.100:80 -r 10.0.0.11 -y 2147483648", line: 2, "illegal l_threshold specified")
        expectFailure("-A -t 10.0.0.100:80 -s rr\n-a -t 10.0.0.100:80 -r 10.0.0.11 -x 10 -y 11", line: 2,
                      "l-threshold 11 is above u-threshold 10")
    }

    // The first bad line stops the parse: nothing from the file is returned.
    @Test func firstErrorWins() {
        expectFailure("-A -t 10.0.0.100:80 -s rr\n-a -t 10.0.0.100:80 -r bad\n-Q\n", line: 2, "illegal real server address")
    }

    // load(path:) reads a file and reports the path; a missing file is line 0 with the system's reason.
    @Test func loadFromFile() throws {
        let file = TemporaryFile("-A -t 10.0.0.100:80 -s rr\n-a -t 10.0.0.100:80 -r 10.0.0.11\n")
        #expect(try rules.load(path: file.path).services[0].realServers == [Self.server(11)])
        let bad = TemporaryFile("-A -t 10.0.0.100:80 -s nope\n")
        #expect(throws: ConfigurationError.self) { try rules.load(path: bad.path) }
        do {
            _ = try rules.load(path: bad.path)
        } catch {
            #expect(error.file == bad.path)
            #expect(error.line == 1)
        }
        do {
            _ = try rules.load(path: "/nonexistent/rules")
            Issue.record("a missing file loaded")
        } catch {
            #expect(error.line == 0)
            #expect(error.message.contains("cannot read the rules file"))
            #expect(error.message.contains("No such file"))
        }
    }
}
