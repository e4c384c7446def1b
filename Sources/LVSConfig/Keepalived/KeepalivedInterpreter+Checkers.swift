import LVSCore

extension KeepalivedInterpreter {
    /// A checker block lvsd runs (TCP_CHECK, HTTP_GET, SSL_GET, MISC_CHECK, UDP_CHECK, DNS_CHECK,
    /// PING_CHECK). Nil, with a warning, for one that has nothing to check (an HTTP_GET
    /// without url, a MISC_CHECK without misc_path), as keepalived drops those too.
    mutating func readChecker(_ statement: KeepalivedStatement) throws(ConfigurationError) -> KeepalivedCheckerDraft? {
        let items = try block(of: statement)
        let name = statement.keyword
        let known = KeepalivedKeywords.checker(name)
        var checker = KeepalivedCheckerDraft(kind: .tcp, file: statement.file, line: statement.line)
        var misc: MiscCheck?
        var udp = UDPCheck()
        var dns = DNSCheck()
        for item in items {
            guard known.contains(item.keyword) else {
                warnUnknown(item, in: name, known: known)
                continue
            }
            try rejectBlock(item)
            if KeepalivedKeywords.connectionOptions.contains(item.keyword) {
                try readConnectionOption(item, into: &checker, checkerName: name)
                continue
            }
            switch item.keyword {
            case "alpha":
                if let value = flag(item) { checker.defaults.alpha = value }
                continue
            case "log_all_failures", "fast_recovery":
                continue
            default:
                if try readCheckDefault(item, into: &checker.defaults) { continue }
            }
            switch (name, item.keyword) {
            case ("MISC_CHECK", "misc_path"):
                guard let command = item.values.first else {
                    warn(item, "misc_path needs a program; ignored")
                    continue
                }
                // The first value is keepalived's script string; further words (unquoted
                // arguments) are taken as more arguments rather than dropped.
                let arguments = KeepalivedValues.scriptArguments(command) + item.values.dropFirst()
                var check = misc ?? MiscCheck(arguments: arguments)
                check.arguments = arguments
                misc = check
            case ("MISC_CHECK", "misc_timeout"):
                if let value = timer(item, allowZero: false) { misc = (misc ?? MiscCheck(arguments: [])).with(timeout: value) }
            case ("MISC_CHECK", "misc_dynamic"):
                if let value = flag(item) { misc = (misc ?? MiscCheck(arguments: [])).with(dynamic: value) }
            case ("MISC_CHECK", "user"):
                warn(item, "user in MISC_CHECK is not supported: lvsd runs the program as its own user; ignored")
            case ("SSL_GET", "enable_sni"):
                if let value = flag(item) { checker.enableSNI = value }
            case ("HTTP_GET", "url"), ("SSL_GET", "url"):
                if let url = try readURL(item) { checker.urls.append(url) }
            case ("HTTP_GET", "http_protocol"), ("SSL_GET", "http_protocol"):
                if let version = singleValue(item, expected: "1.0, 1.0C or 1.1"), !["1.0", "1.0C", "1.1"].contains(version) {
                    warn(item, "http_protocol '\(version)' is not one of 1.0, 1.0C, 1.1; ignored")
                }
            case ("UDP_CHECK", "payload"):
                guard !item.values.isEmpty, let bytes = KeepalivedValues.hexBytes(item.values) else {
                    warn(item, "payload '\(item.values.joined(separator: " "))' is not a hex string (such as 0a1b2c); ignored")
                    continue
                }
                udp.payload = bytes
            case ("UDP_CHECK", "require_reply"):
                udp.requireReply = true
                if !item.values.isEmpty {
                    warn(item, "require_reply: lvsd requires a reply but does not compare it with '\(item.values.joined(separator: " "))'")
                }
            case ("UDP_CHECK", "min_reply_length"), ("UDP_CHECK", "max_reply_length"):
                warn(item, "\(item.keyword) is not supported: any reply length is accepted; ignored")
            case ("DNS_CHECK", "type"):
                guard let type = singleValue(item, expected: "a query type") else { continue }
                let types = ["A", "NS", "CNAME", "SOA", "MX", "TXT", "AAAA"]
                if types.contains(type.uppercased()) {
                    dns.type = type.uppercased()
                } else {
                    warn(item, "unknown DNS query type '\(type)' (\(types.joined(separator: ", "))); ignored, the type stays \(dns.type)")
                }
            case ("DNS_CHECK", "name"):
                if let value = singleValue(item, expected: "a domain name") { dns.name = value }
            default:
                warnUnknown(item, in: name, known: known)
            }
        }
        switch name {
        case "HTTP_GET", "SSL_GET":
            guard !checker.urls.isEmpty else {
                warn(statement, "\(name) has no url block, so it has nothing to check; this checker is skipped")
                return nil
            }
            checker.kind = name == "SSL_GET" ? .ssl(HTTPCheck(urls: [])) : .http(HTTPCheck(urls: []))
        case "MISC_CHECK":
            guard let misc, !misc.arguments.isEmpty else {
                warn(statement, "MISC_CHECK has no misc_path, so it has nothing to run; this checker is skipped, as keepalived skips it")
                return nil
            }
            if checker.defaults.probeViaVIP == true {
                warn(statement, "probe_via_vip has no effect on MISC_CHECK: the program does its own probing")
                checker.defaults.probeViaVIP = false
            }
            checker.kind = .misc(misc)
        case "UDP_CHECK":
            checker.kind = .udp(udp)
        case "DNS_CHECK":
            checker.kind = .dns(dns)
        case "PING_CHECK":
            checker.kind = .ping
        default:
            checker.kind = .tcp
        }
        return checker
    }

