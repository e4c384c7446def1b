import LVSCore

/// One conclusion of `lvs-realserver check`.
public struct Finding: Equatable, Sendable, CustomStringConvertible {
    public enum Status: String, Sendable {
        /// As it must be.
        case pass = "PASS"
        /// Breaks direct routing (or lets the host answer ARP for the VIP): check exits non-zero.
        case fail = "FAIL"
        /// Works in the usual topology but can break in another; does not fail the check.
        case warn = "WARN"
        /// Said for the record (a setting the method does not need, a check that was skipped).
        case info = "INFO"
    }

    public var status: Status
    /// Short, stable name of what was checked (`vip`, `arp_ignore`, `service`, ...).
    public var subject: String
    public var message: String
    /// The command (or change) that makes it right.
    public var fix: String?

    public init(_ status: Status, _ subject: String, _ message: String, fix: String? = nil) {
        self.status = status
        self.subject = subject
        self.message = message
        self.fix = fix
    }

    /// One line: `FAIL arp_ignore: ... -- fix: ...`.
    public var description: String {
        "\(status.rawValue) \(subject): \(message)" + (fix.map { " -- fix: \($0)" } ?? "")
    }
}

/// What `check` is asked to verify.
public struct CheckConfiguration: Equatable, Sendable {
    public var virtualAddresses: [IPv4Address]
    public var method: SetupMethod
    public var interface: String
    public var ports: [ServicePort]
    /// The director's own address: the default route must not point at it.
    public var director: IPv4Address?
    /// The address the arptables method writes into outgoing ARP (`nil`: the interface's).
    public var realServerAddress: IPv4Address?

    public init(virtualAddresses: [IPv4Address], method: SetupMethod = .sysctl, interface: String,
                ports: [ServicePort] = [], director: IPv4Address? = nil, realServerAddress: IPv4Address? = nil) {
        self.virtualAddresses = virtualAddresses
        self.method = method
        self.interface = interface
        self.ports = ports
        self.director = director
        self.realServerAddress = realServerAddress
    }
}

/// The checks of `lvs-realserver check`, as a pure function of the host's state.
///
/// Whether this host answers ARP for the VIP is *reasoned* from its settings, not probed: an
/// ARP request sent from this host for an address it holds never goes through the receive
/// path that decides (the kernel resolves its own addresses locally), so a probe from here
/// would prove nothing. The findings say so and give the command to run from another host.
public enum RealServerCheck {
    public static func run(_ config: CheckConfiguration, host: HostState) -> [Finding] {
        guard let interface = host.interface(named: config.interface) else {
            return [Finding(.fail, "interface", "no interface \(config.interface) here (there are: \(host.interfaces.map(\.name).joined(separator: ", ")))",
                            fix: "pass --interface with the interface that faces the director")]
        }
        var findings: [Finding] = []
        for vip in config.virtualAddresses {
            findings.append(placement(vip, config: config, host: host))
        }
        findings += arpSettings(config, host: host)
        if config.method == .arptables { findings += arptablesRules(config, host: host, interface: interface) }
        if config.method == .iptables { findings += iptablesRules(config, host: host) }
        if config.method == .firewalld { findings += firewalldRules(config, host: host) }
        for vip in config.virtualAddresses {
            findings.append(answersARP(vip, config: config, host: host))
            findings.append(announces(vip, config: config, host: host, interface: interface))
        }
        findings += services(config, host: host, interface: interface)
        findings.append(defaultRoute(config, host: host))
        findings.append(reversePathFilter(config, host: host))
        return findings
    }

    // MARK: - the VIP

    static func placement(_ vip: IPv4Address, config: CheckConfiguration, host: HostState) -> Finding {
        let holders = host.holders(of: vip)
        let names = holders.map { $0.interface.name }.joined(separator: ", ")
        let arping = holders.filter { $0.interface.speaksARP }
        switch config.method {
        case .sysctl:
            if holders.isEmpty {
                return Finding(.fail, "vip", "\(vip) is not configured on this host: the real server drops the frames the director forwards to it",
                               fix: "ip addr add \(vip)/32 dev lo label lo:0 (or lvs-realserver apply --vip \(vip))")
            }
            if let bad = arping.first {
                return Finding(.fail, "vip", "\(vip) is on \(bad.interface.name), a device that answers ARP: with the sysctl method it belongs on lo",
                               fix: "ip addr del \(vip)/32 dev \(bad.interface.name); ip addr add \(vip)/32 dev lo label lo:0")
            }
            return Finding(.pass, "vip", "\(vip) is on \(names), a device that does not speak ARP")
        case .arptables:
            if holders.isEmpty {
                return Finding(.fail, "vip", "\(vip) is not configured on this host: the real server drops the frames the director forwards to it",
                               fix: "ip addr add \(vip)/32 dev \(config.interface) (or lvs-realserver apply --method arptables --vip \(vip))")
            }
            return Finding(.pass, "vip", "\(vip) is on \(names) (arptables keeps it off the wire)")
        case .iptables, .firewalld:
            if let bad = arping.first {
                return Finding(.fail, "vip", "\(vip) is on \(bad.interface.name), a device that answers ARP; the REDIRECT method needs no VIP on the host",
                               fix: "ip addr del \(vip)/32 dev \(bad.interface.name)")
            }
            return Finding(.pass, "vip", holders.isEmpty ? "\(vip) is not configured here, as the REDIRECT method wants"
                                                        : "\(vip) is on \(names), a device that does not speak ARP")
        }
    }

