import LVSCore
import LVSRealServer
import Testing

@Suite struct HostStateParsingTests {
    /// `ip -j addr show` in a real-server namespace (iproute2 6.1), VIP on lo:0.
    static let ipAddr = """
        [{"ifindex":1,"ifname":"lo","flags":["LOOPBACK","UP","LOWER_UP"],"mtu":65536,"qdisc":"noqueue","operstate":"UNKNOWN","group":"default","txqlen":1000,"link_type":"loopback","address":"00:00:00:00:00:00","broadcast":"00:00:00:00:00:00","addr_info":[{"family":"inet","local":"127.0.0.1","prefixlen":8,"scope":"host","label":"lo","valid_life_time":4294967295,"preferred_life_time":4294967295},{"family":"inet","local":"10.9.0.100","prefixlen":32,"scope":"global","label":"lo:0","valid_life_time":4294967295,"preferred_life_time":4294967295},{"family":"inet6","local":"::1","prefixlen":128,"scope":"host","valid_life_time":4294967295,"preferred_life_time":4294967295}]},{"ifindex":2,"link":"eth0","ifname":"eth1","flags":["BROADCAST","MULTICAST"],"mtu":1500,"qdisc":"noop","operstate":"DOWN","group":"default","txqlen":1000,"link_type":"ether","address":"86:24:0e:9a:1b:63","broadcast":"ff:ff:ff:ff:ff:ff","addr_info":[]},{"ifindex":3,"link":"eth1","ifname":"eth0","flags":["BROADCAST","MULTICAST","UP","LOWER_UP"],"mtu":1500,"qdisc":"noqueue","operstate":"UP","group":"default","txqlen":1000,"link_type":"ether","address":"ee:d4:2c:e1:3b:49","broadcast":"ff:ff:ff:ff:ff:ff","addr_info":[{"family":"inet","local":"10.9.0.100","prefixlen":32,"scope":"global","label":"eth0","valid_life_time":4294967295,"preferred_life_time":4294967295},{"family":"inet","local":"10.9.0.11","prefixlen":24,"scope":"global","label":"eth0","valid_life_time":4294967295,"preferred_life_time":4294967295}]}]
        """