    /// connect_ip, connect_port, bindto, bind_port (used) and bind_if, fwmark (refused).
    private mutating func readConnectionOption(_ item: KeepalivedStatement, into checker: inout KeepalivedCheckerDraft,
                                               checkerName: String) throws(ConfigurationError) {
        switch item.keyword {
        case "connect_ip", "bindto":
            guard item.values.count == 1 else {
                throw error(item, "\(item.keyword) needs one address")
            }
            switch try address(item.values[0], item, what: "\(item.keyword) address") {
            case .ipv6:
                warn(item, "\(item.keyword) \(item.values[0]): IPv6 checks are not supported; ignored")
            case .ipv4(let address):
                if item.keyword == "connect_ip" { checker.connectAddress = address } else { checker.bindAddress = address }
            }
        case "connect_port":
            checker.connectPort = try checkPort(item)
        case "bind_port":
            checker.bindPort = try checkPort(item)
        default:
            warn(item, "\(item.keyword) in \(checkerName) is not supported by lvsd's checkers; ignored")
        }
    }

    /// `url { path ; digest ; status_code ; virtualhost }` of HTTP_GET; the regex options are
    /// refused with one warning.
    private mutating func readURL(_ statement: KeepalivedStatement) throws(ConfigurationError) -> KeepalivedCheckerDraft.URLDraft? {
        var path: String?
        var url = HTTPCheck.URL(path: "/")
        var virtualHost: String?
        var warnedRegex = false
        for item in try block(of: statement) {
            guard KeepalivedKeywords.url.contains(item.keyword) else {
                warnUnknown(item, in: "url", known: KeepalivedKeywords.url)
                continue
            }
            try rejectBlock(item)
            switch item.keyword {
            case "path":
                path = singleValue(item, expected: "a path such as /health") ?? path
            case "digest":
                guard let digest = singleValue(item, expected: "an MD5 digest (32 hex digits)") else { continue }
                let lower = digest.lowercased()
                guard lower.count == 32, lower.unicodeScalars.allSatisfy({ KeepalivedTokenizer.hexValue($0) != nil }) else {
                    warn(item, "digest '\(digest)' is not an MD5 digest (32 hex digits, as genhash prints it); ignored")
                    continue
                }
                url.digest = lower
            case "status_code":
                guard let codes = statusCodes(item.values) else {
                    warn(item, "status_code '\(item.values.joined(separator: " "))' is not a list of codes or ranges (200, 200-299); ignored")
                    continue
                }
                if codes.count == 1, codes[0].count == 1 {
                    url.statusCode = codes[0].lowerBound
                    url.statusCodeRanges = []
                } else {
                    url.statusCode = nil
                    url.statusCodeRanges = codes
                }
            case "virtualhost":
                virtualHost = singleValue(item, expected: "a host name") ?? virtualHost
            case "tls_compliant":
                break
            default:
                if !warnedRegex {
                    warn(item, "\(item.keyword): matching the body against a regex is not supported; this url is checked by status\(url.digest == nil ? "" : " and digest") only")
                    warnedRegex = true
                }
            }
        }
        guard let path else {
            warn(statement, "url without path; this url is skipped")
            return nil
        }
        url.path = path
        return KeepalivedCheckerDraft.URLDraft(url: url, virtualHost: virtualHost)
    }

    /// `200`, `200-299 301 ...` as ranges; nil if a word is neither.
    private func statusCodes(_ words: [String]) -> [ClosedRange<Int>]? {
        guard !words.isEmpty else { return nil }
        var ranges: [ClosedRange<Int>] = []
        for word in words {
            let bounds = word.split(separator: "-", omittingEmptySubsequences: false).map {
                KeepalivedValues.unsigned(String($0), in: 100...999).map(Int.init)
            }
            switch bounds.count {
            case 1:
                guard let code = bounds[0] else { return nil }
                ranges.append(code...code)
            case 2:
                guard let low = bounds[0], let high = bounds[1], low <= high else { return nil }
                ranges.append(low...high)
            default:
                return nil
            }
        }
        return ranges
    }
}

extension MiscCheck {
    func with(timeout: Double) -> MiscCheck {
        var copy = self
        copy.timeout = timeout
        return copy
    }

    func with(dynamic: Bool) -> MiscCheck {
        var copy = self
        copy.dynamic = dynamic
        return copy
    }
}
