import LVSCore

/// ipvsadm 1.31's command-line grammar, so that `lvsadm` (and `-R` streams, and lvsd's rules
/// file) take every line existing scripts give ipvsadm, with ipvsadm's defaults, quirks, error
/// texts and exit statuses (IPVS-SEMANTICS.md §5).
///
/// A line is read in three steps, each in ipvsadm's order, so that a bad line gets the error
/// ipvsadm would print first:
/// 1. popt's grammar (``PoptScanner``): unknown options, missing values (exit 255 with the
///    "Try ... -h" hint);
/// 2. each option's value as it is met (``IpvsadmLine``), then `--set`'s values, stray
///    arguments and `-b`;
/// 3. the option/command matrix and the per-command rules (zero port, `-o`, list conflicts,
///    the real server's port forced to the service's for direct routing).
///
/// Only then is a line ipvsadm would accept refused for what SwiftLVS does not do (IPv6, SCTP,
/// NAT, tunnels, persistence engines), with a message that says so (exit 2). Firewall-mark
/// services (`-f N`) are taken; what gives a flow its mark is lvsd's `--fwmark-rules` file.
///
/// Two deliberate departures, both only on lines ipvsadm refuses anyway: ipvsadm takes its
/// command from the first option only (`-t VIP:80 -A` is a usage error there), while here the
/// command may stand anywhere and a second one is "multiple commands specified", as the
/// specification words it; and a popt error after the first option prints the hint under
/// popt's message (ipvsadm prints the message alone there; at the first option, only the hint,
/// as here).
///
/// Scheduler names are not checked here: as in ipvsadm, an unknown name is the director's
/// "Scheduler or persistence engine not found".
public struct IpvsadmCommandLine: Sendable {
    /// Port names (`:http`), looked up for the service's protocol.
    public var serviceNames: ServiceNames
    /// Host names in `-t`/`-u`/`-r`/`-M`, where the text is not a dotted-quad address.
    public var resolveHost: @Sendable (String) -> IPv4Address?

    public init(serviceNames: ServiceNames = .system(),
                resolveHost: @escaping @Sendable (String) -> IPv4Address? = HostResolver.resolveIPv4) {
        self.serviceNames = serviceNames
        self.resolveHost = resolveHost
    }

    /// Reads one command line (without the program name). No arguments at all is a listing
    /// with names resolved, as ipvsadm with no arguments is.
    public func parse(_ arguments: [String]) throws(IpvsadmError) -> IpvsadmCommand {
        guard !arguments.isEmpty else { return .list(ListOptions()) }
        let (items, failure) = PoptScanner.scan(arguments)
        var options: [(option: IpvsadmOption, value: String?, token: String)] = []
        var line = IpvsadmLine()
        for (item, token) in items {
            switch item {
            case .option(let option, let value): options.append((option, value, token))
            case .argument(let word): line.arguments.append(word)
            }
        }
        // ipvsadm reads the first option on its own: -h and -v act at once, whatever follows,
        // and a popt error there prints only the hint.
        guard let first = options.first else {
            if let failure {
                throw IpvsadmError("", exitCode: 255, suggestsHelp: true, detail: failure.error.message)
            }
            throw Self.noCommand
        }
        if first.option == .help { return .help }
        if first.option == .version { return .version }
        guard options.contains(where: { $0.option.command != nil && $0.option != .help && $0.option != .version }) else {
            throw Self.noCommand
        }
        for (option, value, token) in options {
            // Anywhere but first, -h and -v are options ipvsadm has no use for.
            if option == .help || option == .version {
                throw IpvsadmError("invalid option `\(token)'")
            }
            try line.apply(option, value: value, using: self)
        }
        if let failure { throw failure.error }
        return try finish(&line)
    }

    /// A line with options but no command: ipvsadm prints only the hint.
    static let noCommand = IpvsadmError(
        "", exitCode: 255, suggestsHelp: true,
        detail: "expected a command: -A, -E, -D, -C, -R, -S, -a, -e, -d, -L, -Z, --set, --start-daemon, --stop-daemon, -h or -v")

