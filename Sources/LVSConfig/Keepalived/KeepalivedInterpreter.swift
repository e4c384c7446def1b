import LVSCore

/// Walks the statements of a keepalived.conf and builds lvsd's configuration. The reading of
/// each block lives in its own file (`+Globals`, `+Groups`, `+VirtualServer`, `+RealServer`,
/// `+Checkers`, `+VRRP`); settling a virtual server into services is `+Services`.
struct KeepalivedInterpreter {
    let serviceNames: ServiceNames
    let resolveHost: @Sendable (String) -> IPv4Address?
    var warnings: [ConfigurationWarning] = []
    var groups: [String: KeepalivedServerGroup] = [:]
    var services: [VirtualServiceConfig] = []
    var health: [ServiceHealth] = []
    /// Where each service was defined, to name the first one when a key comes twice.
    var serviceOrigins: [VirtualServiceKey: String] = [:]
    var vrrpInstances: [VRRPInstanceBlock] = []
    var routerID: String?
    var lvsTimeouts: TimeoutSetting?
    var syncDaemon: KeepalivedSyncDaemon?
    var vrrpVersion: KeepalivedVRRPVersion?
    var vrrpStrict = false
    /// The top-level `SSL { certificate; key }`: the client certificate of every SSL_GET.
    var sslCertificate: String?
    var sslKey: String?

    init(serviceNames: ServiceNames, resolveHost: @escaping @Sendable (String) -> IPv4Address?) {
        self.serviceNames = serviceNames
        self.resolveHost = resolveHost
    }

    mutating func run(_ statements: [KeepalivedStatement]) throws(ConfigurationError) -> KeepalivedConfiguration {
        // keepalived resolves `virtual_server group NAME` after reading the whole file, so a
        // group may be defined after (or in an include read after) the servers that use it.
        for statement in statements where statement.keyword == "virtual_server_group" {
            try readGroup(statement)
        }
        for statement in statements {
            try readTopLevel(statement)
        }
        // The SSL block applies wherever it is in the file, as in keepalived.
        if sslCertificate != nil || sslKey != nil {
            for s in health.indices {
                for r in health[s].realServers.indices {
                    for c in health[s].realServers[r].checkers.indices {
                        guard case .ssl(var check) = health[s].realServers[r].checkers[c].kind else { continue }
                        check.clientCertificate = sslCertificate
                        check.clientKey = sslKey
                        health[s].realServers[r].checkers[c].kind = .ssl(check)
                    }
                }
            }
        }
        return KeepalivedConfiguration(
            director: DirectorConfiguration(services: services), health: HealthConfiguration(services: health),
            vrrpInstances: vrrpInstances, warnings: warnings, routerID: routerID, lvsTimeouts: lvsTimeouts,
            syncDaemon: syncDaemon, vrrpVersion: vrrpVersion, vrrpStrict: vrrpStrict)
    }

    private mutating func readTopLevel(_ statement: KeepalivedStatement) throws(ConfigurationError) {
        if statement.keyword.hasPrefix("@") {
            warn(statement, "conditional configuration ('\(statement.keyword)') is not supported: lvsd has no config id (keepalived -i); this line\(statement.block == nil ? "" : " and its block") is ignored")
            return
        }
        if statement.keyword.hasPrefix("$") {
            warn(statement, "parameter definitions ('\(statement.keyword)') are not supported; the line is ignored and the parameter is not substituted")
            return
        }
        switch statement.keyword {
        case "global_defs":
            try readGlobalDefinitions(statement)
        case "virtual_server_group":
            if let name = statement.values.first, let group = groups[name], group.file == statement.file, group.line == statement.line {
                warnings += group.warnings
            }
        case "virtual_server":
            try readVirtualServer(statement)
        case "vrrp_instance":
            try readVRRPInstance(statement)
        case "static_ipaddress", "static_routes", "static_rules":
            warn(statement, "\(statement.keyword) is not applied by lvsd: keepalived adds these to the host when it starts; configure them on the host (ip address/route/rule) if lvsd replaces keepalived")
        case "SSL":
            try readSSL(statement)
        case "net_namespace", "net_namespace_ipvs":
            warn(statement, "\(statement.keyword) is not supported: lvsd runs in the network namespace it is started in; ignored")
        case let keyword where KeepalivedKeywords.silentTopLevel.contains(keyword):
            break
        default:
            warnUnknown(statement, in: "the top level", known: KeepalivedKeywords.topLevel)
        }
    }