    // MARK: - ARP settings

    static func values(_ name: String, _ device: String, host: HostState) -> String {
        func show(_ v: Int?) -> String { v.map(String.init) ?? "?" }
        return "all=\(show(host.sysctls[SysctlKey("all", name)])), \(device)=\(show(host.sysctls[SysctlKey(device, name)]))"
    }

    static func arpSettings(_ config: CheckConfiguration, host: HostState) -> [Finding] {
        let dev = config.interface
        let ignore = host.effective("arp_ignore", on: dev) ?? 0
        let announce = host.effective("arp_announce", on: dev) ?? 0
        let ignoreText = "effective arp_ignore on \(dev) is \(ignore) (the larger of \(values("arp_ignore", dev, host: host)))"
        let announceText = "effective arp_announce on \(dev) is \(announce) (the larger of \(values("arp_announce", dev, host: host)))"
        guard config.method == .sysctl else {
            return [Finding(.info, "arp_ignore", "\(ignoreText); --method \(config.method) does not rely on it"),
                    Finding(.info, "arp_announce", "\(announceText); --method \(config.method) does not rely on it")]
        }
        var findings: [Finding] = []
        if SetupPlanner.protectiveARPIgnore.contains(ignore) {
            findings.append(Finding(.pass, "arp_ignore", "\(ignoreText): ARP requests for the VIP on lo are not answered"))
        } else {
            let why = ignore == 3 ? "3 still answers for addresses of global scope"
                : ignore == 0 ? "0 answers for every local address, the VIP on lo included"
                : "\(ignore) is reserved and the kernel answers as with 0"
            findings.append(Finding(.fail, "arp_ignore", "\(ignoreText): \(why), so clients and routers may send VIP traffic straight here",
                                    fix: fixCommand("arp_ignore", 1, dev, host: host, accept: SetupPlanner.protectiveARPIgnore)))
        }
        if announce == 2 {
            findings.append(Finding(.pass, "arp_announce", "\(announceText): this host's ARP requests never carry the VIP as sender"))
        } else {
            findings.append(Finding(.fail, "arp_announce", "\(announceText): this host may use the VIP as the sender of its ARP requests, and every neighbour (the director, the router) then learns this host's MAC for the VIP",
                                    fix: fixCommand("arp_announce", 2, dev, host: host, accept: [2])))
        }
        return findings
    }

    /// `sysctl -w` for the keys (all, device) whose value is not acceptable: the kernel takes
    /// the larger one, so both must be right.
    static func fixCommand(_ name: String, _ value: Int, _ device: String, host: HostState, accept: Set<Int>) -> String {
        let keys = ["all", device].map { SysctlKey($0, name) }.filter { !accept.contains(host.sysctls[$0] ?? 0) }
        return "sysctl -w " + keys.map { "\($0)=\(value)" }.joined(separator: " ")
    }

    // MARK: - rules

    static func arptablesRules(_ config: CheckConfiguration, host: HostState, interface: HostInterface) -> [Finding] {
        guard let tool = host.arptables else {
            return [Finding(.fail, "arptables", "arptables is not installed, so no ARP rule protects the VIP",
                            fix: "apt-get install arptables, then lvs-realserver apply --method arptables")]
        }
        let rip = config.realServerAddress ?? interface.primaryAddress ?? .any
        let applyConfig = RealServerConfiguration(virtualAddresses: config.virtualAddresses, method: .arptables, interface: config.interface)
        return SetupPlanner.arptablesRules(applyConfig, rip: rip).map { rule in
            let what = rule.chain == "INPUT" ? "drops ARP requests for \(rule.arguments[1])"
                : "rewrites \(rule.arguments[1]) to \(rip) in this host's own ARP"
            if tool.dump.contains(rule, in: "filter") {
                return Finding(.pass, "arptables", "`\(rule)` \(what)")
            }
            return Finding(.fail, "arptables", "no rule that \(what)", fix: "arptables -A \(rule.chain) \(rule.arguments.joined(separator: " "))")
        }
    }

