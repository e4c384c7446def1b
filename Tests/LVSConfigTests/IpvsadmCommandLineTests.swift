import Testing
import LVSCore
import LVSConfig

/// ipvsadm 1.31's command line (IPVS-SEMANTICS.md §5.1–5.4): popt's grammar, the option/command
/// matrix, every value check with its message and exit status, and the defaults.
@Suite struct IpvsadmCommandLineTests {
    static let services = ServiceNames(servicesFileText: """
        http		80/tcp		www
        https		443/tcp
        domain		53/tcp
        domain		53/udp
        """)
    static let hosts: [String: IPv4Address] = [
        "lb.example.com": IPv4Address(10, 0, 0, 100), "rs1": IPv4Address(10, 0, 0, 11),
        "mask24": IPv4Address(255, 255, 255, 0),
    ]
    let parser = IpvsadmCommandLine(serviceNames: Self.services, resolveHost: { Self.hosts[$0] })

    static let vip = IPv4Address(10, 0, 0, 100)
    static let rip = IPv4Address(10, 0, 0, 11)
    static let tcp80 = VirtualServiceKey(transport: .tcp, address: vip, port: 80)
    static let udp53 = VirtualServiceKey(transport: .udp, address: vip, port: 53)

    /// Splits on single spaces, as a shell would split these simple lines.
    static func words(_ line: String) -> [String] {
        line.split(separator: " ").map(String.init)
    }

    func parse(_ line: String) throws(IpvsadmError) -> IpvsadmCommand {
        try parser.parse(Self.words(line))
    }

    func failure(_ arguments: [String]) -> IpvsadmError? {
        do {
            let command = try parser.parse(arguments)
            Issue.record("parsed: \(arguments) -> \(command)")
            return nil
        } catch {
            return error
        }
    }

    /// Expects `line` to fail with exactly `message` and `exit`.
    func expectError(_ line: String, _ message: String, exit: Int32 = 2, suggestsHelp: Bool = false,
                     sourceLocation: SourceLocation = #_sourceLocation) {
        expectError(Self.words(line), message, exit: exit, suggestsHelp: suggestsHelp, sourceLocation: sourceLocation)
    }

    func expectError(_ arguments: [String], _ message: String, exit: Int32 = 2, suggestsHelp: Bool = false,
                     sourceLocation: SourceLocation = #_sourceLocation) {
        guard let error = failure(arguments) else { return }
        #expect(error.message == message, "\(arguments)", sourceLocation: sourceLocation)
        #expect(error.exitCode == exit, "\(arguments): \(error)", sourceLocation: sourceLocation)
        #expect(error.suggestsHelp == suggestsHelp, "\(arguments): \(error)", sourceLocation: sourceLocation)
    }

    static func service(_ key: VirtualServiceKey = tcp80, scheduler: String = "wlc", flags: SchedulerFlags = [],
                        persistence: Persistence? = nil, ops: Bool = false) -> VirtualServiceConfig {
        VirtualServiceConfig(key: key, scheduler: scheduler, schedulerFlags: flags, persistence: persistence,
                             onePacketScheduling: ops)
    }

    static func server(port: UInt16 = 80, weight: Int32 = 1, upper: UInt32 = 0, lower: UInt32 = 0) -> RealServerConfig {
        RealServerConfig(address: rip, port: port, weight: weight, upperThreshold: upper, lowerThreshold: lower)
    }

    // MARK: - Commands and their defaults

    // ipvsadm with no arguments lists the table with names resolved (not -n).
    @Test func noArgumentsIsAListing() throws {
        #expect(try parser.parse([]) == .list(ListOptions()))
    }

