import Glibc
import LVSConfig
import LVSCore

/// The seam between lvsd and the keepalived.conf reader. The reader proper
/// (`KeepalivedConfigReader` in LVSConfig) is written on another branch; until it is merged,
/// lvsd reads the subset below so that `--config` and SIGHUP can be run and tested end to end.
/// At the merge, `load` becomes `{ path throws(ConfigurationError) in try KeepalivedConfigReader().load(path: path) }`
/// and `StopgapKeepalivedReader` goes.
enum KeepalivedLoader {
    static let load: @Sendable (String) throws(ConfigurationError) -> KeepalivedConfiguration = { path throws(ConfigurationError) in
        try StopgapKeepalivedReader().load(path: path)
    }
}

/// A small keepalived.conf reader for the health-check work: `virtual_server IP PORT { ... }`
/// with `real_server IP PORT { ... }` and the checker blocks, keepalived's defaults, comments
/// (`#`, `!`), double quotes. Other top-level blocks are skipped with a warning. Not the
/// project's reader (see `KeepalivedLoader`).
struct StopgapKeepalivedReader {
    struct Token {
        var text: String
        var line: Int
    }

    func load(path: String) throws(ConfigurationError) -> KeepalivedConfiguration {
        guard let f = fopen(path, "r") else {
            throw ConfigurationError(file: path, line: 0, message: "cannot open: \(String(cString: strerror(errno)))")
        }
        defer { fclose(f) }
        var text = ""
        var buffer = [CChar](repeating: 0, count: 4096)
        while fgets(&buffer, Int32(buffer.count), f) != nil {
            text += String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        }
        return try parse(text, file: path)
    }

