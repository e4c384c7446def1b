import LVSCore

extension KeepalivedInterpreter {
    /// `virtual_server IP [PORT] | fwmark N | group NAME { ... }`: read the block into a draft,
    /// then settle it into services (`+Services`). fwmark and IPv6 virtual servers are skipped
    /// whole, with a warning at their line.
    mutating func readVirtualServer(_ statement: KeepalivedStatement) throws(ConfigurationError) {
        let items = try block(of: statement)
        guard let first = statement.values.first else {
            throw error(statement, "virtual_server needs an address: virtual_server IP [PORT] {, virtual_server fwmark N { or virtual_server group NAME {")
        }
        let target: KeepalivedVirtualServerDraft.Target
        switch first {
        case "fwmark":
            guard statement.values.count == 2, KeepalivedValues.uint32(statement.values[1]) != nil else {
                throw error(statement, "virtual_server fwmark needs a mark number: virtual_server fwmark N {")
            }
            warn(statement, "\(statement.spelling): firewall-mark services are not supported by the director yet; this virtual server is skipped")
            return
        case "group":
            guard statement.values.count == 2 else {
                throw error(statement, "virtual_server group needs a group name: virtual_server group NAME {")
            }
            target = .group(statement.values[1])
        default:
            guard statement.values.count <= 2 else {
                throw error(statement, "unexpected '\(statement.values.dropFirst(2).joined(separator: " "))' after the port: virtual_server IP [PORT] {")
            }
            switch try address(first, statement, what: "virtual server address") {
            case .ipv6:
                warn(statement, "\(statement.spelling): IPv6 virtual servers are not supported (SwiftLVS forwards IPv4 only); this virtual server is skipped")
                return
            case .ipv4(let address):
                let port = try statement.values.count == 2 ? self.port(statement.values[1], statement) : nil
                target = .address(address, port)
            }
        }
        var draft = KeepalivedVirtualServerDraft(target: target, statement: statement)
        for item in items {
            try readVirtualServerItem(item, into: &draft)
        }
        try settle(draft)
    }

    private mutating func readVirtualServerItem(_ item: KeepalivedStatement,
                                                into draft: inout KeepalivedVirtualServerDraft) throws(ConfigurationError) {
        if KeepalivedKeywords.virtualServer.contains(item.keyword) { try rejectBlock(item) }
        if try readCheckDefault(item, into: &draft.defaults) { return }
        switch item.keyword {
        case "lvs_sched", "lb_algo":
            guard let name = singleValue(item, expected: "a scheduler name") else { return }
            if KeepalivedKeywords.schedulers.contains(name) {
                draft.scheduler = name
            } else {
                warn(item, "unknown scheduler '\(name)' (keepalived knows \(KeepalivedKeywords.schedulers.joined(separator: ", "))); ignored, the scheduler stays \(draft.scheduler)")
            }
        case "flag-1", "flag-2", "flag-3", "sh-port", "sh-fallback", "mh-port", "mh-fallback":
            draft.flagStatements.append(item)
        case "ops":
            draft.onePacket = item
        case "hashed", "ha_suspend", "smtp_alert", "snmp_name":
            break
        case "lvs_method", "lb_kind":
            if let method = forwarding(item, of: "virtual") {
                draft.forwarding = method
                draft.forwardingStatement = item
                draft.rejectedForwarding = nil
            } else {
                draft.rejectedForwarding = item
            }
        case "persistence_timeout":
            if item.values.isEmpty {
                draft.persistenceTimeout = Persistence.defaultTimeout
            } else if let text = singleValue(item, expected: "a number of seconds") {
                if let seconds = KeepalivedValues.uint32(text, in: 1...Self.longestPersistence) {
                    draft.persistenceTimeout = seconds
                } else {
                    warn(item, "persistence_timeout '\(text)' is invalid (1 to \(Self.longestPersistence) seconds); ignored, as keepalived does")
                }
            }
        case "persistence_granularity":
            guard let text = singleValue(item, expected: "a netmask or prefix length") else { return }
            guard let mask = KeepalivedValues.netmask(text) else {
                warn(item, "persistence_granularity '\(text)' is not a netmask (255.255.255.0) or prefix length (24); ignored")
                return
            }
            draft.persistenceNetmask = mask
        case "persistence_engine":
            warn(item, "persistence_engine is not supported (SwiftLVS has no SIP persistence engine); the service is persistent by client address only")
        case "protocol":
            guard let name = singleValue(item, expected: "TCP, UDP or SCTP") else { return }
            switch name.uppercased() {
            case "TCP": draft.transport = .tcp
            case "UDP": draft.transport = .udp
            case "SCTP": draft.sctp = item
            default: warn(item, "unknown protocol '\(name)' (TCP, UDP or SCTP); ignored")
            }
        case "sorry_server":
            try readSorryServer(item, into: &draft)
        case "sorry_server_inhibit":
            if draft.sorryServer == nil {
                warn(item, "sorry_server_inhibit before (or without) sorry_server is ignored, as keepalived does; put it after sorry_server")
            } else {
                draft.sorryServer?.inhibit = true
            }
        case "sorry_server_lvs_method":
            guard draft.sorryServer != nil else {
                warn(item, "sorry_server_lvs_method before (or without) sorry_server is ignored, as keepalived does; put it after sorry_server")
                return
            }
            if let method = forwarding(item, of: "sorry") { draft.sorryServer?.forwarding = method }
        case "quorum":
            guard let value = number(item) else { return }
            if value < 1 {
                warn(item, "quorum must be at least 1; 1 is used, as keepalived does")
            }
            draft.quorum = max(value, 1)
        case "hysteresis":
            if let value = number(item) { draft.hysteresis = value }
        case "quorum_up":
            draft.quorumUp = script(item) ?? draft.quorumUp
        case "quorum_down":
            draft.quorumDown = script(item) ?? draft.quorumDown
        case "alpha":
            if let value = flag(item) { draft.alpha = value }
        case "omega":
            if let value = flag(item) { draft.omega = value }
        case "inhibit_on_failure":
            if let value = flag(item) { draft.inhibitOnFailure = value }
        case "weight":
            if let value = number(item, in: 0...Self.largestWeight) { draft.weight = Int32(value) }
        case "rise":
            if let value = number(item, in: 1...UInt32.max) { draft.rise = value }
        case "ip_family":
            if item.values != ["inet"] {
                warn(item, "ip_family '\(item.values.joined(separator: " "))': SwiftLVS forwards IPv4 (inet) only; ignored")
            }
        case "real_server":
            if let server = try readRealServer(item) { draft.realServers.append(server) }
        case "nat_mask", "net_mask":
            warn(item, "\(item.keyword) is obsolete (keepalived no longer reads it, and it has no meaning for direct routing); ignored")
        default:
            warnUnknown(item, in: "virtual_server", known: KeepalivedKeywords.virtualServer)
        }
    }

