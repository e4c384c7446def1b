import LVSCore
@testable import LVSRealServer
import Testing

@Suite struct RealServerCheckTests {
    static func check(_ host: HostState, _ method: SetupMethod = .sysctl, ports: [ServicePort] = [ServicePort(.tcp, 80)],
                      director: IPv4Address? = nil) -> [Finding] {
        RealServerCheck.run(CheckConfiguration(virtualAddresses: [Hosts.vip], method: method, interface: "eth0",
                                               ports: ports, director: director), host: host)
    }

    static func fails(_ findings: [Finding]) -> [String] {
        findings.filter { $0.status == .fail }.map(\.subject)
    }

    @Test func aHostSetUpByHandPassesEverything() {
        let findings = Self.check(Hosts.configured(), director: IPv4Address(10, 200, 0, 2))
        #expect(Self.fails(findings).isEmpty, "\(findings)")
        #expect(findings.filter { $0.status == .pass }.map(\.subject)
                == ["vip", "arp_ignore", "arp_announce", "arp-reply", "arp-announce", "service", "route", "rp_filter"])
    }

    @Test func aBareHostFailsOnTheVIPAndBothSettingsWithTheCommandsThatFixThem() {
        let findings = Self.check(Hosts.bare())
        #expect(Self.fails(findings) == ["vip", "arp_ignore", "arp_announce"])
        let byName = Dictionary(findings.map { ($0.subject, $0) }, uniquingKeysWith: { a, _ in a })
        #expect(byName["vip"]?.fix == "ip addr add 10.200.0.100/32 dev lo label lo:0 (or lvs-realserver apply --vip 10.200.0.100)")
        #expect(byName["arp_ignore"]?.fix == "sysctl -w net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.eth0.arp_ignore=1")
        #expect(byName["arp_announce"]?.fix == "sysctl -w net.ipv4.conf.all.arp_announce=2 net.ipv4.conf.eth0.arp_announce=2")
        #expect(byName["arp_ignore"]?.description.hasPrefix("FAIL arp_ignore: effective arp_ignore on eth0 is 0 (the larger of all=0, eth0=0)") == true)
    }

    @Test func theEffectiveValueIsTheLargerOfAllAndTheDevice() {
        var host = Hosts.configured()
        host.sysctls[SysctlKey("all", "arp_ignore")] = 0          // eth0=1 still protects
        #expect(Self.fails(Self.check(host)).isEmpty)
        host.sysctls[SysctlKey("all", "arp_ignore")] = 4          // reserved: the kernel answers
        let findings = Self.check(host)
        #expect(Self.fails(findings) == ["arp_ignore", "arp-reply"])
        // Only the key that is wrong is in the fix.
        #expect(findings.first { $0.subject == "arp_ignore" }?.fix == "sysctl -w net.ipv4.conf.all.arp_ignore=1")
        #expect(findings.first { $0.subject == "arp_ignore" }?.message.contains("reserved") == true)
    }

    @Test func arpIgnore3ProtectsOnlyAHostScopeVIP() {
        var host = Hosts.configured()
        host.sysctls[SysctlKey("eth0", "arp_ignore")] = 3
        #expect(Self.fails(Self.check(host)) == ["arp_ignore", "arp-reply"])
        host.interfaces[0].addresses[1].scope = "host"
        #expect(Self.fails(Self.check(host)) == ["arp_ignore"])   // the setting is still not one we accept
    }

    @Test func announceLeakIsNamedWithWhatTheDirectorWillSee() {
        var host = Hosts.configured()
        host.sysctls[SysctlKey("all", "arp_announce")] = 0
        host.sysctls[SysctlKey("eth0", "arp_announce")] = 0
        let findings = Self.check(host)
        #expect(Self.fails(findings) == ["arp_announce", "arp-announce"])
        #expect(findings.first { $0.subject == "arp-announce" }?.message.contains("VIP conflict") == true)
    }

    @Test func vipOnTheWireInterfaceFailsForSysctl() {
        var host = Hosts.configured()
        host.interfaces[0].addresses.removeLast()
        host.interfaces[1].addresses.append(InterfaceAddress(address: Hosts.vip, prefixLength: 32, label: "eth0"))
        let findings = Self.check(host)
        #expect(Self.fails(findings) == ["vip", "arp-reply"])
        #expect(findings.first?.fix == "ip addr del 10.200.0.100/32 dev eth0; ip addr add 10.200.0.100/32 dev lo label lo:0")
    }

    @Test func arptablesMethodNeedsBothRulesNotTheSysctls() {
        var host = Hosts.bare()
        host.interfaces[1].addresses.append(InterfaceAddress(address: Hosts.vip, prefixLength: 32, label: "eth0"))
        var findings = Self.check(host, .arptables)
        #expect(Self.fails(findings) == ["arptables", "arptables", "arp-reply", "arp-announce"])
        #expect(findings.filter { $0.subject == "arp_ignore" }.map(\.status) == [.info])
        host.arptables!.dump = try! RuleDump(saveOutput: """
            *filter
            :INPUT ACCEPT
            :OUTPUT ACCEPT
            -A INPUT -j DROP -d 10.200.0.100
            -A OUTPUT -j mangle -s 10.200.0.100 --mangle-ip-s 10.200.0.11
            """)
        findings = Self.check(host, .arptables)
        #expect(Self.fails(findings).isEmpty, "\(findings)")
    }

    @Test func iptablesMethodLooksForTheRedirectAndTheServiceOnTheInterfaceAddress() {
        var host = Hosts.bare()
        host.listeners = [ListeningSocket(transport: .tcp, address: Hosts.vip, port: 80)]
        var findings = Self.check(host, .iptables)
        // Bound to the VIP only: REDIRECT delivers to 10.200.0.11, where nobody listens.
        #expect(Self.fails(findings) == ["iptables", "service"])
        #expect(findings.first { $0.subject == "service" }?.message.contains("10.200.0.11:80/tcp") == true)
        host.listeners = [ListeningSocket(transport: .tcp, address: nil, port: 80)]
        host.iptables!.dump = try! RuleDump(saveOutput: "*nat\n-A PREROUTING -d 10.200.0.100/32 -p tcp -m tcp --dport 80 -j REDIRECT\n")
        findings = Self.check(host, .iptables)
        #expect(Self.fails(findings).isEmpty, "\(findings)")
        #expect(findings.first?.message == "10.200.0.100 is not configured here, as the REDIRECT method wants")
    }

    @Test func serviceOnTheVIPOrTheWildcard() {
        var host = Hosts.configured()
        host.listeners = [ListeningSocket(transport: .udp, address: nil, port: 80)]
        #expect(Self.fails(Self.check(host)) == ["service"])
        host.listeners = [ListeningSocket(transport: .tcp, address: Hosts.vip, port: 80)]
        #expect(Self.fails(Self.check(host)).isEmpty)
        #expect(Self.check(host, ports: []).first { $0.subject == "service" }?.status == .info)
    }

    @Test func defaultRouteViaTheDirectorFails() {
        var host = Hosts.configured()
        let director = IPv4Address(10, 200, 0, 2)
        host.defaultRoutes = [DefaultRoute(gateway: director, device: "eth0")]
        #expect(Self.fails(Self.check(host, director: director)) == ["route"])
        host.defaultRoutes = [DefaultRoute(gateway: IPv4Address(10, 200, 0, 1), device: "eth0")]
        #expect(Self.fails(Self.check(host, director: director)).isEmpty)
        #expect(Self.check(host).first { $0.subject == "route" }?.status == .info)
    }

    @Test func strictReversePathFilterWarnsOnlyWhenClientsMayComeFromElsewhere() {
        var host = Hosts.configured()
        host.sysctls[SysctlKey("all", "rp_filter")] = 1
        #expect(Self.check(host).first { $0.subject == "rp_filter" }?.status == .warn)
        host.defaultRoutes = [DefaultRoute(gateway: IPv4Address(10, 200, 0, 1), device: "eth0")]
        #expect(Self.check(host).first { $0.subject == "rp_filter" }?.status == .pass)
        host.sysctls[SysctlKey("eth0", "rp_filter")] = 2   // max(1, 2): loose
        #expect(Self.check(host).first { $0.subject == "rp_filter" }?.message.contains("loose") == true)
    }

    @Test func proxyARPWarnsWhenTheVIPIsNotLocal() {
        var host = Hosts.bare()
        host.sysctls[SysctlKey("eth0", "proxy_arp")] = 1
        #expect(Self.check(host, .iptables).first { $0.subject == "arp-reply" }?.status == .warn)
    }

    @Test func anUnknownInterfaceIsOneFailure() {
        let findings = RealServerCheck.run(CheckConfiguration(virtualAddresses: [Hosts.vip], interface: "eth9"), host: Hosts.bare())
        #expect(findings.map(\.description) == ["FAIL interface: no interface eth9 here (there are: lo, eth0) -- fix: pass --interface with the interface that faces the director"])
    }
}
