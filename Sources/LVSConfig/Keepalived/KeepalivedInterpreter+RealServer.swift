import LVSCore

extension KeepalivedInterpreter {
    /// `real_server IP [PORT] { ... }`; nil (with a warning) for an IPv6 real server, which
    /// keepalived also skips under an IPv4 virtual server.
    mutating func readRealServer(_ statement: KeepalivedStatement) throws(ConfigurationError) -> KeepalivedRealServerDraft? {
        let items = try block(of: statement)
        guard (1...2).contains(statement.values.count) else {
            throw error(statement, statement.values.isEmpty
                        ? "real_server needs an address: real_server IP [PORT] {"
                        : "unexpected '\(statement.values.dropFirst(2).joined(separator: " "))' after the port: real_server IP [PORT] {")
        }
        let address: IPv4Address
        switch try self.address(statement.values[0], statement, what: "real server address") {
        case .ipv6:
            warn(statement, "\(statement.spelling): IPv6 real servers are not supported (SwiftLVS forwards IPv4 only); this real server is skipped")
            return nil
        case .ipv4(let value):
            address = value
        }
        let port = try statement.values.count == 2 ? self.port(statement.values[1], statement) : nil
        var server = KeepalivedRealServerDraft(address: address, port: port, statement: statement)
        for item in items {
            try readRealServerItem(item, into: &server)
        }
        for checker in server.unsupportedCheckers {
            let consequence = server.checkers.isEmpty
                ? "so \(server.spelling) is not health-checked (it is always considered up)"
                : "so \(server.spelling) is checked by its other checkers only"
            warn(checker, "\(checker.keyword) is not supported by lvsd (\(Self.unsupportedCheckers[checker.keyword] ?? "no such checker")); this checker is skipped, \(consequence)")
        }
        return server
    }

    /// The checkers keepalived has and lvsd does not run, with the reason.
    static let unsupportedCheckers: [String: String] = [
        "SMTP_CHECK": "it has no SMTP checker",
        "BFD_CHECK": "it does not run BFD", "FILE_CHECK": "it does not track files",
    ]

    private mutating func readRealServerItem(_ item: KeepalivedStatement,
                                             into server: inout KeepalivedRealServerDraft) throws(ConfigurationError) {
        if KeepalivedKeywords.realServer.contains(item.keyword) { try rejectBlock(item) }
        if try readCheckDefault(item, into: &server.defaults) { return }
        switch item.keyword {
        case "weight":
            if let value = number(item, in: 0...Self.largestWeight) { server.weight = Int32(value) }
        case "uthreshold":
            if let value = number(item) { server.upperThreshold = value }
        case "lthreshold":
            if let value = number(item) { server.lowerThreshold = value }
        case "lvs_method":
            if let method = forwarding(item, of: "real") {
                server.forwarding = method
                server.forwardingStatement = item
            }
        case "inhibit_on_failure":
            if let value = flag(item) { server.inhibitOnFailure = value }
        case "notify_up":
            server.notifyUp = script(item) ?? server.notifyUp
        case "notify_down":
            server.notifyDown = script(item) ?? server.notifyDown
        case "rise":
            if let value = number(item, in: 1...UInt32.max) { server.rise = value }
        case "alpha":
            if let value = flag(item) { server.defaults.alpha = value }
        case "smtp_alert", "snmp_name":
            break
        case "lb_kind":
            warn(item, "unknown keyword 'lb_kind' in real_server: keepalived reads 'lvs_method' here, so this line is ignored and the virtual server's method applies")
        case "TCP_CHECK", "HTTP_GET", "SSL_GET", "MISC_CHECK", "UDP_CHECK", "DNS_CHECK", "PING_CHECK":
            if let checker = try readChecker(item) { server.checkers.append(checker) }
        case "SMTP_CHECK", "BFD_CHECK", "FILE_CHECK":
            _ = try block(of: item)
            server.unsupportedCheckers.append(item)
        default:
            warnUnknown(item, in: "real_server", known: KeepalivedKeywords.realServer)
        }
    }
}