    func tokenize(_ text: String) -> [Token] {
        var tokens: [Token] = []
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            var current = ""
            var quoted = false
            var started = false
            func flush() {
                if started { tokens.append(Token(text: current, line: index + 1)) }
                current = ""
                started = false
            }
            for ch in rawLine {
                if quoted {
                    if ch == "\"" { quoted = false } else { current.append(ch) }
                    continue
                }
                switch ch {
                case "\"": quoted = true; started = true
                case "#", "!": flush(); break
                case " ", "\t", "\r": flush()
                case "{", "}": flush(); tokens.append(Token(text: String(ch), line: index + 1))
                default: current.append(ch); started = true
                }
                if !quoted && (ch == "#" || ch == "!") { break }
            }
            flush()
        }
        return tokens
    }

    func parse(_ text: String, file: String) throws(ConfigurationError) -> KeepalivedConfiguration {
        var p = Parser(tokens: tokenize(text), file: file)
        var configuration = KeepalivedConfiguration()
        while let t = p.next() {
            if t.text == "virtual_server" {
                let (service, health) = try p.virtualServer(at: t)
                configuration.director.services.append(service)
                configuration.health.services.append(health)
            } else {
                configuration.warnings.append(ConfigurationWarning(file: file, line: t.line, message: "'\(t.text)' is not read by this lvsd (skipped)"))
                try p.skipValuesAndBlock()
            }
        }
        return configuration
    }

    struct Parser {
        var tokens: [Token]
        var file: String
        var index = 0

        mutating func next() -> Token? {
            guard index < tokens.count else { return nil }
            defer { index += 1 }
            return tokens[index]
        }

        func peek() -> Token? { index < tokens.count ? tokens[index] : nil }

        func error(_ t: Token?, _ message: String) -> ConfigurationError {
            ConfigurationError(file: file, line: t?.line ?? tokens.last?.line ?? 0, message: message)
        }

        /// The values after a keyword, up to the next keyword on another line or a brace.
        mutating func values(after keyword: Token) -> [Token] {
            var result: [Token] = []
            while let t = peek(), t.line == keyword.line, t.text != "{", t.text != "}" {
                result.append(t)
                index += 1
            }
            return result
        }

        mutating func skipValuesAndBlock() throws(ConfigurationError) {
            while let t = peek(), t.text != "{", t.text != "}" , t.line == tokens[index - 1].line { index += 1 }
            guard peek()?.text == "{" else { return }
            var depth = 0
            while let t = next() {
                if t.text == "{" { depth += 1 }
                if t.text == "}" { depth -= 1; if depth == 0 { return } }
            }
            throw error(nil, "missing '}'")
        }

        mutating func open(_ keyword: Token) throws(ConfigurationError) {
            guard next()?.text == "{" else { throw error(keyword, "'\(keyword.text)' expects a '{' block") }
        }

        func number<T: FixedWidthInteger>(_ t: Token?, _ what: String) throws(ConfigurationError) -> T {
            guard let t, let v = T(t.text) else { throw error(t, "\(what) expects a number, not '\(t?.text ?? "")'") }
            return v
        }

        func seconds(_ t: Token?, _ what: String) throws(ConfigurationError) -> Double {
            guard let t, let v = Double(t.text), v >= 0 else { throw error(t, "\(what) expects seconds, not '\(t?.text ?? "")'") }
            return v
        }

        func address(_ t: Token?, _ what: String) throws(ConfigurationError) -> IPv4Address {
            guard let t, let a = IPv4Address(t.text) else { throw error(t, "\(what) expects an IPv4 address, not '\(t?.text ?? "")'") }
            return a
        }

        mutating func virtualServer(at keyword: Token) throws(ConfigurationError) -> (VirtualServiceConfig, ServiceHealth) {
            let v = values(after: keyword)
            let vip = try address(v.first, "virtual_server")
            let port: UInt16 = v.count > 1 ? try number(v[1], "virtual_server's port") : 0
            try open(keyword)
            var transport = TransportProtocol.tcp
            var scheduler = "wlc"
            var persistence: Persistence?
            var health = ServiceHealth(key: VirtualServiceKey(transport: .tcp, address: vip, port: port))
            var servers: [(RealServerConfig, RealServerHealth, UInt16)] = []
            var checkerDefaults = CheckerDefaults()
            while let t = next() {
                if t.text == "}" { break }
                let vals = values(after: t)
                switch t.text {
                case "lb_algo", "lvs_sched": scheduler = vals.first?.text ?? scheduler
                case "lb_kind", "lvs_method":
                    guard vals.first?.text == "DR" else { throw error(t, "only lvs_method DR is supported (direct routing)") }
                case "protocol":
                    switch vals.first?.text.uppercased() {
                    case "TCP": transport = .tcp
                    case "UDP": transport = .udp
                    default: throw error(t, "protocol expects TCP or UDP")
                    }
                case "delay_loop": health.delayLoop = try seconds(vals.first, "delay_loop")
                case "quorum": health.quorum = try number(vals.first, "quorum")
                case "hysteresis": health.hysteresis = try number(vals.first, "hysteresis")
                case "quorum_up": health.quorumUp = argv(vals)
                case "quorum_down": health.quorumDown = argv(vals)
                case "sorry_server":
                    let a = try address(vals.first, "sorry_server")
                    let p: UInt16 = vals.count > 1 ? try number(vals[1], "sorry_server's port") : port
                    health.sorryServer = RealServerConfig(address: a, port: p)
                case "inhibit_on_failure": health.inhibitOnFailure = true
                case "alpha": health.alpha = true
                case "omega": health.omega = true
                case "persistence_timeout":
                    persistence = Persistence(timeout: vals.isEmpty ? Persistence.defaultTimeout : try number(vals[0], "persistence_timeout"))
                case "connect_timeout": checkerDefaults.connectTimeout = try seconds(vals.first, "connect_timeout")
                case "retry": checkerDefaults.retry = try number(vals.first, "retry")
                case "delay_before_retry": checkerDefaults.delayBeforeRetry = try seconds(vals.first, "delay_before_retry")
                case "real_server":
                    servers.append(try realServer(at: t, values: vals, servicePort: port, defaults: checkerDefaults))
                default:
                    try skipValuesAndBlockAfterValues()
                }
            }
            let key = VirtualServiceKey(transport: transport, address: vip, port: port)
            health.key = key
            var service = VirtualServiceConfig(key: key, scheduler: scheduler, persistence: persistence)
            for (entry, h, _) in servers {
                service.realServers.append(entry)
                var rs = h
                if health.inhibitOnFailure { rs.inhibitOnFailure = true }
                health.realServers.append(rs)
            }
            return (service, health)
        }

        mutating func skipValuesAndBlockAfterValues() throws(ConfigurationError) {
            guard peek()?.text == "{" else { return }
            var depth = 0
            while let t = next() {
                if t.text == "{" { depth += 1 }
                if t.text == "}" { depth -= 1; if depth == 0 { return } }
            }
            throw error(nil, "missing '}'")
        }

        struct CheckerDefaults {
            var connectTimeout: Double?
            var retry: UInt32?
            var delayBeforeRetry: Double?
        }

        mutating func realServer(at keyword: Token, values v: [Token], servicePort: UInt16,
                                 defaults: CheckerDefaults) throws(ConfigurationError) -> (RealServerConfig, RealServerHealth, UInt16) {
            let address = try address(v.first, "real_server")
            let configuredPort: UInt16 = v.count > 1 ? try number(v[1], "real_server's port") : servicePort
            try open(keyword)
            // Direct routing: the table entry's port is the service's (ipvsadm -g forces it);
            // the checks go to the port the configuration names.
            var entry = RealServerConfig(address: address, port: servicePort)
            var health = RealServerHealth(address: address, port: servicePort)
            while let t = next() {
                if t.text == "}" { break }
                let vals = values(after: t)
                switch t.text {
                case "weight":
                    entry.weight = try number(vals.first, "weight")
                    health.weight = entry.weight
                case "uthreshold": entry.upperThreshold = try number(vals.first, "uthreshold")
                case "lthreshold": entry.lowerThreshold = try number(vals.first, "lthreshold")
                case "inhibit_on_failure": health.inhibitOnFailure = true
                case "notify_up": health.notifyUp = argv(vals)
                case "notify_down": health.notifyDown = argv(vals)
                case "rise": health.rise = try number(vals.first, "rise")
                case "TCP_CHECK", "HTTP_GET", "MISC_CHECK", "UDP_CHECK", "DNS_CHECK", "PING_CHECK":
                    var c = try checker(t, defaults: defaults)
                    if c.connectPort == nil && configuredPort != servicePort { c.connectPort = configuredPort }
                    health.checkers.append(c)
                default:
                    try skipValuesAndBlockAfterValues()
                }
            }
            return (entry, health, configuredPort)
        }

        mutating func checker(_ keyword: Token, defaults: CheckerDefaults) throws(ConfigurationError) -> CheckerConfig {
            try open(keyword)
            var kind: CheckerConfig.Kind
            var retry: UInt32 = 1
            var delayBeforeRetry: Double? = 1
            switch keyword.text {
            case "TCP_CHECK": kind = .tcp
            case "HTTP_GET": kind = .http(HTTPCheck(urls: [])); delayBeforeRetry = 3
            case "MISC_CHECK": kind = .misc(MiscCheck(arguments: [])); retry = 0
            case "UDP_CHECK": kind = .udp(UDPCheck())
            case "DNS_CHECK": kind = .dns(DNSCheck()); retry = 3; delayBeforeRetry = nil
            default: kind = .ping
            }
            var c = CheckerConfig(kind: kind)
            c.retry = defaults.retry ?? retry
            c.connectTimeout = defaults.connectTimeout ?? 5
            var explicitDelay = defaults.delayBeforeRetry
            while let t = next() {
                if t.text == "}" { break }
                let vals = values(after: t)
                switch t.text {
                case "connect_ip": c.connectAddress = try address(vals.first, "connect_ip")
                case "connect_port": c.connectPort = try number(vals.first, "connect_port")
                case "bindto": c.bindAddress = try address(vals.first, "bindto")
                case "bind_port": c.bindPort = try number(vals.first, "bind_port")
                case "connect_timeout": c.connectTimeout = try seconds(vals.first, "connect_timeout")
                case "retry", "nb_get_retry": c.retry = try number(vals.first, t.text)
                case "delay_before_retry": explicitDelay = try seconds(vals.first, "delay_before_retry")
                case "delay_loop": c.delayLoop = try seconds(vals.first, "delay_loop")
                case "warmup": c.warmup = try seconds(vals.first, "warmup")
                case "url":
                    guard case .http(var http) = c.kind else { throw error(t, "url belongs in HTTP_GET") }
                    http.urls.append(try url(t))
                    c.kind = .http(http)
                case "virtualhost":
                    if case .http(var http) = c.kind { http.virtualHost = vals.first?.text; c.kind = .http(http) }
                case "misc_path":
                    if case .misc(var m) = c.kind {
                        m.arguments = argv(vals)
                        c.kind = .misc(m)
                    }
                case "misc_timeout":
                    if case .misc(var m) = c.kind { m.timeout = try seconds(vals.first, "misc_timeout"); c.kind = .misc(m) }
                case "misc_dynamic":
                    if case .misc(var m) = c.kind { m.dynamic = true; c.kind = .misc(m) }
                case "payload":
                    if case .udp(var u) = c.kind { u.payload = hex(vals.first?.text ?? ""); c.kind = .udp(u) }
                case "require_reply":
                    if case .udp(var u) = c.kind { u.requireReply = true; c.kind = .udp(u) }
                case "type":
                    if case .dns(var d) = c.kind { d.type = vals.first?.text ?? d.type; c.kind = .dns(d) }
                case "name":
                    if case .dns(var d) = c.kind { d.name = vals.first?.text ?? d.name; c.kind = .dns(d) }
                default:
                    try skipValuesAndBlockAfterValues()
                }
            }
            // DNS_CHECK's delay_before_retry defaults to its delay loop (resolved by the monitor
            // from the service when the checker has none).
            c.delayBeforeRetry = explicitDelay ?? delayBeforeRetry ?? c.delayLoop ?? 60
            return c
        }

        mutating func url(_ keyword: Token) throws(ConfigurationError) -> HTTPCheck.URL {
            try open(keyword)
            var u = HTTPCheck.URL(path: "/")
            while let t = next() {
                if t.text == "}" { break }
                let vals = values(after: t)
                switch t.text {
                case "path": u.path = vals.first?.text ?? "/"
                case "digest": u.digest = vals.first?.text.lowercased()
                case "status_code": u.statusCode = try number(vals.first, "status_code")
                default: try skipValuesAndBlockAfterValues()
                }
            }
            return u
        }

        /// A script line: one quoted string is split on spaces (keepalived's way), several
        /// words are the argv as they are.
        func argv(_ vals: [Token]) -> [String] {
            if vals.count == 1 { return vals[0].text.split(separator: " ").map(String.init) }
            return vals.map(\.text)
        }

        func hex(_ text: String) -> [UInt8] {
            var bytes: [UInt8] = []
            var chars = Array(text.utf8)
            if chars.count % 2 == 1 { chars.insert(UInt8(ascii: "0"), at: 0) }
            var i = 0
            while i + 1 < chars.count {
                if let b = UInt8(String(decoding: chars[i...i + 1], as: UTF8.self), radix: 16) { bytes.append(b) }
                i += 2
            }
            return bytes
        }
    }
}
