import LVSCore
import Testing

/// The mark classifier (lvsd's `--fwmark-rules`): first match gives the mark; protocol,
/// destination network and port list must all match.
@Suite struct MarkClassifierTests {
    static let vip = IPv4Address(10, 200, 0, 100)

    static func network(_ text: String, _ prefix: UInt8 = 32) -> IPv4Network {
        IPv4Network(address: IPv4Address(text)!, prefixLength: prefix)!
    }

    @Test func networks() {
        #expect(IPv4Network.mask(0) == 0)
        #expect(IPv4Network.mask(24) == 0xFFFF_FF00)
        #expect(IPv4Network.mask(32) == 0xFFFF_FFFF)
        let net = Self.network("10.200.1.0", 24)
        #expect(net.contains(IPv4Address(10, 200, 1, 0)) && net.contains(IPv4Address(10, 200, 1, 255)))
        #expect(!net.contains(IPv4Address(10, 200, 2, 0)) && !net.contains(IPv4Address(10, 200, 0, 255)))
        #expect(Self.network("0.0.0.0", 0).contains(IPv4Address(203, 0, 113, 9)))
        #expect(Self.network("10.200.0.100").contains(Self.vip))
        #expect(!Self.network("10.200.0.100").contains(IPv4Address(10, 200, 0, 101)))
        // Host bits past the prefix are refused, and a prefix above 32.
        #expect(IPv4Network(address: IPv4Address(10, 200, 1, 5), prefixLength: 24) == nil)
        #expect(IPv4Network(address: Self.vip, prefixLength: 33) == nil)
        #expect(net.description == "10.200.1.0/24" && Self.network("10.200.0.100").description == "10.200.0.100")
    }

    @Test func ruleMatchesProtocolDestinationAndPorts() {
        let rule = MarkRule(mark: 1, transport: .tcp, network: Self.network("10.200.0.100"), ports: [80...80, 443...443, 8000...8080])
        for port: UInt16 in [80, 443, 8000, 8042, 8080] {
            #expect(rule.matches(transport: .tcp, destination: Self.vip, port: port), "port \(port)")
        }
        for port: UInt16 in [79, 81, 442, 7999, 8081, 0, 65535] {
            #expect(!rule.matches(transport: .tcp, destination: Self.vip, port: port), "port \(port)")
        }
        #expect(!rule.matches(transport: .udp, destination: Self.vip, port: 80))
        #expect(!rule.matches(transport: .tcp, destination: IPv4Address(10, 200, 0, 101), port: 80))
        let any = MarkRule(mark: 2, transport: .udp, network: Self.network("10.200.1.0", 24), ports: MarkRule.anyPort)
        #expect(any.matches(transport: .udp, destination: IPv4Address(10, 200, 1, 7), port: 0))
        #expect(any.matches(transport: .udp, destination: IPv4Address(10, 200, 1, 7), port: 65535))
        #expect(rule.description == "1 tcp 10.200.0.100 80,443,8000-8080")
        #expect(any.description == "2 udp 10.200.1.0/24 *")
    }

    // The first matching rule decides, as an iptables chain whose MARK rules each end in
    // ACCEPT would; a flow no rule matches has no mark (0).
    @Test func firstMatchWins() {
        let classifier = MarkClassifier(rules: [
            MarkRule(mark: 7, transport: .tcp, network: Self.network("10.200.0.100"), ports: [443...443]),
            MarkRule(mark: 1, transport: .tcp, network: Self.network("10.200.0.0", 24), ports: [80...80, 443...443]),
            MarkRule(mark: 2, transport: .udp, network: Self.network("10.200.0.100"), ports: [53...53]),
        ])
        #expect(classifier.mark(transport: .tcp, destination: Self.vip, port: 443) == 7)
        #expect(classifier.mark(transport: .tcp, destination: Self.vip, port: 80) == 1)
        #expect(classifier.mark(transport: .tcp, destination: IPv4Address(10, 200, 0, 9), port: 443) == 1)
        #expect(classifier.mark(transport: .udp, destination: Self.vip, port: 53) == 2)
        #expect(classifier.mark(transport: .tcp, destination: Self.vip, port: 53) == 0)
        #expect(classifier.mark(transport: .tcp, destination: IPv4Address(10, 201, 0, 1), port: 80) == 0)
        #expect(MarkClassifier().mark(transport: .tcp, destination: Self.vip, port: 80) == 0)
        #expect(classifier.marks == [7, 1, 2])
    }

    // Only rules whose mark a service takes make the director claim their destinations:
    // single addresses become VIPs (ARP), wider networks are forwarded for without ARP.
    @Test func virtualAddressesAndNetworksFollowTheServices() {
        let rules = MarkClassifier(rules: [
            MarkRule(mark: 1, transport: .tcp, network: Self.network("10.200.0.100"), ports: [80...80, 443...443]),
            MarkRule(mark: 1, transport: .tcp, network: Self.network("10.200.0.101"), ports: [80...80]),
            MarkRule(mark: 2, transport: .udp, network: Self.network("10.200.0.102"), ports: [53...53]),
            MarkRule(mark: 1, transport: .tcp, network: Self.network("10.200.1.0", 24), ports: MarkRule.anyPort),
            MarkRule(mark: 3, transport: .tcp, network: Self.network("10.200.2.0", 24), ports: MarkRule.anyPort),
        ])
        var config = DirectorConfiguration(services: [
            VirtualServiceConfig(key: VirtualServiceKey(transport: .tcp, address: Self.vip, port: 22), scheduler: "rr"),
        ], markRules: rules)
        #expect(config.virtualAddresses == [Self.vip])
        #expect(config.virtualNetworks.isEmpty)
        config.services.append(VirtualServiceConfig(key: .firewallMark(1), scheduler: "rr"))
        #expect(config.virtualAddresses == [Self.vip, IPv4Address(10, 200, 0, 101)])
        #expect(config.virtualNetworks == [Self.network("10.200.1.0", 24)])
        config.services.append(VirtualServiceConfig(key: .firewallMark(2), scheduler: "rr"))
        #expect(config.virtualAddresses == [Self.vip, IPv4Address(10, 200, 0, 101), IPv4Address(10, 200, 0, 102)])
        #expect(config.serviceMarks == [1, 2])
    }

    @Test func firewallMarkKeys() {
        let key = VirtualServiceKey.firewallMark(1)
        #expect(key.isFirewallMark && key.firewallMark == 1)
        #expect(key.transport == .tcp && key.address == .any && key.port == 0)
        #expect(key.description == "FWM 1")
        #expect(key == .firewallMark(1) && key != .firewallMark(2))
        #expect(key != VirtualServiceKey(transport: .tcp, address: .any, port: 0))
        #expect(!VirtualServiceKey(transport: .udp, address: Self.vip, port: 53).isFirewallMark)
    }
}
