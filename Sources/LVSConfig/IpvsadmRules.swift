import LVSCore

/// Reads rules in the `ipvsadm -S` line format (what `ipvsadm-save` writes and the seed
/// recipes keep in /etc/sysconfig/ipvsadm):
///
///     -A -t 10.0.0.100:80 -s rr
///     -a -t 10.0.0.100:80 -r 10.0.0.11:80 -g -w 1
///
/// As `ipvsadm -R` does, tokens equal to `ipvsadm` are dropped, so `ipvsadm -A ...` lines from a
/// shell script work too; lines starting with `#` are comments. The whole file is checked
/// before anything is used: the first bad line is reported with its number and what was
/// expected there, and no rule from the file is applied.
public struct IpvsadmRules {
    public var serviceNames: ServiceNames

    public init(serviceNames: ServiceNames = .system()) {
        self.serviceNames = serviceNames
    }

    /// Parses the file at `path`.
    public func load(path: String) throws(ConfigurationError) -> DirectorConfiguration {
        let text: String
        do {
            text = try readTextFile(path)
        } catch {
            throw ConfigurationError(file: path, line: 0, message: "cannot read the rules file: \(error.reason)")
        }
        return try parse(text, file: path)
    }

    public func parse(_ text: String, file: String) throws(ConfigurationError) -> DirectorConfiguration {
        var services: [VirtualServiceConfig] = []
        var index: [VirtualServiceKey: Int] = [:]
        var lineNumber = 0
        for rawLine in lines(of: text) {
            lineNumber += 1
            let trimmed = rawLine.drop(while: { $0 == " " || $0 == "\t" })
            if trimmed.first == "#" { continue }
            let tokens = rawLine.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" })
                .map(String.init).filter { $0 != "ipvsadm" }
            if tokens.isEmpty { continue }
            let fail = { (message: String) in ConfigurationError(file: file, line: lineNumber, message: message) }
            let command = try parseCommand(tokens, fail: fail)
            switch command {
            case .addService(let service):
                guard index[service.key] == nil else {
                    throw fail("Service already exists: \(service.key) was added before")
                }
                index[service.key] = services.count
                services.append(service)
            case .addServer(let key, let server):
                guard let s = index[key] else {
                    throw fail("Service not defined: add \(key) with an -A line before its real servers")
                }
                guard !services[s].realServers.contains(where: { $0.address == server.address && $0.port == server.port }) else {
                    throw fail("Destination already exists: \(server.address):\(server.port) is already in \(key)")
                }
                services[s].realServers.append(server)
            }
        }
        return DirectorConfiguration(services: services)
    }

    enum Command {
        case addService(VirtualServiceConfig)
        case addServer(VirtualServiceKey, RealServerConfig)
    }

    /// One line's options, gathered before the command is built (getopt style: order-free).
    struct Options {
        var command: String?
        var service: (TransportProtocol, String)?
        var scheduler: String?
        var realServer: String?
        var weight: String?
        var upperThreshold: String?
        var lowerThreshold: String?
        /// `-p` given: "" without a timeout, else the timeout text.
        var persistent: String?
        var netmask: String?
        var onePacket = false
        /// `-b` text, parsed once the scheduler is known (as ipvsadm does after its option loop).
        var schedulerFlags: String?
    }

