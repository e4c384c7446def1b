import LVSCore

extension KeepalivedInterpreter {
    /// Turns a read virtual server into services, applying keepalived's checks and defaults in
    /// its order (protocol, addresses, real servers, persistence for port 0, ops, scheduler
    /// flags, forwarding, ports, sorry server, quorum), each with the warning keepalived would
    /// give, and skipping what SwiftLVS cannot forward. A group gives one service per address.
    mutating func settle(_ draft: KeepalivedVirtualServerDraft) throws(ConfigurationError) {
        if let sctp = draft.sctp {
            warn(sctp, "protocol SCTP is not supported (SwiftLVS forwards TCP and UDP); \(draft.spelling) is skipped")
            return
        }
        let transport: TransportProtocol
        if let chosen = draft.transport {
            transport = chosen
        } else {
            warn(file: draft.file, line: draft.line,
                 "\(draft.spelling) sets no protocol: keepalived then uses UDP, and so does lvsd; add 'protocol TCP' if this is a TCP service")
            transport = .udp
        }
        guard let endpoints = try endpoints(of: draft, transport: transport) else { return }
        guard !draft.realServers.isEmpty else {
            warn(file: draft.file, line: draft.line, "\(draft.spelling) has no real servers; keepalived ignores such a virtual server, and so does lvsd")
            return
        }

        var persistence: Persistence?
        if draft.persistenceTimeout != nil || draft.persistenceNetmask != nil {
            persistence = Persistence(timeout: draft.persistenceTimeout ?? Persistence.defaultTimeout,
                                      netmask: draft.persistenceNetmask ?? IPv4Address(0xFFFF_FFFF))
        }
        if persistence == nil, endpoints.contains(where: { $0.port == 0 }) {
            warn(file: draft.file, line: draft.line,
                 "\(draft.spelling): port 0 (all ports) is only valid for a persistent service; keepalived then sets persistence_timeout \(Persistence.defaultTimeout), and so does lvsd")
            persistence = Persistence()
        }
        var onePacket = draft.onePacket != nil
        if let ops = draft.onePacket, transport != .udp {
            warn(ops, "ops (one-packet scheduling) applies to UDP services only; ignored for this \(transport) service, as keepalived does")
            onePacket = false
        }
        let flags = schedulerFlags(draft)

        let serviceMethod = draft.forwarding ?? .nat
        let direct = draft.realServers.filter { ($0.forwarding ?? serviceMethod) == .directRouting }
        guard !direct.isEmpty else {
            warnNotDirectRouting(draft, method: serviceMethod)
            return
        }
        for server in draft.realServers {
            let method = server.forwarding ?? serviceMethod
            guard method != .directRouting else { continue }
            let origin = server.forwarding != nil
                ? "its lvs_method \(method.rawValue)"
                : draft.forwarding != nil ? "the virtual server's lb_kind \(method.rawValue)" : "keepalived's default: the virtual server sets no lb_kind"
            warn(file: server.file, line: server.forwardingStatement?.line ?? server.line,
                 "\(server.spelling) would be reached by \(method.phrase) (\(origin)); SwiftLVS forwards by direct routing only, so this real server is skipped")
        }

        let servicePorts = endpoints.map(\.port).reduce(into: [UInt16]()) { if !$0.contains($1) { $0.append($1) } }
        var kept: [(server: KeepalivedRealServerDraft, configuredPort: UInt16?)] = []
        for server in direct {
            if server.lowerThreshold > server.upperThreshold {
                warn(file: server.file, line: server.line,
                     "\(server.spelling): lthreshold \(server.lowerThreshold) is above uthreshold \(server.upperThreshold); the kernel refuses such a real server (ERANGE), so keepalived runs without it, and so does lvsd")
                continue
            }
            let configured = try server.port.map { (port: KeepalivedPort) throws(ConfigurationError) in
                try portNumber(port, transport: transport, file: server.file, line: server.line)
            }
            if let configured {
                warnPortChange(what: server.spelling, configured: configured, servicePorts: servicePorts,
                               file: server.file, line: server.line, checked: true)
            }
            if let first = kept.first(where: { $0.server.address == server.address }) {
                warn(file: server.file, line: server.line,
                     "\(server.spelling) duplicates the real server at line \(first.server.line) (direct routing uses the service's port, so both are \(server.address)); the second is skipped")
                continue
            }
            warnAlpha(server, service: draft)
            kept.append((server, configured))
        }

        var sorry = draft.sorryServer
        if let server = sorry {
            let method = server.forwarding ?? serviceMethod
            if method != .directRouting {
                warn(file: server.file, line: server.line,
                     "sorry_server \(server.address) would be reached by \(method.phrase); SwiftLVS forwards by direct routing only, so it is not used: add 'sorry_server_lvs_method DR'")
                sorry = nil
            } else if let port = server.port {
                let configured = try portNumber(port, transport: transport, file: server.file, line: server.line)
                warnPortChange(what: "sorry_server \(server.address) \(configured)", configured: configured,
                               servicePorts: servicePorts, file: server.file, line: server.line, checked: false)
            }
        }

        let totalWeight = kept.reduce(UInt64(0)) { $0 + UInt64($1.server.weight ?? draft.weight) }
        var quorum = draft.quorum
        var hysteresis = draft.hysteresis
        if UInt64(quorum) > totalWeight {
            warn(file: draft.file, line: draft.line,
                 "\(draft.spelling): quorum \(quorum) is above the total weight of its real servers (\(totalWeight)); keepalived lowers it to \(totalWeight), and so does lvsd")
            quorum = UInt32(totalWeight)
        }
        if hysteresis > 0, hysteresis >= quorum {
            let lowered = quorum == 0 ? 0 : quorum - 1
            warn(file: draft.file, line: draft.line,
                 "\(draft.spelling): hysteresis \(hysteresis) is not below quorum \(quorum); keepalived lowers it to \(lowered), and so does lvsd")
            hysteresis = lowered
        }

        for endpoint in endpoints {
            let key = VirtualServiceKey(transport: transport, address: endpoint.address, port: endpoint.port)
            if let origin = serviceOrigins[key] {
                warn(file: endpoint.file, line: endpoint.line, "\(key) is already defined at \(origin); this definition is skipped")
                continue
            }
            serviceOrigins[key] = "\(endpoint.file):\(endpoint.line)"
            services.append(VirtualServiceConfig(
                key: key, scheduler: draft.scheduler, schedulerFlags: flags, persistence: persistence,
                onePacketScheduling: onePacket,
                realServers: kept.map {
                    RealServerConfig(address: $0.server.address, port: key.port, weight: $0.server.weight ?? draft.weight,
                                     upperThreshold: $0.server.upperThreshold, lowerThreshold: $0.server.lowerThreshold)
                }))
            var service = ServiceHealth(key: key)
            service.delayLoop = draft.defaults.delayLoop ?? Self.defaultDelayLoop
            service.quorum = quorum
            service.hysteresis = hysteresis
            service.quorumUp = draft.quorumUp
            service.quorumDown = draft.quorumDown
            service.sorryServer = sorry.map { RealServerConfig(address: $0.address, port: key.port) }
            service.sorryServerInhibit = sorry?.inhibit ?? false
            service.inhibitOnFailure = draft.inhibitOnFailure
            service.alpha = draft.alpha
            service.omega = draft.omega
            service.realServers = kept.map { realServerHealth($0.server, configuredPort: $0.configuredPort, service: draft, servicePort: key.port) }
            health.append(service)
        }
    }