    /// The checks ipvsadm makes once every option is read, then the command.
    func finish(_ line: inout IpvsadmLine) throws(IpvsadmError) -> IpvsadmCommand {
        guard let command = line.command else { throw Self.noCommand }
        if command == .setTimeouts {
            guard line.arguments.count >= 3 else { throw IpvsadmError("--set option requires 3 timeout values") }
            var values: [UInt32] = []
            for text in line.arguments.prefix(3) {
                guard let value = IpvsadmValues.number(text, in: 0...IpvsadmLine.maximumTimeout) else {
                    throw IpvsadmError("invalid timeout value `\(text)' specified", detail: "expected 0..2678400 seconds")
                }
                values.append(UInt32(value))
            }
            line.arguments.removeFirst(3)
            line.timeouts = TimeoutSetting(tcp: values[0], tcpFin: values[1], udp: values[2])
        }
        if let stray = line.arguments.first {
            throw IpvsadmError("unexpected argument \(stray)")
        }
        try line.parseSchedulerFlags()
        try command.check(line.columns)
        try checkCommandRules(command, &line)
        try refuseUnsupported(line)
        return try build(command, line)
    }

    /// ipvsadm's `process_options` rules after the matrix.
    func checkCommandRules(_ command: IpvsadmCommandKind, _ line: inout IpvsadmLine) throws(IpvsadmError) {
        switch command {
        case .addService, .editService:
            if line.firewallMark == 0 && line.servicePort == 0 && line.persistenceTimeout == nil {
                throw IpvsadmError("Zero port specified for non-persistent service",
                                   detail: "give the service a port, or make it persistent with -p")
            }
            if line.onePacket && line.firewallMark == 0 && line.serviceProtocol != .udp {
                throw IpvsadmError("One-Packet Scheduling is only for UDP virtual services")
            }
            if line.scheduler.isEmpty { line.scheduler = "wlc" }
        case .startDaemon:
            if line.multicastInterface.isEmpty { line.multicastInterface = "eth0" }
        case .addServer, .editServer:
            // Direct routing and tunnelling cannot change the port: the server gets the
            // service's, whatever -r said (not for firewall-mark services, which have none).
            if line.firewallMark == 0 && line.forwarding != .masquerading {
                line.serverPort = line.servicePort
            }
            if (line.serverHost == .ipv6) != line.serviceIsIPv6 && line.forwarding != .ipip {
                throw IpvsadmError("Different address family is allowed only for tunneling servers")
            }
            let tunnelOptions = IpvsadmOptionColumn.tunnelOptions.filter(line.columns.contains)
            if !tunnelOptions.isEmpty && line.forwarding != .ipip {
                throw IpvsadmError("Tunnel options conflict with forward method")
            }
            try checkTunnelOptions(line)
        case .list:
            let c = line.columns
            let modes = c.contains(.connection) || c.contains(.timeout) || c.contains(.daemon)
            let formats = c.contains(.stats) || c.contains(.rate) || c.contains(.thresholds)
            let shortModes = c.contains(.timeout) || c.contains(.daemon)
            if (modes && formats) || (shortModes && c.contains(.persistentConnections)) {
                throw IpvsadmError("options conflicts in the list command")
            }
        case .deleteService, .flush, .deleteServer, .setTimeouts, .stopDaemon, .restore, .save, .zero, .help,
             .version:
            break
        }
    }