    func parseCommand(_ tokens: [String], fail: (String) -> ConfigurationError) throws(ConfigurationError) -> Command {
        var o = Options()
        var i = 0
        // Splits `--weight=3` into name and value; short options take the next token.
        func value(for name: String, inline: String?) throws(ConfigurationError) -> String {
            if let inline { return inline }
            i += 1
            guard i < tokens.count, !(tokens[i].hasPrefix("-") && tokens[i].count > 1 && Int(tokens[i]) == nil) else {
                throw fail("option '\(name)' expects a value")
            }
            return tokens[i]
        }
        func setCommand(_ c: String) throws(ConfigurationError) {
            if let previous = o.command { throw fail("multiple commands specified (\(previous) and \(c))") }
            o.command = c
        }
        while i < tokens.count {
            let token = tokens[i]
            var name = token
            var inline: String?
            if token.hasPrefix("--"), let eq = token.firstIndex(of: "=") {
                name = String(token[..<eq])
                inline = String(token[token.index(after: eq)...])
            }
            switch name {
            case "-A", "--add-service": try setCommand("-A")
            case "-a", "--add-server": try setCommand("-a")
            case "-E", "--edit-service", "-D", "--delete-service", "-C", "--clear", "-e", "--edit-server",
                 "-d", "--delete-server", "-R", "--restore", "-S", "--save", "-L", "-l", "--list", "-Z", "--zero",
                 "--set", "--start-daemon", "--stop-daemon":
                throw fail("'\(name)' does not belong in a rules file: it holds -A (add service) and -a (add real server) lines, as ipvsadm -S writes them")
            case "-t", "--tcp-service", "-u", "--udp-service":
                guard o.service == nil else { throw fail("multiple 'service-address' options specified") }
                o.service = (name == "-t" || name == "--tcp-service" ? .tcp : .udp, try value(for: name, inline: inline))
            case "-f", "--fwmark-service":
                throw fail("firewall-mark services (-f) are not supported yet; use -t or -u with an address and port")
            case "--sctp-service":
                throw fail("SCTP services are not supported; use -t (TCP) or -u (UDP)")
            case "-s", "--scheduler":
                o.scheduler = try value(for: name, inline: inline)
            case "-p", "--persistent":
                // popt's optional argument: the next token is the timeout only if it is a number.
                if let inline {
                    o.persistent = inline
                } else if i + 1 < tokens.count, !tokens[i + 1].isEmpty, tokens[i + 1].allSatisfy(\.isNumber) {
                    i += 1
                    o.persistent = tokens[i]
                } else {
                    o.persistent = ""
                }
            case "-M", "--netmask":
                o.netmask = try value(for: name, inline: inline)
            case "--pe":
                throw fail("persistence engines (--pe) are not supported: SwiftLVS has no SIP engine")
            case "-o", "--ops":
                o.onePacket = true
            case "-b", "--sched-flags":
                guard o.schedulerFlags == nil else { throw fail("multiple 'sched-flags' options specified") }
                o.schedulerFlags = try value(for: name, inline: inline)
            case "-r", "--real-server":
                o.realServer = try value(for: name, inline: inline)
            case "-g", "--gatewaying":
                break
            case "-i", "--ipip", "-m", "--masquerading":
                throw fail("'\(name)' is not supported: SwiftLVS forwards by direct routing; use -g")
            case "-w", "--weight":
                o.weight = try value(for: name, inline: inline)
            case "-x", "--u-threshold":
                o.upperThreshold = try value(for: name, inline: inline)
            case "-y", "--l-threshold":
                o.lowerThreshold = try value(for: name, inline: inline)
            default:
                if token.hasPrefix("-") {
                    throw fail("invalid option `\(token)'")
                }
                throw fail("unexpected argument \(token)")
            }
            i += 1
        }
        guard let command = o.command else {
            throw fail("expected a command: -A (add service) or -a (add real server)")
        }
        guard let (transport, addressText) = o.service else {
            throw fail("You need to supply the 'service-address' option for the '\(command == "-A" ? "add-service" : "add-server")' command (-t VIP:PORT or -u VIP:PORT)")
        }
        guard let (vip, vport) = parseAddressPort(addressText, transport: transport) else {
            throw fail("illegal virtual server address[:port] specified: '\(addressText)' (expected IPv4:PORT, e.g. 10.0.0.100:80)")
        }
        let key = VirtualServiceKey(transport: transport, address: vip, port: vport ?? 0)
        var schedulerFlags: SchedulerFlags = []
        if let text = o.schedulerFlags, !text.isEmpty {
            schedulerFlags = try parseSchedulerFlags(text, scheduler: o.scheduler ?? "wlc", fail: fail)
        }
        if command == "-A" {
            for (present, option) in [(o.realServer != nil, "real-server"), (o.weight != nil, "weight"),
                                      (o.upperThreshold != nil, "u-threshold"), (o.lowerThreshold != nil, "l-threshold")]
            where present {
                throw fail("Illegal '\(option)' option with the 'add-service' command")
            }
            var persistence: Persistence?
            if let p = o.persistent {
                var timeout = Persistence.defaultTimeout
                if !p.isEmpty {
                    guard let t = UInt32(p), t >= 1, t <= 2_678_400 else {
                        throw fail("invalid timeout value `\(p)' specified (expected 1..2678400 seconds)")
                    }
                    timeout = t
                }
                var mask = IPv4Address(0xFFFF_FFFF)
                if let m = o.netmask {
                    guard let parsed = IPv4Address(m) else {
                        throw fail("invalid netmask `\(m)' specified (expected dotted IPv4, e.g. 255.255.255.0)")
                    }
                    mask = parsed
                }
                persistence = Persistence(timeout: timeout, netmask: mask)
            } else if let m = o.netmask, IPv4Address(m) == nil {
                throw fail("invalid netmask `\(m)' specified (expected dotted IPv4, e.g. 255.255.255.0)")
            }
            guard key.port != 0 || persistence != nil else { throw fail("Zero port specified for non-persistent service") }
            let scheduler = o.scheduler ?? "wlc"
            guard SchedulerRegistry.known.contains(scheduler) else {
                throw fail("unknown scheduler '\(scheduler)'; use one of: \(SchedulerRegistry.implemented.joined(separator: ", "))")
            }
            guard SchedulerRegistry.implemented.contains(scheduler) else {
                let hint = o.scheduler == nil ? " (ipvsadm's default when -s is absent)" : ""
                throw fail("scheduler '\(scheduler)'\(hint) is not implemented yet; use -s with one of: \(SchedulerRegistry.implemented.joined(separator: ", "))")
            }
            if o.onePacket && transport != .udp {
                throw fail("One-Packet Scheduling is only for UDP virtual services")
            }
            return .addService(VirtualServiceConfig(key: key, scheduler: scheduler, schedulerFlags: schedulerFlags,
                                                    persistence: persistence, onePacketScheduling: o.onePacket))
        }
        if o.scheduler != nil { throw fail("Illegal 'scheduler' option with the 'add-server' command") }
        if o.persistent != nil { throw fail("Illegal 'persistent' option with the 'add-server' command") }
        if o.netmask != nil { throw fail("Illegal 'netmask' option with the 'add-server' command") }
        if o.onePacket { throw fail("Illegal 'ops' option with the 'add-server' command") }
        if o.schedulerFlags != nil { throw fail("Illegal 'sched-flags' option with the 'add-server' command") }
        guard let rsText = o.realServer else {
            throw fail("You need to supply the 'real-server' option for the 'add-server' command (-r RIP[:PORT])")
        }
        guard let (rip, _) = parseAddressPort(rsText, transport: transport) else {
            throw fail("illegal real server address[:port] specified: '\(rsText)' (expected IPv4[:PORT])")
        }
        var weight: Int32 = 1
        if let w = o.weight {
            guard let v = Int32(w), v >= 0, v <= 65535 else { throw fail("illegal weight specified: '\(w)' (expected 0..65535)") }
            weight = v
        }
        let upper = try threshold(o.upperThreshold, name: "u-threshold", fail: fail)
        let lower = try threshold(o.lowerThreshold, name: "l-threshold", fail: fail)
        if upper != 0 && lower > upper {
            throw fail("l-threshold \(lower) is above u-threshold \(upper) (the kernel refuses it with ERANGE)")
        }
        // ipvsadm forces the real server's port to the service port for direct routing: a DR
        // director cannot change ports, it only rewrites MAC addresses.
        let server = RealServerConfig(address: rip, port: key.port, weight: weight,
                                      upperThreshold: upper, lowerThreshold: lower)
        return .addServer(key, server)
    }

