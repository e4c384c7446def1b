import LVSConfig
import LVSCore
import Testing

/// lvsd's `--fwmark-rules` file: `MARK PROTOCOL DESTINATION[/PREFIX] PORTS` per line, `#`
/// comments, the first bad line reported as FILE:LINE.
@Suite struct FirewallMarkRulesTests {
    static let vip = IPv4Address(10, 200, 0, 100)

    func parse(_ text: String) throws(ConfigurationError) -> MarkClassifier {
        try FirewallMarkRules.parse(text, file: "marks")
    }

    func expectFailure(_ text: String, line: Int, _ message: String, sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            let parsed = try parse(text)
            Issue.record("parsed: \(parsed)", sourceLocation: sourceLocation)
        } catch {
            #expect(error.file == "marks", sourceLocation: sourceLocation)
            #expect(error.line == line, "\(error)", sourceLocation: sourceLocation)
            #expect(error.message == message, sourceLocation: sourceLocation)
        }
    }

    @Test func theDocumentedExample() throws {
        let rules = try parse("""
            # mark  proto  destination        ports
            1       tcp    10.200.0.100       80,443
            2       udp    10.200.0.100/32    53

            3\tTCP\t10.200.1.0/24\t8000-8080,9000   # a trailing comment
            0x1f    tcp    0.0.0.0/0          *
            """)
        #expect(rules.rules == [
            MarkRule(mark: 1, transport: .tcp, network: IPv4Network(address: Self.vip, prefixLength: 32)!, ports: [80...80, 443...443]),
            MarkRule(mark: 2, transport: .udp, network: IPv4Network(address: Self.vip, prefixLength: 32)!, ports: [53...53]),
            MarkRule(mark: 3, transport: .tcp, network: IPv4Network(address: IPv4Address(10, 200, 1, 0), prefixLength: 24)!,
                     ports: [8000...8080, 9000...9000]),
            MarkRule(mark: 31, transport: .tcp, network: IPv4Network(address: .any, prefixLength: 0)!, ports: MarkRule.anyPort),
        ])
        #expect(rules.rules.map(\.description) == [
            "1 tcp 10.200.0.100 80,443", "2 udp 10.200.0.100 53", "3 tcp 10.200.1.0/24 8000-8080,9000", "31 tcp 0.0.0.0/0 *",
        ])
        #expect(try parse("").isEmpty)
        #expect(try parse("# nothing\n\n   \n").isEmpty)
        // CRLF line ends, and the highest mark.
        #expect(try parse("4294967295 udp 10.0.0.1 1\r\n0xffffffff udp 10.0.0.1 65535\r\n").rules.map(\.mark)
                == [4_294_967_295, 4_294_967_295])
    }

    @Test func errorsNameTheLine() {
        expectFailure("1 tcp 10.200.0.100", line: 1,
                      "expected `MARK PROTOCOL DESTINATION[/PREFIX] PORTS`, e.g. `1 tcp 10.0.0.100 80,443`; got 3 fields")
        expectFailure("# header\n1 tcp 10.200.0.100 80 443", line: 2,
                      "expected `MARK PROTOCOL DESTINATION[/PREFIX] PORTS`, e.g. `1 tcp 10.0.0.100 80,443`; got 5 fields")
        for bad in ["0", "-1", "+1", "4294967296", "x", "0x", "0x0", "0x100000000", "1.5"] {
            expectFailure("\(bad) tcp 10.200.0.100 80", line: 1,
                          "'\(bad)' is not a firewall mark (expected 1..4294967295, or 0x1..0xffffffff)")
        }
        expectFailure("1 sctp 10.200.0.100 80", line: 1,
                      "'sctp' is not a protocol (expected tcp or udp; a rule for both is two lines)")
        expectFailure("1 tcp lb.example.com 80", line: 1,
                      "'lb.example.com' is not an IPv4 address (expected a dotted quad; host names are not resolved)")
        expectFailure("1 tcp 10.200.0.100/33 80", line: 1, "'/33' is not a prefix length (expected /0 to /32)")
        expectFailure("1 tcp 10.200.0.100/ 80", line: 1, "'/' is not a prefix length (expected /0 to /32)")
        expectFailure("1 tcp 10.200.1.5/24 80", line: 1,
                      "10.200.1.5/24 has bits set past the /24 prefix: write 10.200.1.0/24 for the network, or 10.200.1.5 for the one address")
        let portHelp = "(expected * or a comma list of 1..65535 and LOW-HIGH ranges, e.g. 80,443,8000-8080)"
        for bad in ["0", "65536", "80,", ",80", "80-", "http", "1-2-3", "**"] {
            let item = bad.split(separator: ",", omittingEmptySubsequences: false).first { Int($0) == nil || Int($0)! == 0 || Int($0)! > 65535 } ?? ""
            expectFailure("1 tcp 10.200.0.100 \(bad)", line: 1, "'\(item)' is not a port or a range \(portHelp)")
        }
        expectFailure("1 tcp 10.200.0.100 8080-8000", line: 1, "'8080-8000': the range ends before it starts (write 8000-8080)")
    }

    @Test func loadReportsUnreadableFiles() {
        #expect(throws: ConfigurationError.self) { try FirewallMarkRules.load(path: "/nonexistent/marks") }
        do {
            _ = try FirewallMarkRules.load(path: "/nonexistent/marks")
        } catch {
            #expect(error.line == 0 && error.message.hasPrefix("cannot read the firewall-mark rules: "))
        }
    }
}