    /// ipvsadm's `tunnel_opt_check`: GUE needs a port and takes one checksum option, GRE takes
    /// no port and one of `--tun-nocsum`/`--tun-csum`, IPIP takes none.
    func checkTunnelOptions(_ line: IpvsadmLine) throws(IpvsadmError) {
        let name: String
        let rules: [(IpvsadmOptionColumn, IpvsadmCommandKind.Requirement)]
        switch line.tunnelType {
        case .ipip:
            name = "ipip"
            rules = [(.tunnelPort, .illegal), (.tunnelNoChecksum, .illegal), (.tunnelChecksum, .illegal),
                     (.tunnelRemoteChecksum, .illegal)]
        case .gue:
            name = "gue"
            rules = [(.tunnelPort, .required), (.tunnelNoChecksum, .exclusive), (.tunnelChecksum, .exclusive),
                     (.tunnelRemoteChecksum, .exclusive)]
        case .gre:
            name = "gre"
            rules = [(.tunnelPort, .illegal), (.tunnelNoChecksum, .exclusive), (.tunnelChecksum, .exclusive),
                     (.tunnelRemoteChecksum, .illegal)]
        }
        var firstExclusive: IpvsadmOptionColumn?
        for (column, requirement) in rules {
            guard line.columns.contains(column) else {
                if requirement == .required {
                    throw IpvsadmError("You need to supply the '\(column.name)' option for the '\(name)' tunnel type")
                }
                continue
            }
            switch requirement {
            case .illegal:
                throw IpvsadmError("Illegal '\(column.name)' option with the '\(name)' tunnel type")
            case .exclusive:
                if let first = firstExclusive {
                    throw IpvsadmError(
                        "The option '\(column.name)' conflicts with the '\(first.name)' option in the '\(name)' tunnel type")
                }
                firstExclusive = column
            case .required, .optional:
                break
            }
        }
    }

    /// A line ipvsadm accepts that asks for something SwiftLVS does not do.
    func refuseUnsupported(_ line: IpvsadmLine) throws(IpvsadmError) {
        if line.serviceProtocol == .sctp && line.firewallMark == 0 {
            throw IpvsadmError("SCTP services are not supported; use -t (TCP) or -u (UDP)")
        }
        if line.serviceIsIPv6 || line.serverHost == .ipv6 || line.multicastGroupIsIPv6 {
            throw IpvsadmError("IPv6 is not supported: SwiftLVS forwards IPv4 only")
        }
        if line.persistenceEngine != nil {
            throw IpvsadmError("persistence engines (--pe) are not supported: SwiftLVS has no SIP engine")
        }
        switch line.forwarding {
        case .gatewaying:
            break
        case .masquerading:
            throw IpvsadmError("'-m' (masquerading, NAT) is not supported: SwiftLVS forwards by direct routing; use -g")
        case .ipip:
            throw IpvsadmError("'-i' (IP-in-IP tunnelling) is not supported: SwiftLVS forwards by direct routing; use -g")
        }
    }

    /// The command, from a line that passed every check.
    func build(_ command: IpvsadmCommandKind, _ line: IpvsadmLine) throws(IpvsadmError) -> IpvsadmCommand {
        let key = serviceKey(line)
        switch command {
        case .addService, .editService:
            guard let key else { throw Self.internalInconsistency }
            let service = VirtualServiceConfig(
                key: key, scheduler: line.scheduler, schedulerFlags: line.schedulerFlags,
                persistence: line.persistenceTimeout.map { Persistence(timeout: $0, netmask: line.netmask) },
                onePacketScheduling: line.onePacket)
            return command == .addService ? .addService(service) : .editService(service)
        case .deleteService:
            guard let key else { throw Self.internalInconsistency }
            return .deleteService(key)
        case .flush:
            return .clear
        case .addServer, .editServer:
            guard let key, case .ipv4(let address)? = line.serverHost else { throw Self.internalInconsistency }
            let server = RealServerConfig(address: address, port: line.serverPort, weight: line.weight,
                                          upperThreshold: line.upperThreshold, lowerThreshold: line.lowerThreshold)
            return command == .addServer ? .addServer(key, server) : .editServer(key, server)
        case .deleteServer:
            guard let key, case .ipv4(let address)? = line.serverHost else { throw Self.internalInconsistency }
            return .deleteServer(key, address: address, port: line.serverPort)
        case .zero:
            return .zero(key)
        case .setTimeouts:
            guard let timeouts = line.timeouts else { throw Self.internalInconsistency }
            return .setTimeouts(timeouts)
        case .list:
            var options = ListOptions()
            let c = line.columns
            options.numeric = c.contains(.numeric)
            options.connections = c.contains(.connection)
            options.timeout = c.contains(.timeout)
            options.daemon = c.contains(.daemon)
            options.stats = c.contains(.stats)
            options.rate = c.contains(.rate)
            options.thresholds = c.contains(.thresholds)
            options.persistentConnections = c.contains(.persistentConnections)
            options.tunnelInfo = c.contains(.tunnelInfo)
            options.sort = !c.contains(.noSort)
            options.exact = c.contains(.exact)
            options.service = key
            return .list(options)
        case .save:
            return .save(numeric: line.columns.contains(.numeric))
        case .restore:
            return .restore
        case .startDaemon, .stopDaemon:
            guard let role = line.daemonRole else { throw Self.internalInconsistency }
            var options = SyncDaemonOptions(role: role)
            options.syncID = line.syncID
            if command == .startDaemon {
                options.interface = line.multicastInterface
                options.maximumLength = line.syncMaxLength
                options.group = line.multicastGroup
                options.port = line.multicastPort
                options.ttl = line.multicastTTL
            }
            return command == .startDaemon ? .startDaemon(options) : .stopDaemon(options)
        case .help:
            return .help
        case .version:
            return .version
        }
    }