    /// keepalived's `delay_loop` default.
    static let defaultDelayLoop: Double = 60

    /// The (address, port) pairs a virtual server stands for; nil (with a warning) when its
    /// group has no usable address.
    private mutating func endpoints(of draft: KeepalivedVirtualServerDraft,
                                    transport: TransportProtocol) throws(ConfigurationError) -> [(address: IPv4Address, port: UInt16, file: String, line: Int)]? {
        switch draft.target {
        case .address(let address, let port):
            let number = try port.map { (port: KeepalivedPort) throws(ConfigurationError) in
                try portNumber(port, transport: transport, file: draft.file, line: draft.line)
            }
            return [(address, number ?? 0, draft.file, draft.line)]
        case .group(let name):
            guard let group = groups[name] else {
                throw ConfigurationError(file: draft.file, line: draft.line,
                                         message: "\(draft.spelling): no virtual_server_group named '\(name)' is defined")
            }
            guard !group.entries.isEmpty else {
                warn(file: draft.file, line: draft.line,
                     "\(draft.spelling): virtual_server_group '\(name)' has no IPv4 address to serve; this virtual server is skipped")
                return nil
            }
            var result: [(address: IPv4Address, port: UInt16, file: String, line: Int)] = []
            for entry in group.entries {
                let number = try entry.port.map { (port: KeepalivedPort) throws(ConfigurationError) in
                    try portNumber(port, transport: transport, file: entry.file, line: entry.line)
                }
                result.append((entry.address, number ?? 0, draft.file, draft.line))
            }
            return result
        }
    }

