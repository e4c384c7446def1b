/// One rule of an xtables tool: its chain and its arguments as given to `-A`.
///
/// Tools print rules back in their own order and spelling (`iptables-save` adds `-m tcp` and
/// `/32`; `arptables-save` puts `-j` first), so rules compare by `matchKey`, a normalised,
/// order-free form of the arguments, not by text.
public struct FirewallRule: Hashable, Codable, Sendable, CustomStringConvertible {
    public var chain: String
    public var arguments: [String]

    public init(chain: String, arguments: [String]) {
        self.chain = chain
        self.arguments = arguments
    }

    public var description: String { "-A \(chain) \(arguments.joined(separator: " "))" }

    /// The arguments as sorted `option=value` strings: long option names mapped to short ones,
    /// `/32` dropped from addresses, the implicit `-m tcp`/`-m udp` dropped, `!` kept with its
    /// option.
    public var matchKey: [String] {
        var pairs: [String] = []
        var i = 0
        var negate = false
        while i < arguments.count {
            let token = arguments[i]
            i += 1
            if token == "!" {
                negate = true
                continue
            }
            guard token.hasPrefix("-") else {
                pairs.append("=\(token)")  // a stray value: keep it so it still distinguishes
                continue
            }
            var values: [String] = []
            while i < arguments.count, !arguments[i].hasPrefix("-") || Int(arguments[i]) != nil, arguments[i] != "!" {
                values.append(arguments[i])
                i += 1
            }
            var key = Self.shortNames[token] ?? token
            var value = values.joined(separator: " ")
            if ["-s", "-d"].contains(key), value.hasSuffix("/32") { value.removeLast(3) }
            if key == "-m", value == "tcp" || value == "udp" {
                negate = false
                continue
            }
            if negate { key = "!" + key }
            negate = false
            pairs.append("\(key)=\(value)")
        }
        return pairs.sorted()
    }

    static let shortNames = [
        "--source": "-s", "--destination": "-d", "--jump": "-j", "--protocol": "-p",
        "--destination-port": "--dport", "--source-port": "--sport", "--in-interface": "-i",
        "--out-interface": "-o", "--match": "-m",
    ]

    /// Whether two rules are the same rule as the tools see it.
    public func matches(_ other: FirewallRule) -> Bool {
        chain == other.chain && matchKey == other.matchKey
    }
}

/// A `*-save` dump: tables, their chains' policies and their rules.
public struct RuleDump: Sendable, Equatable {
    public struct Table: Sendable, Equatable {
        /// Chain name to policy (`ACCEPT`, `DROP`, or `-` for a user chain).
        public var chains: [String: String] = [:]
        public var rules: [FirewallRule] = []

        public init(chains: [String: String] = [:], rules: [FirewallRule] = []) {
            self.chains = chains
            self.rules = rules
        }

        /// No rules, no user chains, every policy ACCEPT: what a table the tool created just
        /// for our rules looks like once they are gone.
        public var isPristine: Bool {
            rules.isEmpty && chains.values.allSatisfy { $0 == "ACCEPT" }
        }
    }

    public var tables: [String: Table]

    public init(tables: [String: Table] = [:]) { self.tables = tables }

    public func rules(in table: String) -> [FirewallRule] { tables[table]?.rules ?? [] }

    public func contains(_ rule: FirewallRule, in table: String) -> Bool {
        rules(in: table).contains { $0.matches(rule) }
    }

    /// Parses `iptables-save` / `arptables-save` output (nftables or legacy backend).
    public init(saveOutput text: String) throws {
        var tables: [String: Table] = [:]
        var current: String?
        for (number, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = rawLine.trimmingWhitespace()
            if line.isEmpty || line.hasPrefix("#") || line == "COMMIT" { continue }
            if line.hasPrefix("*") {
                let name = String(line.dropFirst())
                current = name
                if tables[name] == nil { tables[name] = Table() }
                continue
            }
            guard let table = current else {
                throw RealServerError(.unreadableOutput, "rule dump line \(number + 1) outside a table: \(line)")
            }
            let tokens = Self.tokenize(line)
            if line.hasPrefix(":") {
                let chain = String(tokens[0].dropFirst())
                tables[table, default: Table()].chains[chain] = tokens.count > 1 ? tokens[1] : "-"
            } else if tokens.first == "-A", tokens.count >= 2 {
                tables[table, default: Table()].rules.append(FirewallRule(chain: tokens[1], arguments: Array(tokens.dropFirst(2))))
            } else if tokens.first == "-N", tokens.count >= 2 {
                tables[table, default: Table()].chains[tokens[1]] = "-"
            } else {
                throw RealServerError(.unreadableOutput, "rule dump line \(number + 1) not understood: \(line)")
            }
        }
        self.tables = tables
    }

    /// Splits a rule line on spaces, keeping "double quoted" words (comments) whole.
    static func tokenize(_ line: Substring) -> [String] {
        var tokens: [String] = []
        var current = ""
        var inQuotes = false
        var hasToken = false
        for ch in line {
            if ch == "\"" {
                inQuotes.toggle()
                hasToken = true
            } else if ch == " " && !inQuotes {
                if hasToken { tokens.append(current) }
                current = ""
                hasToken = false
            } else {
                current.append(ch)
                hasToken = true
            }
        }
        if hasToken { tokens.append(current) }
        return tokens
    }
}