    /// keepalived's limits: persistence up to 31 days, weights up to 65535.
    static let longestPersistence: UInt32 = 31 * 24 * 3600
    static let largestWeight: UInt32 = 65535

    /// `lvs_method` / `lb_kind` `NAT|DR|TUN [tunnel options]`, compared case-sensitively as
    /// keepalived does: `dr` is unknown to it, so the line is ignored with a warning and the
    /// previous (or default) method stays.
    mutating func forwarding(_ statement: KeepalivedStatement, of server: String) -> KeepalivedForwarding? {
        guard let word = statement.values.first else {
            warn(statement, "\(statement.keyword) needs NAT, DR or TUN; ignored")
            return nil
        }
        guard let method = KeepalivedForwarding(rawValue: word) else {
            var message = "unknown routing method '\(word)' for the \(server) server: keepalived reads NAT, DR or TUN, case-sensitively"
            if let exact = KeepalivedForwarding(rawValue: word.uppercased()) {
                message += " (write '\(exact.rawValue)')"
            }
            warn(statement, message + "; this line is ignored, as keepalived ignores it")
            return nil
        }
        return method
    }

    /// `sorry_server IP [PORT]`.
    private mutating func readSorryServer(_ statement: KeepalivedStatement,
                                          into draft: inout KeepalivedVirtualServerDraft) throws(ConfigurationError) {
        guard (1...2).contains(statement.values.count) else {
            throw error(statement, "sorry_server needs an address and optionally a port: sorry_server IP [PORT]")
        }
        switch try address(statement.values[0], statement, what: "sorry server address") {
        case .ipv6:
            warn(statement, "\(statement.spelling): an IPv6 sorry server cannot serve an IPv4 virtual server; ignored")
        case .ipv4(let address):
            let port = try statement.values.count == 2 ? self.port(statement.values[1], statement) : nil
            draft.sorryServer = KeepalivedSorryServerDraft(address: address, port: port, file: statement.file, line: statement.line)
        }
    }

    /// The settings a virtual server or real server passes down to checkers (and a checker
    /// keeps for itself). Returns false when `item` is not one of them.
    mutating func readCheckDefault(_ item: KeepalivedStatement,
                                   into defaults: inout KeepalivedCheckDefaults) throws(ConfigurationError) -> Bool {
        switch item.keyword {
        case "connect_timeout":
            if let value = timer(item, allowZero: false) { defaults.connectTimeout = value }
        case "retry":
            if let value = number(item) { defaults.retry = value }
        case "nb_get_retry":
            warn(item, "nb_get_retry is deprecated; keepalived reads it as 'retry', and so does lvsd: write retry \(item.values.joined(separator: " "))")
            if let value = number(item) { defaults.retry = value }
        case "delay_before_retry":
            if let value = timer(item) { defaults.delayBeforeRetry = value }
        case "warmup":
            if let value = timer(item) { defaults.warmup = value }
        case "delay_loop":
            if let value = timer(item, allowZero: false) { defaults.delayLoop = value }
        case "virtualhost":
            if let value = singleValue(item, expected: "a host name") { defaults.virtualHost = value }
        case "probe_via_vip":
            if let value = flag(item) { defaults.probeViaVIP = value }
        default:
            return false
        }
        try rejectBlock(item)
        return true
    }
}