    /// flag-1..3 always; sh-port/sh-fallback only with sh and mh-port/mh-fallback only with
    /// mh, as keepalived (which ignores them otherwise, with a warning).
    private mutating func schedulerFlags(_ draft: KeepalivedVirtualServerDraft) -> SchedulerFlags {
        var flags: SchedulerFlags = []
        for statement in draft.flagStatements {
            switch statement.keyword {
            case "flag-1": flags.insert(.flag1)
            case "flag-2": flags.insert(.flag2)
            case "flag-3": flags.insert(.flag3)
            default:
                let scheduler = String(statement.keyword.prefix(2))
                guard draft.scheduler == scheduler else {
                    warn(statement, "\(statement.keyword) only applies to the \(scheduler) scheduler (this virtual server uses \(draft.scheduler)); ignored, as keepalived does")
                    continue
                }
                flags.insert(statement.keyword.hasSuffix("-port") ? .port : .fallback)
            }
        }
        return flags
    }

    /// The warning for a virtual server none of whose real servers forwards by DR, at the
    /// line that decided it: the lb_kind line, or the virtual_server line when none is set.
    private mutating func warnNotDirectRouting(_ draft: KeepalivedVirtualServerDraft, method: KeepalivedForwarding) {
        let skipped = "SwiftLVS forwards by direct routing only, so this virtual server is skipped"
        if method == .directRouting {
            warn(file: draft.file, line: draft.line,
                 "\(draft.spelling): none of its real servers forwards by direct routing (each sets its own lvs_method); \(skipped)")
        } else if let statement = draft.forwardingStatement {
            warn(statement, "\(draft.spelling) forwards by \(method.phrase) (\(statement.spelling)); \(skipped)")
        } else if let rejected = draft.rejectedForwarding {
            warn(file: draft.file, line: draft.line,
                 "\(draft.spelling) has no valid lb_kind ('\(rejected.spelling)' at line \(rejected.line) is ignored), so keepalived forwards it by NAT, its default; \(skipped): write 'lb_kind DR'")
        } else {
            warn(file: draft.file, line: draft.line,
                 "\(draft.spelling) has no lb_kind (or lvs_method), so keepalived forwards it by NAT, its default; \(skipped): add 'lb_kind DR' to it")
        }
    }

    /// Direct routing delivers the packet unchanged, so a server gets the service's port
    /// whatever port it is written with (ipvsadm and keepalived reset it too). The checks
    /// keep the written port, as keepalived's do.
    private mutating func warnPortChange(what: String, configured: UInt16, servicePorts: [UInt16],
                                         file: String, line: Int, checked: Bool) {
        let checks = checked ? "; health checks still go to port \(configured), as keepalived's do" : ""
        for servicePort in servicePorts where servicePort != configured {
            if servicePort == 0 {
                warn(file: file, line: line, "\(what): the service forwards every port, so port \(configured) is not used for forwarding\(checks)")
            } else {
                warn(file: file, line: line,
                     "\(what): direct routing cannot change the port, so traffic for port \(servicePort) reaches it on port \(servicePort); the table uses \(servicePort), as keepalived does\(checks)")
            }
        }
    }