    /// The service a line names, nil when it names none.
    func serviceKey(_ line: IpvsadmLine) -> VirtualServiceKey? {
        if line.firewallMark != 0 { return .firewallMark(line.firewallMark) }
        guard case .ipv4(let address)? = line.serviceHost, let transport = line.serviceProtocol?.transport else {
            return nil
        }
        return VirtualServiceKey(transport: transport, address: address, port: line.servicePort)
    }

    /// Cannot happen after the matrix check; thrown rather than trapped so that a bug here is
    /// an error message, not a crash of the daemon reading a rules file.
    static let internalInconsistency = IpvsadmError("internal error: the command line was checked but is incomplete")

    /// ipvsadm's `parse_service`: `host[:port]` or `[ipv6]:port`. The host is a dotted quad,
    /// an IPv6 literal, or a name for the resolver; an all-digit text is refused before anything
    /// else. The port is a number 0...65535 or a services(5) name for `transport` (no protocol
    /// yet, or SCTP: names do not resolve). nil port: none given.
    func parseHostPort(_ text: String, transport: TransportProtocol?) -> (IpvsadmLine.Host, UInt16?)? {
        guard !IpvsadmValues.isAllDigits(text) else { return nil }
        var rest = Substring(text)
        var portText: Substring?
        if rest.first == "[" {
            rest = rest.dropFirst()
            guard let close = rest.firstIndex(of: "]") else { return nil }
            let after = rest[rest.index(after: close)...]
            guard after.first == ":" else { return nil }
            rest = rest[..<close]
            // ipvsadm takes the port after the bracket only for an IPv6 address; `[1.2.3.4]:80`
            // is 1.2.3.4 with no port.
            if IpvsadmValues.isIPv6Literal(rest) { portText = after.dropFirst() }
        }
        let host: IpvsadmLine.Host
        if IpvsadmValues.isIPv6Literal(rest) {
            host = .ipv6
        } else {
            if let colon = rest.lastIndex(of: ":") {
                portText = rest[rest.index(after: colon)...]
                rest = rest[..<colon]
            }
            guard let address = resolve(String(rest)) else { return nil }
            host = .ipv4(address)
        }
        guard let portText else { return (host, nil) }
        if let number = IpvsadmValues.number(String(portText), in: 0...65535) {
            return (host, UInt16(number))
        }
        guard let transport, let port = serviceNames.port(named: String(portText), transport: transport) else {
            return nil
        }
        return (host, port)
    }

    /// A plain dotted quad, else the resolver's answer. A quad with a leading zero goes to the
    /// resolver too: ipvsadm's `inet_aton` reads `010` as octal (8), and so does the system's.
    func resolve(_ host: String) -> IPv4Address? {
        if let address = IpvsadmValues.strictDottedQuad(host) { return address }
        guard !host.isEmpty else { return nil }
        return resolveHost(host)
    }
}