    func threshold(_ text: String?, name: String, fail: (String) -> ConfigurationError) throws(ConfigurationError) -> UInt32 {
        guard let text else { return 0 }
        guard let v = UInt32(text), v <= UInt32(Int32.max) else {
            throw fail("illegal \(name) specified: '\(text)' (expected 0..\(Int32.max))")
        }
        return v
    }

    /// `A.B.C.D[:port]`, the port a number or a name from /etc/services. A bare number is not an
    /// address (ipvsadm rejects all-digit hosts).
    func parseAddressPort(_ text: String, transport: TransportProtocol) -> (IPv4Address, UInt16?)? {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 1 || parts.count == 2, let address = IPv4Address(parts[0]) else { return nil }
        guard parts.count == 2 else { return (address, nil) }
        let portText = String(parts[1])
        if let port = UInt16(portText) { return (address, port) }
        if portText.allSatisfy(\.isNumber) { return nil }
        guard let port = serviceNames.port(named: portText, transport: transport) else { return nil }
        return (address, port)
    }
}

extension IpvsadmRules {
    /// ipvsadm's `parse_sched_flags`: a comma list (empty items skipped, as `strtok` does) of
    /// `flag-1..3` for any scheduler, `sh-fallback`/`sh-port` only with sh and `mh-fallback`/
    /// `mh-port` only with mh (they are the same bits, SCHED1 and SCHED2). The scheduler is the
    /// one given with -s, or wlc.
    func parseSchedulerFlags(_ text: String, scheduler: String,
                             fail: (String) -> ConfigurationError) throws(ConfigurationError) -> SchedulerFlags {
        var flags: SchedulerFlags = []
        let items = text.split(separator: ",")
        guard !items.isEmpty else { throw fail("invalid scheduler flag `\(text)'") }
        for item in items {
            switch item {
            case "flag-1": flags.insert(.flag1)
            case "flag-2": flags.insert(.flag2)
            case "flag-3": flags.insert(.flag3)
            case "sh-fallback", "sh-port", "mh-fallback", "mh-port":
                guard item.hasPrefix(scheduler + "-") else {
                    throw fail("incompatible scheduler flag `\(item)' (it needs -s \(item.prefix(2)), not \(scheduler))")
                }
                flags.insert(item.hasSuffix("-fallback") ? .fallback : .port)
            default:
                throw fail("invalid scheduler flag `\(item)' (expected a comma list of flag-1, flag-2, flag-3, sh-fallback, sh-port, mh-fallback, mh-port)")
            }
        }
        return flags
    }
}