    // Every command, short and long, with the defaults of §5.3 applied.
    @Test func everyCommand() throws {
        #expect(try parse("-A -t 10.0.0.100:80") == .addService(Self.service()))
        #expect(try parse("--add-service --tcp-service 10.0.0.100:80 --scheduler rr") == .addService(Self.service(scheduler: "rr")))
        #expect(try parse("-E -t 10.0.0.100:80 -s rr") == .editService(Self.service(scheduler: "rr")))
        #expect(try parse("--edit-service -t 10.0.0.100:80") == .editService(Self.service()))
        #expect(try parse("-D -t 10.0.0.100:80") == .deleteService(Self.tcp80))
        #expect(try parse("--delete-service -u 10.0.0.100:53") == .deleteService(Self.udp53))
        #expect(try parse("-C") == .clear)
        #expect(try parse("--clear") == .clear)
        #expect(try parse("-a -t 10.0.0.100:80 -r 10.0.0.11") == .addServer(Self.tcp80, Self.server()))
        #expect(try parse("--add-server -t 10.0.0.100:80 --real-server 10.0.0.11 -w 3")
                == .addServer(Self.tcp80, Self.server(weight: 3)))
        #expect(try parse("-e -t 10.0.0.100:80 -r 10.0.0.11 -w 0") == .editServer(Self.tcp80, Self.server(weight: 0)))
        #expect(try parse("--edit-server -t 10.0.0.100:80 -r 10.0.0.11") == .editServer(Self.tcp80, Self.server()))
        #expect(try parse("-d -t 10.0.0.100:80 -r 10.0.0.11") == .deleteServer(Self.tcp80, address: Self.rip, port: 80))
        #expect(try parse("--delete-server -t 10.0.0.100:80 -r 10.0.0.11:80")
                == .deleteServer(Self.tcp80, address: Self.rip, port: 80))
        #expect(try parse("-Z") == .zero(nil))
        #expect(try parse("--zero -t 10.0.0.100:80") == .zero(Self.tcp80))
        #expect(try parse("--set 900 120 300") == .setTimeouts(TimeoutSetting(tcp: 900, tcpFin: 120, udp: 300)))
        #expect(try parse("-L") == .list(ListOptions()))
        #expect(try parse("-l") == .list(ListOptions()))
        #expect(try parse("--list") == .list(ListOptions()))
        #expect(try parse("-S") == .save(numeric: false))
        #expect(try parse("--save -n") == .save(numeric: true))
        #expect(try parse("-R") == .restore)
        #expect(try parse("--restore") == .restore)
        #expect(try parse("-h") == .help)
        #expect(try parse("--help") == .help)
        #expect(try parse("-v") == .version)
        #expect(try parse("--version") == .version)
    }

    // §5.4: -E without -s is wlc again, without -p no persistence, without -b no flags; the
    // command is a full replace.
    @Test func editServiceResetsWhatIsNotGiven() throws {
        #expect(try parse("-E -t 10.0.0.100:80") == .editService(Self.service(scheduler: "wlc")))
        #expect(try parse("-E -t 10.0.0.100:80 -s sh -b sh-port -p 60")
                == .editService(Self.service(scheduler: "sh", flags: .port, persistence: Persistence(timeout: 60))))
        guard case .editService(let service) = try parse("-E -u 10.0.0.100:53") else {
            Issue.record("not an edit")
            return
        }
        #expect(service.persistence == nil && service.schedulerFlags.isEmpty && !service.onePacketScheduling)
    }

    // §5.4: -e without -w is weight 1 again; thresholds 0; forwarding direct routing.
    @Test func editServerResetsWhatIsNotGiven() throws {
        #expect(try parse("-e -t 10.0.0.100:80 -r 10.0.0.11") == .editServer(Self.tcp80, Self.server(weight: 1)))
        #expect(try parse("-e -t 10.0.0.100:80 -r 10.0.0.11 -x 10 -y 5 -w 7")
                == .editServer(Self.tcp80, Self.server(weight: 7, upper: 10, lower: 5)))
    }

    // For direct routing the real server's port is the service's, whatever -r says (§5.2);
    // -g is the default method and may be given.
    @Test func realServerPortIsForcedForDirectRouting() throws {
        #expect(try parse("-a -t 10.0.0.100:80 -r 10.0.0.11:8080") == .addServer(Self.tcp80, Self.server()))
        #expect(try parse("-a -t 10.0.0.100:80 -r 10.0.0.11:8080 -g") == .addServer(Self.tcp80, Self.server()))
        #expect(try parse("-e -t 10.0.0.100:80 -r 10.0.0.11:0 --gatewaying") == .editServer(Self.tcp80, Self.server()))
        // -r before -t: the port given is forced all the same.
        #expect(try parse("-a -r 10.0.0.11:8080 -t 10.0.0.100:80") == .addServer(Self.tcp80, Self.server()))
    }

    // -d is not forced: the port given, else the service's port as known when -r is read (so
    // -r before -t means port 0, which then matches no server, as in ipvsadm).
    @Test func deleteServerPort() throws {
        #expect(try parse("-d -t 10.0.0.100:80 -r 10.0.0.11:8080") == .deleteServer(Self.tcp80, address: Self.rip, port: 8080))
        #expect(try parse("-d -t 10.0.0.100:80 -r 10.0.0.11") == .deleteServer(Self.tcp80, address: Self.rip, port: 80))
        #expect(try parse("-d -r 10.0.0.11 -t 10.0.0.100:80") == .deleteServer(Self.tcp80, address: Self.rip, port: 0))
    }

    // The command may stand anywhere in the line (the spec's rule); options are order-free.
    @Test func commandAnywhere() throws {
        #expect(try parse("-t 10.0.0.100:80 -s rr -A") == .addService(Self.service(scheduler: "rr")))
        #expect(try parse("-w 2 -r 10.0.0.11 -t 10.0.0.100:80 -a") == .addServer(Self.tcp80, Self.server(weight: 2)))
    }

    // MARK: - popt grammar

    // Short options cluster; an option needing a value takes the rest of the cluster or the
    // next token; one `=` after a letter is skipped; long options take `=value` or the next token.
    @Test func clustersAndValueForms() throws {
        var numeric = ListOptions()
        numeric.numeric = true
        #expect(try parse("-Ln") == .list(numeric))
        var connections = numeric
        connections.connections = true
        #expect(try parse("-Lnc") == .list(connections))
        #expect(try parse("-lcn") == .list(connections))
        #expect(try parse("-At 10.0.0.100:80") == .addService(Self.service()))
        #expect(try parse("-At10.0.0.100:80") == .addService(Self.service()))
        #expect(try parse("-At=10.0.0.100:80") == .addService(Self.service()))
        #expect(try parse("-t=10.0.0.100:80 -A -s=rr") == .addService(Self.service(scheduler: "rr")))
        #expect(try parse("--tcp-service=10.0.0.100:80 -A --scheduler=sh") == .addService(Self.service(scheduler: "sh")))
        #expect(try parse("-at 10.0.0.100:80 -gr 10.0.0.11 -w=4") == .addServer(Self.tcp80, Self.server(weight: 4)))
        #expect(try parse("-at 10.0.0.100:80 -r 10.0.0.11 -gw4") == .addServer(Self.tcp80, Self.server(weight: 4)))
        // A required value is the next token even when it looks like an option.
        expectError("-a -t 10.0.0.100:80 -r 10.0.0.11 -w -1", "illegal weight specified")
        #expect(try parse("-A -t 10.0.0.100:80 -s -rr") == .addService(Self.service(scheduler: "-rr")))
    }

    // `-p [timeout]`: popt takes the next token as the timeout unless it starts with `-`; in a
    // cluster the rest of the cluster is the timeout. No timeout is libipvs's 360 s (§5.2).
    @Test func persistentOptionalArgument() throws {
        let p = { (timeout: UInt32) in Self.service(persistence: Persistence(timeout: timeout)) }
        #expect(try parse("-A -t 10.0.0.100:80 -p") == .addService(p(360)))
        #expect(try parse("-A -t 10.0.0.100:80 -p 300") == .addService(p(300)))
        #expect(try parse("-A -t 10.0.0.100:80 -p300") == .addService(p(300)))
        #expect(try parse("-A -t 10.0.0.100:80 -p=300") == .addService(p(300)))
        #expect(try parse("-A -t 10.0.0.100:80 --persistent 60") == .addService(p(60)))
        #expect(try parse("-A -t 10.0.0.100:80 --persistent=60") == .addService(p(60)))
        #expect(try parse("-A -t 10.0.0.100:80 --persistent") == .addService(p(360)))
        #expect(try parse("-A -t 10.0.0.100:80 -p -s rr")
                == .addService(Self.service(scheduler: "rr", persistence: Persistence(timeout: 360))))
        #expect(try parse("-Ap -t 10.0.0.100:80") == .addService(p(360)))
        #expect(try parse("-A -t 10.0.0.100:80 -p 2678400") == .addService(p(2_678_400)))
        #expect(try parse("-A -t 10.0.0.100:80 -p -M 255.255.255.0")
                == .addService(Self.service(persistence: Persistence(timeout: 360, netmask: IPv4Address(255, 255, 255, 0)))))
        // A next token not starting with `-` is the timeout, whatever it is.
        expectError("-A -t 10.0.0.100:80 -p rr", "invalid timeout value `rr' specified")
        expectError("-A -t 10.0.0.100:80 -pn", "invalid timeout value `n' specified")
        expectError(["-A", "-t", "10.0.0.100:80", "-p", ""], "invalid timeout value `' specified")
        expectError("-A -t 10.0.0.100:80 --persistent=", "invalid timeout value `' specified")
        expectError("-A -t 10.0.0.100:80 -p 0", "invalid timeout value `0' specified")
        expectError("-A -t 10.0.0.100:80 -p 2678401", "invalid timeout value `2678401' specified")
        // A token starting with `-` is not taken, even a negative number: it is then an option.
        expectError("-A -t 10.0.0.100:80 -p -5", "-5: unknown option", exit: 255, suggestsHelp: true)
    }

    // `--` ends the options; `-` alone is a plain argument.
    @Test func doubleDashAndLoneDash() {
        expectError("-L -- -n", "unexpected argument -n")
        expectError("-L -", "unexpected argument -")
        expectError("-A -- -t 10.0.0.100:80", "unexpected argument -t")
    }

    // popt errors: `TOKEN: reason`, exit 255, with the hint; the token is the whole argument.
    @Test func optionParserErrors() {
        expectError("-A -t 10.0.0.100:80 --bogus", "--bogus: unknown option", exit: 255, suggestsHelp: true)
        expectError("-A -t 10.0.0.100:80 --bogus=1", "--bogus=1: unknown option", exit: 255, suggestsHelp: true)
        expectError("-A -t 10.0.0.100:80 -Q", "-Q: unknown option", exit: 255, suggestsHelp: true)
        expectError("-Lq", "-Lq: unknown option", exit: 255, suggestsHelp: true)
        expectError("-L=1", "-L=1: unknown option", exit: 255, suggestsHelp: true)
        expectError("-C -L==", "-L==: option does not take an argument", exit: 255, suggestsHelp: true)
        expectError("-L --numeric=yes", "--numeric=yes: option does not take an argument", exit: 255, suggestsHelp: true)
        expectError("-A -t", "-t: missing argument", exit: 255, suggestsHelp: true)
        expectError("-A --tcp-service", "--tcp-service: missing argument", exit: 255, suggestsHelp: true)
        expectError("-At", "-At: missing argument", exit: 255, suggestsHelp: true)
        // No abbreviations of long options.
        expectError("-A --tcp 10.0.0.100:80", "--tcp: unknown option", exit: 255, suggestsHelp: true)
        // The first bad thing in argument order wins: a bad value before a bad option...
        expectError("-A -t 10.0.0.300:80 --bogus", "illegal virtual server address[:port] specified")
        // ...and a bad option before a bad value.
        expectError("-A --bogus -t 10.0.0.300:80", "--bogus: unknown option", exit: 255, suggestsHelp: true)
    }

    // An error at the very first option, and a line without a command: ipvsadm prints only
    // the hint (message empty), exit 255.
    @Test func onlyTheHint() throws {
        for line in ["--bogus -A", "-Q", "-L==", "--start-daemon", "-n", "foo", "-t 10.0.0.100:80 -s rr"] {
            expectError(line, "", exit: 255, suggestsHelp: true)
        }
        let bogus = try #require(failure(["--bogus"]))
        #expect(bogus.detail == "--bogus: unknown option")
        #expect(bogus.explanation == "--bogus: unknown option")
        #expect(bogus.standardErrorText(programName: "lvsadm") == "Try `lvsadm -h' or 'lvsadm --help' for more information.\n")
        let none = try #require(failure(["-n"]))
        #expect(none.explanation.hasPrefix("expected a command"))
    }

    // What lvsadm writes to standard error: ipvsadm's message line, and the hint for popt errors.
    @Test func standardErrorText() throws {
        let value = try #require(failure(Self.words("-a -t 10.0.0.100:80 -r 10.0.0.11 -w 70000")))
        #expect(value.standardErrorText(programName: "lvsadm") == "illegal weight specified\n")
        #expect(value.explanation == "illegal weight specified ('70000': expected 0..65535)")
        let popt = try #require(failure(Self.words("-L --frob")))
        #expect(popt.standardErrorText(programName: "/sbin/lvsadm")
                == "--frob: unknown option\nTry `/sbin/lvsadm -h' or '/sbin/lvsadm --help' for more information.\n")
    }

    // -h and -v as the first option act at once, whatever follows; anywhere else they are an
    // invalid option, named by the whole token as popt reports it.
    @Test func helpAndVersionFirst() throws {
        #expect(try parse("-h --bogus") == .help)
        #expect(try parse("-hv") == .help)
        #expect(try parse("-v -A") == .version)
        #expect(try parse("foo --version") == .version)
        expectError("-A -t 10.0.0.100:80 -h", "invalid option `-h'")
        expectError("-Lh", "invalid option `-Lh'")
        expectError("-L --version", "invalid option `--version'")
        // Without a command they do not make one: only the hint, as ipvsadm.
        expectError("-n -h", "", exit: 255, suggestsHelp: true)
    }

    // MARK: - One of each

    @Test func multipleCommandsAndOptions() {
        expectError("-A -a -t 10.0.0.100:80", "multiple commands specified")
        expectError("-L -C", "multiple commands specified")
        expectError("-Aa -t 10.0.0.100:80", "multiple commands specified")
        expectError("-A -t 10.0.0.100:80 -u 10.0.0.100:80", "multiple 'service-address' options specified")
        expectError("-A -t 10.0.0.100:80 -f 1", "multiple 'service-address' options specified")
        expectError("-a -t 10.0.0.100:80 -r 10.0.0.11 -g -m", "multiple 'forwarding-method' options specified")
        expectError("-a -t 10.0.0.100:80 -r 10.0.0.11 -g -g", "multiple 'forwarding-method' options specified")
        expectError("-a -t 10.0.0.100:80 -r 10.0.0.11 -w 1 -w 2", "multiple 'weight' options specified")
        expectError("-A -t 10.0.0.100:80 -p -p", "multiple 'persistent' options specified")
        expectError("-Lnn", "multiple 'numeric' options specified")
        expectError("-A -t 10.0.0.100:80 -b flag-1 -b flag-2", "multiple 'sched-flags' options specified")
        // The repeat is reported before its value is looked at.
        expectError("-a -t 10.0.0.100:80 -r 10.0.0.11 -w 1 -w bad", "multiple 'weight' options specified")
    }

    // MARK: - The option/command matrix

    @Test func requiredOptions() {
        expectError("-A", "You need to supply the 'service-address' option for the 'add-service' command")
        expectError("-E -s rr", "You need to supply the 'service-address' option for the 'edit-service' command")
        expectError("-D", "You need to supply the 'service-address' option for the 'delete-service' command")
        expectError("-a -r 10.0.0.11", "You need to supply the 'service-address' option for the 'add-server' command")
        expectError("-a -t 10.0.0.100:80", "You need to supply the 'real-server' option for the 'add-server' command")
        expectError("-e -t 10.0.0.100:80 -w 2", "You need to supply the 'real-server' option for the 'edit-server' command")
        expectError("-d -t 10.0.0.100:80", "You need to supply the 'real-server' option for the 'delete-server' command")
        // lvsd's logs and rules-file errors say what to add.
        #expect(failure(["-A"])?.explanation
                == "You need to supply the 'service-address' option for the 'add-service' command (use -t VIP:PORT or -u VIP:PORT)")
        #expect(failure(["-a", "-t", "10.0.0.100:80"])?.explanation
                == "You need to supply the 'real-server' option for the 'add-server' command (use -r RIP[:PORT])")
    }

    @Test func illegalOptions() {
        expectError("-A -t 10.0.0.100:80 -w 2", "Illegal 'weight' option with the 'add-service' command")
        expectError("-A -t 10.0.0.100:80 -r 10.0.0.11", "Illegal 'real-server' option with the 'add-service' command")
        expectError("-E -t 10.0.0.100:80 -g", "Illegal 'forwarding-method' option with the 'edit-service' command")
        expectError("-D -t 10.0.0.100:80 -s rr", "Illegal 'scheduler' option with the 'delete-service' command")
        expectError("-C -n", "Illegal 'numeric' option with the 'flush' command")
        expectError("--set 1 2 3 -n", "Illegal 'numeric' option with the 'set' command")
        expectError("-R -n", "Illegal 'numeric' option with the 'restore' command")
        expectError("-S -c", "Illegal 'connection' option with the 'save' command")
        expectError("-Z -n", "Illegal 'numeric' option with the 'zero' command")
        expectError("-L -s rr", "Illegal 'scheduler' option with the 'list' command")
        expectError("-L -o", "Illegal 'ops' option with the 'list' command")
        expectError("-a -t 10.0.0.100:80 -r 10.0.0.11 -o", "Illegal 'ops' option with the 'add-server' command")
        expectError("-a -t 10.0.0.100:80 -r 10.0.0.11 -p", "Illegal 'persistent' option with the 'add-server' command")
        expectError("-d -t 10.0.0.100:80 -r 10.0.0.11 -w 1", "Illegal 'weight' option with the 'delete-server' command")
        expectError("--stop-daemon master --mcast-interface eth1",
                    "Illegal 'mcast-interface' option with the 'stop-daemon' command")
        expectError("--start-daemon master -n", "Illegal 'numeric' option with the 'start-daemon' command")
        expectError("-L --mcast-ttl 2", "Illegal 'mcast-ttl' option with the 'list' command")
        expectError("-L --tun-type gue", "Illegal 'tun-type' option with the 'list' command")
    }

    // The matrix is read column by column (optnames order), not in argument order, and a
    // missing required column only counts where no earlier column is illegal.
    @Test func matrixOrder() {
        expectError("-A -w 2 -n -t 10.0.0.100:80", "Illegal 'numeric' option with the 'add-service' command")
        expectError("-a -n", "Illegal 'numeric' option with the 'add-server' command")
        expectError("-a -w 2", "You need to supply the 'service-address' option for the 'add-server' command")
        expectError("-d -w 2 -t 10.0.0.100:80", "You need to supply the 'real-server' option for the 'delete-server' command")
    }

    // -c, a service, --timeout and --daemon exclude each other in -L; the later column is
    // named against the first one.
    @Test func listExclusiveOptions() {
        expectError("-L -t 10.0.0.100:80 -c", "The option 'service-address' conflicts with the 'connection' option in the 'list' command")
        expectError("-L --daemon --timeout", "The option 'daemon' conflicts with the 'timeout' option in the 'list' command")
        expectError("-L --daemon -t 10.0.0.100:80 -c", "The option 'service-address' conflicts with the 'connection' option in the 'list' command")
        expectError("-L -t 10.0.0.100:80 --timeout", "The option 'timeout' conflicts with the 'service-address' option in the 'list' command")
    }

    // The runtime check after the matrix.
    @Test func listOptionConflicts() throws {
        for line in ["-L -c --stats", "-L --timeout --rate", "-L --daemon --thresholds", "-L --timeout --persistent-conn",
                     "-L --daemon --persistent-conn", "-L -c --rate"] {
            expectError(line, "options conflicts in the list command")
        }
        var options = ListOptions()
        options.connections = true
        options.persistentConnections = true
        #expect(try parse("-L -c --persistent-conn") == .list(options))
    }

    // Every list option lands in ListOptions; --sort does nothing; --syncid is allowed and ignored.
    @Test func listOptions() throws {
        var options = ListOptions()
        options.numeric = true
        options.stats = true
        options.rate = true
        options.exact = true
        options.sort = false
        options.service = Self.tcp80
        #expect(try parse("-L -n --stats --rate --exact --nosort -t 10.0.0.100:80") == .list(options))
        #expect(try parse("-L -X --sort -n --stats --rate --nosort -t 10.0.0.100:80 --syncid 3") == .list(options))
        var other = ListOptions()
        other.thresholds = true
        other.persistentConnections = true
        other.tunnelInfo = true
        #expect(try parse("--list --thresholds --persistent-conn --tun-info") == .list(other))
        var timeout = ListOptions()
        timeout.timeout = true
        #expect(try parse("-L --timeout") == .list(timeout))
        var daemon = ListOptions()
        daemon.daemon = true
        daemon.numeric = true
        #expect(try parse("-Ln --daemon") == .list(daemon))
    }

    // MARK: - Values

    @Test func setTimeouts() throws {
        #expect(try parse("--set 0 0 0") == .setTimeouts(TimeoutSetting(tcp: 0, tcpFin: 0, udp: 0)))
        #expect(try parse("--set 2678400 1 +2") == .setTimeouts(TimeoutSetting(tcp: 2_678_400, tcpFin: 1, udp: 2)))
        #expect(try parse("1 --set 2 3") == .setTimeouts(TimeoutSetting(tcp: 1, tcpFin: 2, udp: 3)))
        expectError("--set", "--set option requires 3 timeout values")
        expectError("--set 1 2", "--set option requires 3 timeout values")
        expectError("--set 1 2 3 4", "unexpected argument 4")
        expectError("--set a 2 3", "invalid timeout value `a' specified")
        expectError("--set 1 2 2678401", "invalid timeout value `2678401' specified")
        expectError("--set 1 -2 3", "-2: unknown option", exit: 255, suggestsHelp: true)
    }

    @Test func unexpectedArguments() {
        expectError("-A -t 10.0.0.100:80 extra", "unexpected argument extra")
        expectError("-C foo bar", "unexpected argument foo")
        expectError("foo -L", "unexpected argument foo")
        // Stray arguments are found before the matrix is checked.
        expectError("-A extra", "unexpected argument extra")
    }

    // strtol-based numbers: a sign, leading blanks and leading zeros are fine, trailing junk is not.
    @Test func weights() throws {
        for (text, weight) in [("0", 0), ("65535", 65535), ("+5", 5), ("007", 7), ("-0", 0), (" 5", 5)] as [(String, Int32)] {
            #expect(try parser.parse(["-a", "-t", "10.0.0.100:80", "-r", "10.0.0.11", "-w", text])
                    == .addServer(Self.tcp80, Self.server(weight: weight)), "\(text)")
        }
        for text in ["65536", "-1", "5x", "1.5", "", "0x10", "99999999999999999999"] {
            expectError(["-a", "-t", "10.0.0.100:80", "-r", "10.0.0.11", "-w", text], "illegal weight specified")
        }
    }

    @Test func thresholds() throws {
        #expect(try parse("-a -t 10.0.0.100:80 -r 10.0.0.11 -x 2147483647 -y 2147483647")
                == .addServer(Self.tcp80, Self.server(upper: 2_147_483_647, lower: 2_147_483_647)))
        expectError("-a -t 10.0.0.100:80 -r 10.0.0.11 -x 2147483648", "illegal u_threshold specified")
        expectError("-a -t 10.0.0.100:80 -r 10.0.0.11 -y -1", "illegal l_threshold specified")
        // l > u is the director's ERANGE, not a parse error.
        #expect(try parse("-a -t 10.0.0.100:80 -r 10.0.0.11 -x 1 -y 2") == .addServer(Self.tcp80, Self.server(upper: 1, lower: 2)))
    }

    // Addresses: dotted quads, host names through the resolver, service names for the port.
    @Test func addressesAndPorts() throws {
        #expect(try parse("-A -t lb.example.com:http") == .addService(Self.service()))
        #expect(try parse("-A -t 10.0.0.100:www") == .addService(Self.service()))
        #expect(try parse("-A -u 10.0.0.100:domain") == .addService(Self.service(Self.udp53)))
        #expect(try parse("-a -t 10.0.0.100:80 -r rs1:http") == .addServer(Self.tcp80, Self.server()))
        #expect(try parse("-A -t 10.0.0.100:65535")
                == .addService(Self.service(VirtualServiceKey(transport: .tcp, address: Self.vip, port: 65535))))
        for bad in ["10.0.0.300:80", "10.0.0:80", "10.0.0.100:", "10.0.0.100:80:1", "10.0.0.100:65536", "80", "",
                    "nosuchhost:80", "10.0.0.100:gopher", "10.0.0.100:-1", ":80", "[::1", "[::1]80", "[::1]:"] {
            expectError(["-A", "-t", bad], "illegal virtual server address[:port] specified")
        }
        // https is TCP only here, and a port name needs the protocol of a -t/-u read before it.
        expectError("-A -u 10.0.0.100:https", "illegal virtual server address[:port] specified")
        expectError("-a -r 10.0.0.11:http -t 10.0.0.100:80", "illegal real server address[:port] specified")
        for bad in ["10.0.0.256", "167772171", "nosuch", "10.0.0.11:abc", "10.0.0.11:70000"] {
            expectError(["-a", "-t", "10.0.0.100:80", "-r", bad], "illegal real server address[:port] specified")
        }
    }

    // `[a.b.c.d]:port` is the IPv4 address with the port ignored (ipvsadm only reads the port
    // after brackets for IPv6), so a service named that way has port 0.
    @Test func bracketedIPv4IgnoresThePort() throws {
        expectError("-A -t [10.0.0.100]:80", "Zero port specified for non-persistent service")
        #expect(try parse("-A -t [10.0.0.100]:80 -p")
                == .addService(Self.service(VirtualServiceKey(transport: .tcp, address: Self.vip, port: 0),
                                            persistence: Persistence())))
    }

    @Test func netmask() throws {
        let mask24 = IPv4Address(255, 255, 255, 0)
        #expect(try parse("-A -t 10.0.0.100:80 -p 60 -M 255.255.255.0")
                == .addService(Self.service(persistence: Persistence(timeout: 60, netmask: mask24))))
        #expect(try parse("-A -t 10.0.0.100:80 -M mask24 --persistent")
                == .addService(Self.service(persistence: Persistence(timeout: 360, netmask: mask24))))
        // Without -p the mask is accepted and has no effect.
        #expect(try parse("-A -t 10.0.0.100:80 -M 255.255.0.0") == .addService(Self.service()))
        expectError("-A -t 10.0.0.100:80 -p -M 255.255.0", "illegal virtual server persistent mask specified")
        expectError("-A -t 10.0.0.100:80 -p -M nosuch", "illegal virtual server persistent mask specified")
    }

    // §5.3: a port-0 service must be persistent (not a firewall mark, which has no port).
    @Test func zeroPort() throws {
        expectError("-A -t 10.0.0.100", "Zero port specified for non-persistent service")
        expectError("-A -t 10.0.0.100:0", "Zero port specified for non-persistent service")
        expectError("-E -u 10.0.0.100:0 -s rr", "Zero port specified for non-persistent service")
        #expect(try parse("-A -t 10.0.0.100 -p")
                == .addService(Self.service(VirtualServiceKey(transport: .tcp, address: Self.vip, port: 0),
                                            persistence: Persistence())))
        // Other commands may name a port-0 service.
        #expect(try parse("-D -t 10.0.0.100") == .deleteService(VirtualServiceKey(transport: .tcp, address: Self.vip, port: 0)))
    }

    @Test func onePacketScheduling() throws {
        #expect(try parse("-A -u 10.0.0.100:53 -o") == .addService(Self.service(Self.udp53, ops: true)))
        #expect(try parse("-A -u 10.0.0.100:53 --ops -s rr") == .addService(Self.service(Self.udp53, scheduler: "rr", ops: true)))
        expectError("-A -t 10.0.0.100:80 -o", "One-Packet Scheduling is only for UDP virtual services")
        expectError("-E -t 10.0.0.100:80 --ops", "One-Packet Scheduling is only for UDP virtual services")
    }

    // Scheduler names are the director's business (ipvsadm passes any name to the kernel), cut
    // to 15 bytes as ipvsadm's buffer does; an empty name is the default.
    @Test func schedulerNames() throws {
        #expect(try parse("-A -t 10.0.0.100:80 -s nosuch") == .addService(Self.service(scheduler: "nosuch")))
        #expect(try parse("-A -t 10.0.0.100:80 -s abcdefghijklmnopqrst") == .addService(Self.service(scheduler: "abcdefghijklmno")))
        #expect(try parser.parse(["-A", "-t", "10.0.0.100:80", "-s", ""]) == .addService(Self.service(scheduler: "wlc")))
    }

    // -b is read after every option (so -s may follow it), before the matrix.
    @Test func schedulerFlags() throws {
        #expect(try parse("-A -t 10.0.0.100:80 -b sh-fallback,sh-port -s sh")
                == .addService(Self.service(scheduler: "sh", flags: [.fallback, .port])))
        #expect(try parse("-A -t 10.0.0.100:80 -s mh --sched-flags mh-port") == .addService(Self.service(scheduler: "mh", flags: .port)))
        #expect(try parse("-A -t 10.0.0.100:80 -b flag-1,,flag-3") == .addService(Self.service(flags: [.flag1, .flag3])))
        #expect(try parser.parse(["-A", "-t", "10.0.0.100:80", "-b", ""]) == .addService(Self.service()))
        expectError("-A -t 10.0.0.100:80 -b sh-port", "incompatible scheduler flag `sh-port'")
        expectError("-A -t 10.0.0.100:80 -s sh -b mh-fallback", "incompatible scheduler flag `mh-fallback'")
        expectError("-A -t 10.0.0.100:80 -b bogus", "invalid scheduler flag `bogus'")
        expectError("-A -t 10.0.0.100:80 -b ,", "invalid scheduler flag `,'")
        // Parsed before the matrix: a bad flag on -a is reported as a bad flag.
        expectError("-a -t 10.0.0.100:80 -r 10.0.0.11 -b sh-port", "incompatible scheduler flag `sh-port'")
        expectError("-a -t 10.0.0.100:80 -r 10.0.0.11 -b flag-1", "Illegal 'sched-flags' option with the 'add-server' command")
    }

    // MARK: - Sync daemon

    @Test func syncDaemon() throws {
        var master = SyncDaemonOptions(role: .master)
        master.interface = "eth0"
        #expect(try parse("--start-daemon master") == .startDaemon(master))
        var backup = SyncDaemonOptions(role: .backup)
        backup.interface = "eth1"
        backup.syncID = 7
        backup.maximumLength = 1400
        backup.group = IPv4Address(224, 0, 0, 81)
        backup.port = 8848
        backup.ttl = 2
        #expect(try parse("--start-daemon=backup --mcast-interface eth1 --syncid 7 --sync-maxlen 1400 --mcast-group 224.0.0.81 --mcast-port 8848 --mcast-ttl 2")
                == .startDaemon(backup))
        var stop = SyncDaemonOptions(role: .master)
        stop.syncID = 3
        #expect(try parse("--stop-daemon master --syncid 3") == .stopDaemon(stop))
        expectError("--start-daemon primary", "illegal start-daemon parameter specified")
        expectError("--stop-daemon primary", "illegal start_daemon specified")
        expectError("--start-daemon master --syncid 256", "illegal syncid specified")
        expectError("--start-daemon master --mcast-group 10.0.0.1", "invalid IPv4 mcast-group `10.0.0.1'")
        expectError("--start-daemon master --mcast-group 224.0.0.081", "invalid IPv4 mcast-group `224.0.0.081'")
        expectError("--start-daemon master --mcast-group fe80::1", "invalid IPv6 mcast-group `fe80::1'")
        expectError("--start-daemon master --mcast-group ff02::1", "IPv6 is not supported: SwiftLVS forwards IPv4 only")
        expectError("--start-daemon master --mcast-port 0", "illegal mcast-port specified")
        expectError("--start-daemon master --mcast-ttl 256", "illegal mcast-ttl specified")
        expectError("--start-daemon master --sync-maxlen 65508", "illegal sync-maxlen specified")
    }

    // MARK: - Firewall-mark services

    // `-f N` names a service by its mark for every command that takes a service; the key is
    // ipvsadm's (TCP, no address, port 0). A real server keeps the port it is given (0 without
    // one): ipvsadm forces the service's port only on services that have one.
    @Test func firewallMarks() throws {
        let fwm1 = VirtualServiceKey.firewallMark(1)
        #expect(try parse("-A -f 1 -s rr") == .addService(Self.service(fwm1, scheduler: "rr")))
        #expect(try parse("-A -f 4294967295") == .addService(Self.service(.firewallMark(4_294_967_295))))
        #expect(try parse("--add-service --fwmark-service 1 -s rr -p 300")
                == .addService(Self.service(fwm1, scheduler: "rr", persistence: Persistence(timeout: 300))))
        #expect(try parse("-E -f 1 -s sh -b sh-port -o") == .editService(Self.service(fwm1, scheduler: "sh", flags: [.port], ops: true)))
        #expect(try parse("-D -f 1") == .deleteService(fwm1))
        #expect(try parse("-a -f 1 -r 10.0.0.11") == .addServer(fwm1, Self.server(port: 0)))
        #expect(try parse("-a -f 1 -r 10.0.0.11:8080 -g -w 3") == .addServer(fwm1, Self.server(port: 8080, weight: 3)))
        #expect(try parse("-a -f 1 -r rs1:https") == .addServer(fwm1, Self.server(port: 443)))
        #expect(try parse("-e -f 1 -r 10.0.0.11 -w 0") == .editServer(fwm1, Self.server(port: 0, weight: 0)))
        #expect(try parse("-d -f 1 -r 10.0.0.11") == .deleteServer(fwm1, address: Self.rip, port: 0))
        #expect(try parse("-Z -f 1") == .zero(fwm1))
        var one = ListOptions()
        one.numeric = true
        one.service = fwm1
        #expect(try parse("-L -n -f 1") == .list(one))
        #expect(try parse("-Ln --fwmark-service=1") == .list(one))
        expectError("-A -f 1 -6", "IPv6 is not supported: SwiftLVS forwards IPv4 only")
        expectError("-a -f 1 -6 -r 10.0.0.11", "Different address family is allowed only for tunneling servers")
        for bad in ["0", "abc", "4294967296", "-1", "1x", ""] {
            expectError(["-A", "-f", bad], "invalid fwmark value `\(bad)' specified")
        }
        // ipvsadm's checks come first: -6 needs -f before it, one service per line.
        expectError("-A -t 10.0.0.100:80 -6", "-6 used before -f")
        expectError("-A -6 -f 1", "-6 used before -f")
        expectError("-A -f 1 -w 1", "Illegal 'weight' option with the 'add-service' command")
        expectError("-A -f 1 -t 10.0.0.100:80", "multiple 'service-address' options specified")
        expectError("-a -f 1", "You need to supply the 'real-server' option for the 'add-server' command")
        expectError("-a -f 1 -r 10.0.0.11 -m", "'-m' (masquerading, NAT) is not supported: SwiftLVS forwards by direct routing; use -g")
    }

    // MARK: - What SwiftLVS refuses (after ipvsadm's own checks)

    @Test func ipv6() {
        let refusal = "IPv6 is not supported: SwiftLVS forwards IPv4 only"
        expectError("-A -t [2001:db8::1]:80", refusal)
        expectError("-A -t ::1 -p", refusal)
        expectError("-A -t ::1", "Zero port specified for non-persistent service")
        expectError("-A -u [::ffff:10.0.0.1]:53", refusal)
        expectError("-D -t [::1]:80", refusal)
        // ipvsadm reads an IPv6 service's -M as a prefix length.
        expectError("-A -t [::1]:80 -p -M 129", "illegal ipv6 netmask specified")
        expectError("-A -t [::1]:80 -p -M 64", refusal)
        // An IPv6 server for an IPv4 service: ipvsadm's own check.
        expectError("-a -t 10.0.0.100:80 -r [::1]:80", "Different address family is allowed only for tunneling servers")
        expectError("-a -t 10.0.0.100:80 -r ::1", "Different address family is allowed only for tunneling servers")
    }

    @Test func sctpAndPersistenceEngines() {
        expectError("-A --sctp-service 10.0.0.100:80", "SCTP services are not supported; use -t (TCP) or -u (UDP)")
        expectError("-A --sctp-service 10.0.0.100:http", "illegal virtual server address[:port] specified")
        expectError("-A -u 10.0.0.100:5060 -p --pe sip", "persistence engines (--pe) are not supported: SwiftLVS has no SIP engine")
        expectError("-a -t 10.0.0.100:80 -r 10.0.0.11 --pe sip", "Illegal 'pe' option with the 'add-server' command")
    }

    @Test func forwardingMethodsOtherThanDirectRouting() {
        expectError("-a -t 10.0.0.100:80 -r 10.0.0.11 -m",
                    "'-m' (masquerading, NAT) is not supported: SwiftLVS forwards by direct routing; use -g")
        expectError("-e -t 10.0.0.100:80 -r 10.0.0.11 --masquerading -w 2",
                    "'-m' (masquerading, NAT) is not supported: SwiftLVS forwards by direct routing; use -g")
        expectError("-a -t 10.0.0.100:80 -r 10.0.0.11 --ipip",
                    "'-i' (IP-in-IP tunnelling) is not supported: SwiftLVS forwards by direct routing; use -g")
        expectError("-a -t 10.0.0.100:80 -r 10.0.0.11 -i --tun-type gue --tun-port 6080 --tun-csum",
                    "'-i' (IP-in-IP tunnelling) is not supported: SwiftLVS forwards by direct routing; use -g")
        // ipvsadm's tunnel checks come first.
        expectError("-a -t 10.0.0.100:80 -r 10.0.0.11 --tun-type gue", "Tunnel options conflict with forward method")
        expectError("-a -t 10.0.0.100:80 -r 10.0.0.11 -g --tun-nocsum", "Tunnel options conflict with forward method")
        expectError("-a -t 10.0.0.100:80 -r 10.0.0.11 -i --tun-type gue",
                    "You need to supply the 'tun-port' option for the 'gue' tunnel type")
        expectError("-a -t 10.0.0.100:80 -r 10.0.0.11 -i --tun-type gre --tun-port 1",
                    "Illegal 'tun-port' option with the 'gre' tunnel type")
        expectError("-a -t 10.0.0.100:80 -r 10.0.0.11 -i --tun-csum", "Illegal 'tun-csum' option with the 'ipip' tunnel type")
        expectError("-a -t 10.0.0.100:80 -r 10.0.0.11 -i --tun-type gue --tun-port 6080 --tun-csum --tun-nocsum",
                    "The option 'tun-csum' conflicts with the 'tun-nocsum' option in the 'gue' tunnel type")
        expectError("-a -t 10.0.0.100:80 -r 10.0.0.11 -i --tun-type vxlan", "illegal tunnel type specified")
        expectError("-a -t 10.0.0.100:80 -r 10.0.0.11 -i --tun-type gue --tun-port 0", "illegal tunnel port specified")
    }
}
