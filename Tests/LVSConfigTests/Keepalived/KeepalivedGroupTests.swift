import Testing
import LVSCore
import LVSConfig

/// `virtual_server_group` and `virtual_server group NAME`: ranges expand to one service per
/// address, all sharing the virtual server's settings, real servers and checkers.
@Suite struct KeepalivedGroupTests {
    typealias K = Keepalived

    @Test func aRangeGivesOneServicePerAddressWithTheSameSettings() throws {
        let config = try K.parse("""
            virtual_server group web {
                lb_kind DR
                protocol TCP
                lvs_sched rr
                persistence_timeout 120
                delay_loop 5
                real_server 10.0.0.11 80 {
                    TCP_CHECK {
                    }
                }
            }
            virtual_server_group web {
                10.0.0.100-102 80
                10.0.0.100 443
            }
            """)
        #expect(config.warnings == [
            K.warning(7, "real_server 10.0.0.11 80: direct routing cannot change the port, so traffic for port 443 reaches it on port 443; the table uses 443, as keepalived does; health checks still go to port 80, as keepalived's do"),
        ])
        let keys = [K.tcp(100, 80), K.tcp(101, 80), K.tcp(102, 80), K.tcp(100, 443)]
        #expect(config.director.services == keys.map {
            VirtualServiceConfig(key: $0, scheduler: "rr", persistence: Persistence(timeout: 120), realServers: [K.server(11, $0.port)])
        })
        var tcp = K.checker(.tcp, delayLoop: 5)
        tcp.connectPort = 80
        #expect(config.health.services.map(\.key) == keys)
        #expect(config.health.services.map(\.delayLoop) == [5, 5, 5, 5])
        #expect(config.health.services.map(\.realServers) == [
            [K.realServer(11, 80, checkers: [K.checker(.tcp, delayLoop: 5)])],
            [K.realServer(11, 80, checkers: [K.checker(.tcp, delayLoop: 5)])],
            [K.realServer(11, 80, checkers: [K.checker(.tcp, delayLoop: 5)])],
            [K.realServer(11, 443, checkers: [tcp])],
        ])
    }

    @Test func fullRangesPrefixesFwmarksAndIPv6Entries() throws {
        let config = try K.parse("""
            virtual_server_group mixed {
                10.0.0.254-10.0.1.1 80
                10.0.2.8/30 80
                fwmark 7
                2001:db8::1 80
            }
            virtual_server group mixed {
                lb_kind DR
                protocol TCP
                real_server 10.0.0.11 80 {
                }
            }
            """)
        #expect(config.director.services.map(\.key) == [
            K.tcp(254, 80), K.tcp(255, 80), K.tcp(0, 80, network: 1), K.tcp(1, 80, network: 1),
            K.tcp(8, 80, network: 2), K.tcp(9, 80, network: 2), K.tcp(10, 80, network: 2), K.tcp(11, 80, network: 2),
        ])
        #expect(config.warnings == [
            K.warning(4, "'fwmark 7' in virtual_server_group 'mixed': firewall-mark services are not supported by the director yet; this entry is skipped"),
            K.warning(5, "'2001:db8::1 80' in virtual_server_group 'mixed' is IPv6: SwiftLVS forwards IPv4 only; this entry is skipped"),
        ])
    }

    @Test func entriesWithoutPortNeedPersistenceAndRealServerPortsFollowEachEntry() throws {
        let config = try K.parse("""
            virtual_server_group any {
                10.0.0.100
                10.0.0.101 8080
            }
            virtual_server group any {
                lb_kind DR
                protocol TCP
                real_server 10.0.0.11 8080 {
                }
            }
            """)
        #expect(config.director.services == [
            VirtualServiceConfig(key: K.tcp(100, 0), scheduler: "wlc", persistence: Persistence(), realServers: [K.server(11, 0)]),
            VirtualServiceConfig(key: K.tcp(101, 8080), scheduler: "wlc", persistence: Persistence(), realServers: [K.server(11, 8080)]),
        ])
        #expect(config.warnings == [
            K.warning(5, "virtual_server group any: port 0 (all ports) is only valid for a persistent service; keepalived then sets persistence_timeout 360, and so does lvsd"),
            K.warning(8, "real_server 10.0.0.11 8080: the service forwards every port, so port 8080 is not used for forwarding; health checks still go to port 8080, as keepalived's do"),
        ])
    }

    @Test func aGroupWithoutAddressesLeavesItsServerOut() throws {
        let config = try K.parse("""
            virtual_server_group marks {
                fwmark 1
            }
            virtual_server group marks {
                lb_kind DR
                real_server 10.0.0.11 80 {
                }
            }
            """)
        #expect(config.director.services.isEmpty)
        #expect(config.warnings == [
            K.warning(2, "'fwmark 1' in virtual_server_group 'marks': firewall-mark services are not supported by the director yet; this entry is skipped"),
            K.warning(4, "virtual_server group marks sets no protocol: keepalived then uses UDP, and so does lvsd; add 'protocol TCP' if this is a TCP service"),
            K.warning(4, "virtual_server group marks: virtual_server_group 'marks' has no IPv4 address to serve; this virtual server is skipped"),
        ])
    }

    @Test func groupErrors() {
        #expect(K.failure("virtual_server group nowhere {\n lb_kind DR\n protocol TCP\n}") == ConfigurationError(
            file: K.file, line: 1, message: "virtual_server group nowhere: no virtual_server_group named 'nowhere' is defined"))
        #expect(K.failure("virtual_server_group g {\n 10.0.0.1-10.1.0.1 80\n}") == ConfigurationError(
            file: K.file, line: 2, message: "'10.0.0.1-10.1.0.1' is not a valid address range (65537 addresses; at most 65536 per range): expected 10.0.0.1, 10.0.0.1-20, 10.0.0.250-10.0.1.5 or 10.0.0.0/28"))
        #expect(K.failure("virtual_server_group g {\n 10.0.0.9-3 80\n}") == ConfigurationError(
            file: K.file, line: 2, message: "'10.0.0.9-3' is not a valid address range (the end is before the start): expected 10.0.0.1, 10.0.0.1-20, 10.0.0.250-10.0.1.5 or 10.0.0.0/28"))
        #expect(K.failure("virtual_server_group g {\n 10.0.0.1-x 80\n}") == ConfigurationError(
            file: K.file, line: 2, message: "'10.0.0.1-x' is not a valid address range (end of range): expected 10.0.0.1, 10.0.0.1-20, 10.0.0.250-10.0.1.5 or 10.0.0.0/28"))
        #expect(K.failure("virtual_server_group g {\n 10.0.0.1 80 tcp\n}") == ConfigurationError(
            file: K.file, line: 2, message: "unexpected 'tcp' after '10.0.0.1 80': a group entry is IP[-range] [PORT]"))
        #expect(K.failure("virtual_server_group g {\n}\nvirtual_server_group g {\n}") == ConfigurationError(
            file: K.file, line: 3, message: "virtual_server_group 'g' is already defined at keepalived.conf:1"))
    }
}