    /// keepalived's `SSL { password; ca; certificate; key }` for SSL_GET: lvsd presents the
    /// client certificate and key (PEM, unencrypted); it verifies no server certificate (as
    /// keepalived, which loads `ca` but never checks the server against it), so `ca` is ignored
    /// with a warning, as is `password` (encrypted keys are not supported).
    private mutating func readSSL(_ statement: KeepalivedStatement) throws(ConfigurationError) {
        for item in try block(of: statement) {
            try rejectBlock(item)
            switch item.keyword {
            case "certificate":
                sslCertificate = singleValue(item, expected: "a PEM certificate file") ?? sslCertificate
            case "key":
                sslKey = singleValue(item, expected: "a PEM private key file") ?? sslKey
            case "ca":
                warn(item, "ca in SSL: lvsd does not verify the real servers' certificates (keepalived does not either); ignored")
            case "password":
                warn(item, "password in SSL: encrypted private keys are not supported; give lvsd an unencrypted key; ignored")
            default:
                warnUnknown(item, in: "SSL", known: ["password", "ca", "certificate", "key"])
            }
        }
        if (sslCertificate == nil) != (sslKey == nil) {
            warn(statement, "SSL needs both certificate and key for a client certificate; SSL_GET presents none")
            sslCertificate = nil
            sslKey = nil
        }
    }

    // MARK: - Messages

    mutating func warn(_ statement: KeepalivedStatement, _ message: String) {
        warnings.append(ConfigurationWarning(file: statement.file, line: statement.line, message: message))
    }

    mutating func warn(file: String, line: Int, _ message: String) {
        warnings.append(ConfigurationWarning(file: file, line: line, message: message))
    }

    func error(_ statement: KeepalivedStatement, _ message: String) -> ConfigurationError {
        ConfigurationError(file: statement.file, line: statement.line, message: message)
    }

    /// keepalived's answer to a keyword it does not know in a block: a warning, and the line
    /// (with its block, if it opens one) is skipped.
    mutating func warnUnknown(_ statement: KeepalivedStatement, in context: String, known: Set<String>) {
        var message = "unknown keyword '\(statement.keyword)' in \(context)"
        if let guess = KeepalivedKeywords.suggestion(for: statement.keyword, in: known) {
            message += " (did you mean '\(guess)'?)"
        }
        message += statement.block == nil ? "; ignored" : "; ignored with its block"
        warn(statement, message)
    }

    /// The block of a statement that must open one.
    func block(of statement: KeepalivedStatement) throws(ConfigurationError) -> [KeepalivedStatement] {
        guard let block = statement.block else {
            throw error(statement, "expected '{' after '\(statement.spelling)': \(statement.keyword) opens a block")
        }
        return block
    }

    /// Refuses a block after a keyword that takes values only: the braces would otherwise be
    /// read as belonging to the enclosing block.
    func rejectBlock(_ statement: KeepalivedStatement) throws(ConfigurationError) {
        if statement.block != nil, !KeepalivedKeywords.opensBlock.contains(statement.keyword) {
            throw error(statement, "unexpected '{' after '\(statement.spelling)': \(statement.keyword) takes values, not a block")
        }
    }

    // MARK: - Values

    /// The one value of a statement, or a warning (as keepalived ignores such a line) and nil.
    mutating func singleValue(_ statement: KeepalivedStatement, expected: String) -> String? {
        guard statement.values.count == 1 else {
            warn(statement, statement.values.isEmpty
                 ? "\(statement.keyword) needs \(expected); ignored"
                 : "\(statement.keyword) takes one value (\(expected)), not '\(statement.values.joined(separator: " "))'; ignored")
            return nil
        }
        return statement.values[0]
    }

    /// An optional `<BOOL>` after a flag keyword: bare means on.
    mutating func flag(_ statement: KeepalivedStatement) -> Bool? {
        guard let text = statement.values.first else { return true }
        guard statement.values.count == 1, let value = KeepalivedValues.bool(text) else {
            warn(statement, "\(statement.keyword) takes on/off, true/false or yes/no, not '\(statement.values.joined(separator: " "))'; ignored")
            return nil
        }
        return value
    }

    mutating func timer(_ statement: KeepalivedStatement, allowZero: Bool = true) -> Double? {
        guard let text = singleValue(statement, expected: "a time in seconds") else { return nil }
        guard let value = KeepalivedValues.timer(text), allowZero || value > 0 else {
            warn(statement, "\(statement.keyword) '\(text)' is not a valid time (seconds, \(allowZero ? "" : "above 0, ")fractions allowed); ignored")
            return nil
        }
        return value
    }

