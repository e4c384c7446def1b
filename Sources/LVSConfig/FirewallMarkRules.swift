import LVSCore

/// lvsd's `--fwmark-rules` file: what gives a new flow its firewall mark, one rule a line,
///
///     # mark  proto  destination        ports
///     1       tcp    10.200.0.100       80,443
///     2       udp    10.200.0.100/32    53
///     3       tcp    10.200.1.0/24      8000-8080,9000
///     4       tcp    10.200.0.101       *
///
/// - mark: 1...4294967295, decimal as `-f` takes it, or hex (`0x1f`) as iptables writes it;
/// - proto: `tcp` or `udp` (a rule for both is two lines);
/// - destination: an IPv4 address, or a network `ADDRESS/PREFIX` with no host bits set
///   (no host names);
/// - ports: `*` for all, or a comma list of ports (1...65535) and ranges (`8000-8080`).
///
/// `#` starts a comment, anywhere on a line. The rules are tried in file order and the first
/// match gives the mark (`MarkClassifier`). The whole file is checked before it is used: the
/// first bad line is reported as `FILE:LINE: what is wrong (what was expected)`.
public enum FirewallMarkRules {
    public static func load(path: String) throws(ConfigurationError) -> MarkClassifier {
        try parse(readConfigurationFile(path, what: "the firewall-mark rules"), file: path)
    }

    public static func parse(_ text: String, file: String) throws(ConfigurationError) -> MarkClassifier {
        var rules: [MarkRule] = []
        for (offset, raw) in lines(of: text).enumerated() {
            let line = raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" })
            if fields.isEmpty { continue }
            do {
                rules.append(try rule(fields))
            } catch {
                throw ConfigurationError(file: file, line: offset + 1, message: error.message)
            }
        }
        return MarkClassifier(rules: rules)
    }

    struct LineError: Error {
        var message: String
        init(_ message: String) { self.message = message }
    }

    static func rule(_ fields: [Substring]) throws(LineError) -> MarkRule {
        guard fields.count == 4 else {
            throw LineError("expected `MARK PROTOCOL DESTINATION[/PREFIX] PORTS`, e.g. `1 tcp 10.0.0.100 80,443`; got \(fields.count) field\(fields.count == 1 ? "" : "s")")
        }
        guard let mark = Self.mark(fields[0]) else {
            throw LineError("'\(fields[0])' is not a firewall mark (expected 1..4294967295, or 0x1..0xffffffff)")
        }
        let transport: TransportProtocol
        switch fields[1].lowercased() {
        case "tcp": transport = .tcp
        case "udp": transport = .udp
        default: throw LineError("'\(fields[1])' is not a protocol (expected tcp or udp; a rule for both is two lines)")
        }
        let network = try Self.network(fields[2])
        let ports = try Self.ports(fields[3])
        return MarkRule(mark: mark, transport: transport, network: network, ports: ports)
    }

    /// Decimal, or hex with `0x`, 1...UInt32.max.
    static func mark(_ text: Substring) -> UInt32? {
        let lower = text.lowercased()
        let value: UInt32?
        if lower.hasPrefix("0x") {
            let digits = lower.dropFirst(2)
            value = !digits.isEmpty && digits.allSatisfy(\.isHexDigit) ? UInt32(digits, radix: 16) : nil
        } else {
            value = !lower.isEmpty && lower.allSatisfy({ $0.isASCII && $0.isNumber }) ? UInt32(lower) : nil
        }
        return value == 0 ? nil : value
    }

    static func network(_ text: Substring) throws(LineError) -> IPv4Network {
        let parts = text.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false)
        guard let address = IPv4Address(parts[0]) else {
            throw LineError("'\(parts[0])' is not an IPv4 address (expected a dotted quad; host names are not resolved)")
        }
        var prefix: UInt8 = 32
        if parts.count == 2 {
            guard parts[1].allSatisfy({ $0.isASCII && $0.isNumber }), let p = UInt8(parts[1]), p <= 32 else {
                throw LineError("'/\(parts[1])' is not a prefix length (expected /0 to /32)")
            }
            prefix = p
        }
        guard let network = IPv4Network(address: address, prefixLength: prefix) else {
            let masked = IPv4Address(address.value & IPv4Network.mask(prefix))
            throw LineError("\(text) has bits set past the /\(prefix) prefix: write \(masked)/\(prefix) for the network, or \(address) for the one address")
        }
        return network
    }

    static func ports(_ text: Substring) throws(LineError) -> [ClosedRange<UInt16>] {
        if text == "*" { return MarkRule.anyPort }
        var ranges: [ClosedRange<UInt16>] = []
        for item in text.split(separator: ",", omittingEmptySubsequences: false) {
            let bounds = item.split(separator: "-", maxSplits: 1, omittingEmptySubsequences: false)
            guard let low = port(bounds[0]), let high = bounds.count == 2 ? port(bounds[1]) : low else {
                throw LineError("'\(item)' is not a port or a range (expected * or a comma list of 1..65535 and LOW-HIGH ranges, e.g. 80,443,8000-8080)")
            }
            guard low <= high else {
                throw LineError("'\(item)': the range ends before it starts (write \(high)-\(low))")
            }
            ranges.append(low...high)
        }
        return ranges
    }

    static func port(_ text: Substring) -> UInt16? {
        guard !text.isEmpty, text.allSatisfy({ $0.isASCII && $0.isNumber }), let value = UInt16(text), value != 0 else {
            return nil
        }
        return value
    }
}

extension DirectorConfiguration {
    /// What in the firewall-mark set-up is likely a mistake, one sentence each: a `-f` service
    /// whose mark no rule gives (it gets no traffic), and a rule mark no service takes (the
    /// flows it marks go to the `-t`/`-u` services, as unmarked flows do). Neither stops lvsd:
    /// services and rules may come at different times.
    public var firewallMarkNotes: [String] {
        let ruleMarks = Set(markRules.marks)
        let serviceMarks = self.serviceMarks
        let idle = services.filter { $0.key.isFirewallMark && !ruleMarks.contains($0.key.firewallMark) }
            .map { "\($0.key) gets no traffic: no --fwmark-rules rule gives mark \($0.key.firewallMark)" }
        let unused = markRules.marks.filter { !serviceMarks.contains($0) }
            .map { "mark \($0) is taken by no -f service: the flows its rules mark go to the -t/-u services, as unmarked flows do" }
        return idle + unused
    }
}