    @Test func interfacesAddressesLabelsAndFlags() throws {
        let interfaces = try HostState.parseInterfaces(ipAddrJSON: Self.ipAddr)
        #expect(interfaces.map(\.name) == ["lo", "eth1", "eth0"])
        let lo = interfaces[0]
        #expect(lo.isLoopback && !lo.speaksARP)
        #expect(lo.addresses == [InterfaceAddress(address: IPv4Address(127, 0, 0, 1), prefixLength: 8, label: "lo", scope: "host"),
                                 InterfaceAddress(address: IPv4Address(10, 9, 0, 100), prefixLength: 32, label: "lo:0")])
        #expect(interfaces[1].addresses.isEmpty)
        // The primary address is the subnet one, even when a /32 VIP was added first.
        #expect(interfaces[2].speaksARP)
        #expect(interfaces[2].primaryAddress == IPv4Address(10, 9, 0, 11))
        let host = HostState(interfaces: interfaces)
        #expect(host.holders(of: IPv4Address(10, 9, 0, 100)).map(\.interface.name) == ["lo", "eth0"])
        #expect(host.guessInterface() == "eth0")
        #expect(throws: RealServerError.self) { try HostState.parseInterfaces(ipAddrJSON: "Object \"addr\" is unknown") }
    }

    @Test func defaultRoutes() throws {
        #expect(try HostState.parseDefaultRoutes(ipRouteJSON: "[]\n").isEmpty)
        #expect(try HostState.parseDefaultRoutes(ipRouteJSON: "").isEmpty)
        let routes = try HostState.parseDefaultRoutes(ipRouteJSON: #"[{"dst":"default","gateway":"10.9.0.1","dev":"eth0","flags":[]}]"#)
        #expect(routes == [DefaultRoute(gateway: IPv4Address(10, 9, 0, 1), device: "eth0")])
        #expect(HostState(interfaces: [], defaultRoutes: routes).guessInterface() == "eth0")
    }

    @Test func tcpListenersFromProcNet() {
        let tcp = """
              sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
               0: 00000000:0050 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0 100 0 0 10 0
               1: 6400C80A:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 2 1 0 100 0 0 10 0
               2: 0B00C80A:0050 0A00C80A:A1B2 01 00000000:00000000 00:00000000 00000000     0        0 3 1 0 100 0 0 10 0
            """
        let listeners = HostState.parseListeners(procNet: tcp, transport: .tcp, ipv6: false)
        #expect(listeners == [ListeningSocket(transport: .tcp, address: nil, port: 80),
                              ListeningSocket(transport: .tcp, address: IPv4Address(10, 200, 0, 100), port: 8080)])
        #expect(listeners[0].accepts(IPv4Address(10, 200, 0, 100), ServicePort(.tcp, 80)))
        #expect(!listeners[0].accepts(IPv4Address(10, 200, 0, 100), ServicePort(.udp, 80)))
        #expect(!listeners[1].accepts(IPv4Address(10, 200, 0, 11), ServicePort(.tcp, 8080)))
    }

    @Test func ipv6AndUDPSockets() {
        let tcp6 = """
              sl  local_address                         remote_address                        st
               0: 00000000000000000000000000000000:01BB 00000000000000000000000000000000:0000 0A 0
               1: 0000000000000000FFFF00006400C80A:0016 00000000000000000000000000000000:0000 0A 0
               2: 000080FE00000000FF005302A9C3FEFF:0017 00000000000000000000000000000000:0000 0A 0
            """
        let six = HostState.parseListeners(procNet: tcp6, transport: .tcp, ipv6: true)
        #expect(six == [ListeningSocket(transport: .tcp, address: nil, port: 443),
                        ListeningSocket(transport: .tcp, address: IPv4Address(10, 200, 0, 100), port: 22),
                        ListeningSocket(transport: .tcp, address: nil, port: 23, ipv6Only: true)])
        #expect(!six[2].accepts(IPv4Address(10, 200, 0, 100), ServicePort(.tcp, 23)))
        let udp = """
              sl  local_address rem_address   st
              10: 6400C80A:2328 00000000:0000 07 0
              11: 0B00C80A:2329 0A00C80A:2329 01 0
            """
        #expect(HostState.parseListeners(procNet: udp, transport: .udp, ipv6: false)
                == [ListeningSocket(transport: .udp, address: IPv4Address(10, 200, 0, 100), port: 9000)])
    }

    @Test func effectiveValuesFollowTheKernel() {
        var host = HostState(sysctls: [SysctlKey("all", "arp_ignore"): 0, SysctlKey("eth0", "arp_ignore"): 1,
                                       SysctlKey("all", "arp_announce"): 2, SysctlKey("eth0", "arp_announce"): 0,
                                       SysctlKey("all", "proxy_arp"): 0, SysctlKey("eth0", "proxy_arp"): 1])
        #expect(host.effective("arp_ignore", on: "eth0") == 1)    // max(all, dev)
        #expect(host.effective("arp_announce", on: "eth0") == 2)
        #expect(host.effective("proxy_arp", on: "eth0") == 1)     // all || dev
        #expect(host.effective("rp_filter", on: "eth0") == nil)
        host.sysctls[SysctlKey("all", "arp_ignore")] = 4
        #expect(host.effective("arp_ignore", on: "eth0") == 4)
        #expect(SysctlKey("eth0.100", "arp_ignore").description == "net.ipv4.conf.eth0/100.arp_ignore")
        #expect(SysctlKey("eth0.100", "arp_ignore").procPath == "/proc/sys/net/ipv4/conf/eth0.100/arp_ignore")
    }
}