    mutating func number(_ statement: KeepalivedStatement, in range: ClosedRange<UInt32> = 0...UInt32.max) -> UInt32? {
        guard let text = singleValue(statement, expected: "a number") else { return nil }
        guard let value = KeepalivedValues.uint32(text, in: range) else {
            warn(statement, "\(statement.keyword) '\(text)' is not a number in \(range.lowerBound)-\(range.upperBound); ignored")
            return nil
        }
        return value
    }

    enum AddressReading {
        case ipv4(IPv4Address)
        case ipv6
    }

    /// An address where keepalived wants one: IPv4 (dotted quad, or a host name through the
    /// resolver), or an IPv6 literal, which the caller skips with a warning. Anything else is
    /// an error: the address says what to forward to or check, and guessing would be wrong.
    func address(_ text: String, _ statement: KeepalivedStatement, what: String) throws(ConfigurationError) -> AddressReading {
        if let address = IPv4Address(text) { return .ipv4(address) }
        if KeepalivedValues.isIPv6(text) { return .ipv6 }
        if !KeepalivedValues.looksNumeric(text), let address = resolveHost(text) { return .ipv4(address) }
        throw error(statement, "'\(text)' is not a valid \(what): expected an IPv4 address such as 10.0.0.1")
    }

    func ipv4Address(_ text: String, _ statement: KeepalivedStatement, what: String) throws(ConfigurationError) -> IPv4Address {
        switch try address(text, statement, what: what) {
        case .ipv4(let address): return address
        case .ipv6: throw error(statement, "'\(text)' is an IPv6 address: SwiftLVS forwards and checks over IPv4 only; write an IPv4 \(what)")
        }
    }

    /// A port as written: numbers are checked now, names when the protocol is known.
    func port(_ text: String, _ statement: KeepalivedStatement) throws(ConfigurationError) -> KeepalivedPort {
        if KeepalivedValues.looksNumeric(text) {
            guard let value = KeepalivedValues.unsigned(text, in: 0...65535) else {
                throw error(statement, "'\(text)' is not a valid port: expected 0-65535")
            }
            return .number(UInt16(value))
        }
        return .name(text)
    }

    /// The number of a port, resolving a service name for `transport` (/etc/services).
    func portNumber(_ port: KeepalivedPort, transport: TransportProtocol, file: String, line: Int) throws(ConfigurationError) -> UInt16 {
        switch port {
        case .number(let value):
            return value
        case .name(let name):
            guard let value = serviceNames.port(named: name, transport: transport) else {
                throw ConfigurationError(file: file, line: line,
                                         message: "'\(name)' is not a valid port: expected 0-65535 or a \(transport) service name from /etc/services")
            }
            return value
        }
    }

    /// A checker's `connect_port`/`bind_port`: a number, or a service name (TCP, then UDP).
    func checkPort(_ statement: KeepalivedStatement) throws(ConfigurationError) -> UInt16? {
        guard statement.values.count == 1 else {
            throw error(statement, "\(statement.keyword) needs one port (0-65535)")
        }
        switch try port(statement.values[0], statement) {
        case .number(let value):
            return value
        case .name(let name):
            if let value = serviceNames.port(named: name, transport: .tcp) ?? serviceNames.port(named: name, transport: .udp) {
                return value
            }
            throw error(statement, "'\(name)' is not a valid port: expected 0-65535 or a service name from /etc/services")
        }
    }

    /// A script line (`notify_up`, `quorum_up`): the first value is the command, split into
    /// argv; keepalived's optional `user [group]` after it are not used by lvsd.
    mutating func script(_ statement: KeepalivedStatement) -> [String]? {
        guard let command = statement.values.first else {
            warn(statement, "\(statement.keyword) needs a script; ignored")
            return nil
        }
        let arguments = KeepalivedValues.scriptArguments(command)
        guard !arguments.isEmpty else {
            warn(statement, "\(statement.keyword) needs a script; ignored")
            return nil
        }
        if statement.values.count > 1 {
            warn(statement, "\(statement.keyword): the user/group '\(statement.values.dropFirst().joined(separator: " "))' is not used; lvsd runs the script as its own user (quote a command that has arguments)")
        }
        return arguments
    }
}