    static func iptablesRules(_ config: CheckConfiguration, host: HostState) -> [Finding] {
        guard let tool = host.iptables else {
            return [Finding(.fail, "iptables", "iptables is not installed, so nothing redirects VIP traffic to the service",
                            fix: "apt-get install iptables, then lvs-realserver apply --method iptables")]
        }
        let applyConfig = RealServerConfiguration(virtualAddresses: config.virtualAddresses, method: .iptables,
                                                  interface: config.interface, ports: config.ports)
        let rules = SetupPlanner.iptablesRules(applyConfig)
        if rules.isEmpty {
            return [Finding(.fail, "iptables", "no --ports given, so there is no REDIRECT rule to look for", fix: "pass --ports")]
        }
        return rules.map { rule in
            tool.dump.contains(rule, in: "nat")
                ? Finding(.pass, "iptables", "`-t nat \(rule)` hands VIP traffic to the local service")
                : Finding(.fail, "iptables", "no nat rule redirects \(rule.arguments[3]):\(rule.arguments[5])/\(rule.arguments[1]); the host drops that traffic",
                          fix: "iptables -t nat -A \(rule.chain) \(rule.arguments.joined(separator: " "))")
        }
    }

    static func firewalldRules(_ config: CheckConfiguration, host: HostState) -> [Finding] {
        guard case let .running(runtime, _) = host.firewalld else {
            return [Finding(.fail, "firewalld", "firewalld is not running, so its direct rules are not in force",
                            fix: "systemctl start firewalld (or use --method iptables)")]
        }
        let applyConfig = RealServerConfiguration(virtualAddresses: config.virtualAddresses, method: .firewalld,
                                                  interface: config.interface, ports: config.ports)
        return SetupPlanner.firewalldRules(applyConfig).map { rule in
            let text = rule.joined(separator: " ")
            return runtime.contains(text) ? Finding(.pass, "firewalld", "direct rule `\(text)`")
                : Finding(.fail, "firewalld", "no direct rule `\(text)`", fix: "firewall-cmd --direct --add-rule \(text)")
        }
    }

    // MARK: - conclusions about ARP

    /// Whether an ARP request for the VIP arriving on the interface gets an answer, reasoned as
    /// the kernel's arp_process() decides it.
    static func answersARP(_ vip: IPv4Address, config: CheckConfiguration, host: HostState) -> Finding {
        let dev = config.interface
        let confirm = "reasoned from configuration, since a probe from this host cannot exercise the receive path; confirm from another host: arping -c 3 -I IF \(vip) must show only the director's MAC"
        if host.arptables?.dump.contains(FirewallRule(chain: "INPUT", arguments: ["-d", vip.description, "-j", "DROP"]), in: "filter") == true {
            return Finding(.pass, "arp-reply", "this host does not answer ARP for \(vip): arptables drops the requests (\(confirm))")
        }
        let holders = host.holders(of: vip)
        if holders.isEmpty {
            if host.effective("proxy_arp", on: dev) == 1 {
                return Finding(.warn, "arp-reply", "\(vip) is not on this host, but proxy_arp is on for \(dev): the host answers for addresses it routes out of another interface (\(confirm))",
                               fix: "sysctl -w net.ipv4.conf.all.proxy_arp=0 \(SysctlKey(dev, "proxy_arp"))=0")
            }
            return Finding(.pass, "arp-reply", "this host does not answer ARP for \(vip): it does not hold it (\(confirm))")
        }
        let ignore = host.effective("arp_ignore", on: dev) ?? 0
        let onInterface = holders.contains { $0.interface.name == dev }
        let scopeHost = holders.allSatisfy { $0.entry.scope == "host" }
        let silent = onInterface ? ignore == 8 : (SetupPlanner.protectiveARPIgnore.contains(ignore) || (ignore == 3 && scopeHost))
        if silent {
            return Finding(.pass, "arp-reply", "this host does not answer ARP for \(vip) on \(dev): effective arp_ignore \(ignore) with the VIP on \(holders.map { $0.interface.name }.joined(separator: ", ")) (\(confirm))")
        }
        let fix = onInterface
            ? "lvs-realserver apply --method arptables --vip \(vip), or move the VIP to lo with --method sysctl"
            : fixCommand("arp_ignore", 1, dev, host: host, accept: SetupPlanner.protectiveARPIgnore)
        return Finding(.fail, "arp-reply", "this host ANSWERS ARP for \(vip) on \(dev) (effective arp_ignore \(ignore), VIP on \(holders.map { $0.interface.name }.joined(separator: ", "))): clients that hear it bypass the director (\(confirm))",
                       fix: fix)
    }