    /// keepalived lets a real server or checker set its own `alpha`; lvsd has one per service.
    private mutating func warnAlpha(_ server: KeepalivedRealServerDraft, service: KeepalivedVirtualServerDraft) {
        let places = [(server.defaults.alpha, server.file, server.line)] + server.checkers.map { ($0.defaults.alpha, $0.file, $0.line) }
        for (alpha, file, line) in places {
            if let alpha, alpha != service.alpha {
                warn(file: file, line: line,
                     "alpha for one real server or checker is not supported: lvsd applies the virtual server's alpha (\(service.alpha ? "on" : "off")) to all its real servers")
            }
        }
    }

    private func realServerHealth(_ server: KeepalivedRealServerDraft, configuredPort: UInt16?,
                                  service: KeepalivedVirtualServerDraft, servicePort: UInt16) -> RealServerHealth {
        var health = RealServerHealth(address: server.address, port: servicePort)
        health.weight = server.weight ?? service.weight
        health.inhibitOnFailure = server.inhibitOnFailure ?? service.inhibitOnFailure
        health.notifyUp = server.notifyUp
        health.notifyDown = server.notifyDown
        health.rise = server.rise ?? service.rise ?? 1
        health.checkers = server.checkers.flatMap {
            checkerConfigs($0, server: server, service: service, servicePort: servicePort, configuredPort: configuredPort)
        }
        return health
    }

    /// A checker with keepalived's inheritance and defaults settled: its own value, else the
    /// real server's, else the virtual server's, else the checker kind's default. An HTTP_GET
    /// whose urls name different virtual hosts becomes one HTTP check per host (a server is up
    /// while all its checks pass, as it is while all urls of one HTTP_GET pass).
    func checkerConfigs(_ checker: KeepalivedCheckerDraft, server: KeepalivedRealServerDraft,
                        service: KeepalivedVirtualServerDraft, servicePort: UInt16, configuredPort: UInt16?) -> [CheckerConfig] {
        let settings = checker.defaults.inheriting(server.defaults).inheriting(service.defaults)
        let delayLoop = settings.delayLoop ?? Self.defaultDelayLoop
        var config = CheckerConfig(kind: checker.kind)
        config.connectAddress = checker.connectAddress
        config.connectPort = checker.connectPort ?? configuredPort.flatMap { $0 != servicePort ? $0 : nil }
        config.bindAddress = checker.bindAddress
        config.bindPort = checker.bindPort
        config.connectTimeout = settings.connectTimeout ?? 5
        config.delayLoop = checker.defaults.delayLoop ?? server.defaults.delayLoop
        config.warmup = settings.warmup ?? delayLoop
        config.probeThroughVIP = settings.probeViaVIP ?? false
        switch checker.kind {
        case .dns:
            config.retry = settings.retry ?? 3
            config.delayBeforeRetry = settings.delayBeforeRetry ?? delayLoop
        case .misc:
            config.retry = settings.retry ?? 0
            config.delayBeforeRetry = settings.delayBeforeRetry ?? 1
        case .http, .ssl:
            config.retry = settings.retry ?? 1
            config.delayBeforeRetry = settings.delayBeforeRetry ?? 3
        case .tcp, .udp, .ping:
            config.retry = settings.retry ?? 1
            config.delayBeforeRetry = settings.delayBeforeRetry ?? 1
        }
        let isSSL: Bool
        switch checker.kind {
        case .http: isSSL = false
        case .ssl: isSSL = true
        default: return [config]
        }
        var byHost: [(host: String?, urls: [HTTPCheck.URL])] = []
        for url in checker.urls {
            let host = url.virtualHost ?? settings.virtualHost
            if let index = byHost.firstIndex(where: { $0.host == host }) {
                byHost[index].urls.append(url.url)
            } else {
                byHost.append((host, [url.url]))
            }
        }
        return byHost.map {
            var copy = config
            var check = HTTPCheck(urls: $0.urls, virtualHost: $0.host)
            check.enableSNI = checker.enableSNI
            copy.kind = isSSL ? .ssl(check) : .http(check)
            return copy
        }
    }
}
