import Testing
import LVSCore
import LVSConfig

/// `real_server` blocks: weight and thresholds, ports under direct routing, what a real server
/// inherits from its virtual server, scripts, and lvsd's `rise`.
@Suite struct KeepalivedRealServerTests {
    typealias K = Keepalived

    @Test func weightsThresholdsAndTheVirtualServersDefaultWeight() throws {
        let config = try K.parse(K.service("""
                weight 5
                real_server 10.0.0.11 80 {
                    weight 0
                    uthreshold 100
                    lthreshold 10
                }
                real_server 10.0.0.12 80 {
                    weight 70000
                }
                real_server 10.0.0.13 80 {
                    lthreshold 10
                }
            """))
        #expect(config.director.services.map(\.realServers) == [[
            RealServerConfig(address: IPv4Address(10, 0, 0, 11), port: 80, weight: 0, upperThreshold: 100, lowerThreshold: 10),
            K.server(12, 80, weight: 5),
        ]])
        #expect(config.health.services.first?.realServers.map(\.weight) == [0, 5])
        #expect(config.warnings == [
            K.warning(11, "weight '70000' is not a number in 0-65535; ignored"),
            K.warning(13, "real_server 10.0.0.13 80: lthreshold 10 is above uthreshold 0; the kernel refuses such a real server (ERANGE), so keepalived runs without it, and so does lvsd"),
        ])
    }

    // DR cannot rewrite the port: the table uses the service's port (as ipvsadm and keepalived
    // do), and the checks still probe the port written, as keepalived's do.
    @Test func directRoutingForcesTheServicePortButChecksKeepTheWrittenOne() throws {
        let config = try K.parse(K.service("""
                real_server 10.0.0.11 1522 {
                    TCP_CHECK {
                    }
                }
                real_server 10.0.0.12 1522 {
                    TCP_CHECK {
                        connect_port 1600
                    }
                }
            """, address: "10.0.0.100 11521"))
        #expect(config.director.services.map(\.realServers) == [[K.server(11, 11521), K.server(12, 11521)]])
        var viaWrittenPort = K.checker(.tcp)
        viaWrittenPort.connectPort = 1522
        var viaConnectPort = K.checker(.tcp)
        viaConnectPort.connectPort = 1600
        #expect(config.health.services.first?.realServers == [
            K.realServer(11, 11521, checkers: [viaWrittenPort]), K.realServer(12, 11521, checkers: [viaConnectPort]),
        ])
        let message = "direct routing cannot change the port, so traffic for port 11521 reaches it on port 11521; the table uses 11521, as keepalived does; health checks still go to port 1522, as keepalived's do"
        #expect(config.warnings == [
            K.warning(4, "real_server 10.0.0.11 1522: " + message),
            K.warning(8, "real_server 10.0.0.12 1522: " + message),
        ])
    }

    @Test func duplicatesAndIPv6ServersAreSkipped() throws {
        let config = try K.parse(K.service("""
                real_server 10.0.0.11 80 {
                }
                real_server 10.0.0.11 {
                }
                real_server 2001:db8::11 80 {
                }
            """))
        #expect(config.director.services.map(\.realServers) == [[K.server(11, 80)]])
        #expect(config.warnings == [
            K.warning(8, "real_server 2001:db8::11 80: IPv6 real servers are not supported (SwiftLVS forwards IPv4 only); this real server is skipped"),
            K.warning(6, "real_server 10.0.0.11 duplicates the real server at line 4 (direct routing uses the service's port, so both are 10.0.0.11); the second is skipped"),
        ])
    }

    @Test func inhibitOnFailureComesFromTheVirtualServerUnlessSet() throws {
        let config = try K.parse(K.service("""
                inhibit_on_failure
                real_server 10.0.0.11 80 {
                }
                real_server 10.0.0.12 80 {
                    inhibit_on_failure off
                }
                real_server 10.0.0.13 80 {
                    inhibit_on_failure maybe
                }
            """) + "\n" + K.service("""
                real_server 10.0.0.11 81 {
                    inhibit_on_failure
                }
            """, address: "10.0.0.100 81"))
        #expect(config.health.services.map(\.inhibitOnFailure) == [true, false])
        #expect(config.health.services.map { $0.realServers.map(\.inhibitOnFailure) } == [[true, false, true], [true]])
        #expect(config.warnings == [K.warning(11, "inhibit_on_failure takes on/off, true/false or yes/no, not 'maybe'; ignored")])
    }

    @Test func notifyScriptsAreSplitIntoArguments() throws {
        let config = try K.parse(K.service("""
                real_server 10.0.0.11 80 {
                    notify_up "/etc/keepalived/rs.sh up '10.0.0.11 80'"
                    notify_down /etc/keepalived/rs-down.sh keepalived_script
                }
            """))
        let server = try #require(config.health.services.first?.realServers.first)
        #expect(server.notifyUp == ["/etc/keepalived/rs.sh", "up", "10.0.0.11 80"])
        #expect(server.notifyDown == ["/etc/keepalived/rs-down.sh"])
        #expect(config.warnings == [K.warning(6, "notify_down: the user/group 'keepalived_script' is not used; lvsd runs the script as its own user (quote a command that has arguments)")])
    }

    // `rise` is lvsd's: good checks in a row before a failed server is used again (keepalived: 1).
    @Test func riseIsReadOnRealServersWithTheVirtualServerAsDefault() throws {
        let config = try K.parse(K.service("""
                rise 2
                real_server 10.0.0.11 80 {
                }
                real_server 10.0.0.12 80 {
                    rise 5
                }
            """) + "\n" + K.service("""
                real_server 10.0.0.11 81 {
                    rise 0
                }
            """, address: "10.0.0.100 81"))
        #expect(config.health.services.map { $0.realServers.map(\.rise) } == [[2, 5], [1]])
        #expect(config.warnings == [K.warning(15, "rise '0' is not a number in 1-4294967295; ignored")])
    }

    @Test func lbKindIsNotARealServerKeywordAndMisspellingsAreNamed() throws {
        let config = try K.parse("""
            virtual_server 10.0.0.100 80 {
                protocol TCP
                lb_kind DR
                real_server 10.0.0.11 80 {
                    lb_kind NAT
                    weigth 3
                    smtp_alert
                }
            }
            """)
        #expect(config.director.services.map(\.realServers) == [[K.server(11, 80)]])
        #expect(config.warnings == [
            K.warning(5, "unknown keyword 'lb_kind' in real_server: keepalived reads 'lvs_method' here, so this line is ignored and the virtual server's method applies"),
            K.warning(6, "unknown keyword 'weigth' in real_server (did you mean 'weight'?); ignored"),
        ])
    }

    @Test func realServerErrors() {
        #expect(K.failure(K.service("    real_server {\n    }")) == ConfigurationError(
            file: K.file, line: 4, message: "real_server needs an address: real_server IP [PORT] {"))
        #expect(K.failure(K.service("    real_server 10.0.0.1 80 x {\n    }")) == ConfigurationError(
            file: K.file, line: 4, message: "unexpected 'x' after the port: real_server IP [PORT] {"))
        #expect(K.failure(K.service("    real_server 10.0.0.1 -1 {\n    }")) == ConfigurationError(
            file: K.file, line: 4, message: "'-1' is not a valid port: expected 0-65535 or a TCP service name from /etc/services"))
    }
}