    /// Whether the host may put the VIP in the sender field of its own ARP requests (which the
    /// director reports as a VIP conflict naming this host's MAC).
    static func announces(_ vip: IPv4Address, config: CheckConfiguration, host: HostState, interface: HostInterface) -> Finding {
        let dev = config.interface
        if host.holders(of: vip).isEmpty {
            return Finding(.pass, "arp-announce", "this host never sends ARP with \(vip) as sender: it does not hold it")
        }
        let mangle = host.arptables?.dump.rules(in: "filter").contains { rule in
            rule.chain == "OUTPUT" && rule.matchKey.contains("-s=\(vip)") && rule.matchKey.contains("-j=mangle")
        } == true
        if mangle {
            return Finding(.pass, "arp-announce", "this host never sends ARP with \(vip) as sender: arptables rewrites it")
        }
        let announce = host.effective("arp_announce", on: dev) ?? 0
        if announce == 2 {
            return Finding(.pass, "arp-announce", "this host never sends ARP with \(vip) as sender: effective arp_announce on \(dev) is 2")
        }
        return Finding(.fail, "arp-announce", "this host may send ARP requests with \(vip) as sender (effective arp_announce \(announce) on \(dev)), when it answers a client from the VIP; the director then reports a VIP conflict with this host's MAC",
                       fix: fixCommand("arp_announce", 2, dev, host: host, accept: [2]))
    }

    // MARK: - services and routing

    static func services(_ config: CheckConfiguration, host: HostState, interface: HostInterface) -> [Finding] {
        guard !config.ports.isEmpty else {
            return [Finding(.info, "service", "no --ports given: whether a service listens was not checked")]
        }
        var findings: [Finding] = []
        let redirect = config.method == .iptables || config.method == .firewalld
        for vip in config.virtualAddresses {
            // REDIRECT hands the packet to the primary address of the interface it came in on.
            let target = redirect ? (interface.primaryAddress ?? vip) : vip
            for port in config.ports {
                let match = host.listeners.first { $0.accepts(target, port) }
                if let match {
                    let at = match.address.map { "\($0)" } ?? "the wildcard address"
                    findings.append(Finding(.pass, "service", "\(port) is served on \(at)\(redirect ? " (REDIRECT delivers \(vip) to \(target))" : "")"))
                } else {
                    findings.append(Finding(.fail, "service", "nothing listens on \(target):\(port.port)/\(port.transport.rawValue) or the wildcard address\(redirect ? " (REDIRECT delivers \(vip) to \(target))" : ""): the host refuses what the director forwards",
                                            fix: "start the service bound to 0.0.0.0 or \(target), port \(port.port)"))
                }
            }
        }
        return findings
    }

    static func defaultRoute(_ config: CheckConfiguration, host: HostState) -> Finding {
        let routes = host.defaultRoutes.map { r in
            "via \(r.gateway.map(\.description) ?? "(none)")\(r.device.map { " dev \($0)" } ?? "")"
        }.joined(separator: ", ")
        guard let director = config.director else {
            return Finding(.info, "route", host.defaultRoutes.isEmpty ? "no default route (replies reach only the local segment); pass --director to check the route avoids it"
                                                                      : "default route \(routes); pass --director to check it avoids the director")
        }
        if host.defaultRoutes.contains(where: { $0.gateway == director }) {
            return Finding(.fail, "route", "the default route goes via the director \(director): in direct routing the replies must go straight to the clients' router, not back through the director",
                           fix: "ip route replace default via ROUTER dev \(config.interface) (the segment's router, not \(director))")
        }
        return Finding(.pass, "route", host.defaultRoutes.isEmpty ? "no default route, so replies never go via the director \(director)"
                                                                  : "default route \(routes), not via the director \(director)")
    }

    /// rp_filter checks the *client's* address against the route back: strict (1) drops VIP
    /// traffic from clients whose route leaves by another interface.
    static func reversePathFilter(_ config: CheckConfiguration, host: HostState) -> Finding {
        let dev = config.interface
        let value = host.effective("rp_filter", on: dev) ?? 0
        let text = "effective rp_filter on \(dev) is \(value) (the larger of \(values("rp_filter", dev, host: host)))"
        switch value {
        case 0: return Finding(.pass, "rp_filter", "\(text): off")
        case 2: return Finding(.pass, "rp_filter", "\(text): loose, accepts clients reachable by any route")
        default:
            if host.defaultRoutes.contains(where: { $0.device == dev }) {
                return Finding(.pass, "rp_filter", "\(text): strict, and the default route leaves by \(dev), so every client passes")
            }
            return Finding(.warn, "rp_filter", "\(text): strict, and the default route does not leave by \(dev): VIP traffic from clients routed elsewhere is dropped",
                           fix: "sysctl -w net.ipv4.conf.all.rp_filter=2 \(SysctlKey(dev, "rp_filter"))=2")
        }
    }
}
