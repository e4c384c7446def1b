import Testing
import LVSCore
import LVSConfig

/// `virtual_server` blocks: addressing, forwarding method, scheduler, flags, persistence,
/// protocol, sorry server, quorum, and what is skipped with which warning.
@Suite struct KeepalivedVirtualServerTests {
    typealias K = Keepalived

    @Test func aMinimalDirectRoutingServiceGetsKeepalivedDefaults() throws {
        let config = try K.parse("""
            virtual_server 10.0.0.100 80 {
                lb_kind DR
                protocol TCP
                real_server 10.0.0.11 80 {
                }
                real_server 10.0.0.12 {
                }
            }
            """)
        #expect(config.warnings == [])
        #expect(config.director == DirectorConfiguration(services: [
            VirtualServiceConfig(key: K.tcp(100, 80), scheduler: "wlc", realServers: [K.server(11, 80), K.server(12, 80)]),
        ]))
        var health = ServiceHealth(key: K.tcp(100, 80))
        health.realServers = [K.realServer(11, 80), K.realServer(12, 80)]
        #expect(config.health == HealthConfiguration(services: [health]))
    }

    // keepalived's default method is NAT: a config without lb_kind is skipped, and the
    // warning names the virtual_server line and says what to add.
    @Test func withoutLbKindTheServiceIsNATAndSkipped() throws {
        let config = try K.parse("""
            virtual_server 10.0.0.100 80 {
                protocol TCP
                real_server 10.0.0.11 80 {
                }
            }
            """)
        #expect(config.director.services.isEmpty)
        #expect(config.health.services.isEmpty)
        #expect(config.warnings == [K.warning(1, "virtual_server 10.0.0.100 80 has no lb_kind (or lvs_method), so keepalived forwards it by NAT, its default; SwiftLVS forwards by direct routing only, so this virtual server is skipped: add 'lb_kind DR' to it")])
    }

    @Test func natAndTunnelServicesAreSkippedAtTheirMethodLine() throws {
        let config = try K.parse("""
            virtual_server 10.0.0.100 80 {
                protocol TCP
                lb_kind NAT
                real_server 10.0.0.11 80 {
                }
            }
            virtual_server 10.0.0.100 443 {
                protocol TCP
                lvs_method TUN type gue port 6080
                real_server 10.0.0.11 443 {
                }
            }
            """)
        #expect(config.director.services.isEmpty)
        #expect(config.warnings == [
            K.warning(3, "virtual_server 10.0.0.100 80 forwards by NAT (lb_kind NAT); SwiftLVS forwards by direct routing only, so this virtual server is skipped"),
            K.warning(9, "virtual_server 10.0.0.100 443 forwards by IP tunnelling (lvs_method TUN type gue port 6080); SwiftLVS forwards by direct routing only, so this virtual server is skipped"),
        ])
    }

    // `lb_kind dr`: keepalived compares with strcmp, logs the unknown method and keeps NAT.
    @Test func lowercaseDrIsUnknownToKeepalivedSoTheServiceIsSkipped() throws {
        let config = try K.parse("""
            virtual_server 10.0.0.100 80 {
                protocol TCP
                lb_kind dr
                real_server 10.0.0.11 80 {
                }
            }
            """)
        #expect(config.director.services.isEmpty)
        #expect(config.warnings == [
            K.warning(3, "unknown routing method 'dr' for the virtual server: keepalived reads NAT, DR or TUN, case-sensitively (write 'DR'); this line is ignored, as keepalived ignores it"),
            K.warning(1, "virtual_server 10.0.0.100 80 has no valid lb_kind ('lb_kind dr' at line 3 is ignored), so keepalived forwards it by NAT, its default; SwiftLVS forwards by direct routing only, so this virtual server is skipped: write 'lb_kind DR'"),
        ])
    }

    @Test func aLaterValidLbKindWinsAndAnInvalidOneKeepsThePrevious() throws {
        let config = try K.parse("""
            virtual_server 10.0.0.100 80 {
                protocol TCP
                lb_kind dr
                lb_kind DR
                lvs_method Dr
                real_server 10.0.0.11 80 {
                }
            }
            """)
        #expect(config.director.services.map(\.key) == [K.tcp(100, 80)])
        #expect(config.warnings.map(\.line) == [3, 5])
    }

    // Real servers may override the method: the DR ones are kept, the others skipped.
    @Test func realServersOverrideTheMethod() throws {
        let config = try K.parse("""
            virtual_server 10.0.0.100 80 {
                protocol TCP
                real_server 10.0.0.11 80 {
                    lvs_method DR
                }
                real_server 10.0.0.12 80 {
                }
                real_server 10.0.0.13 80 {
                    lvs_method TUN
                }
            }
            virtual_server 10.0.0.100 81 {
                protocol TCP
                lb_kind DR
                real_server 10.0.0.11 81 {
                    lvs_method NAT
                }
            }
            """)
        #expect(config.director.services == [
            VirtualServiceConfig(key: K.tcp(100, 80), scheduler: "wlc", realServers: [K.server(11, 80)]),
        ])
        #expect(config.warnings == [
            K.warning(6, "real_server 10.0.0.12 80 would be reached by NAT (keepalived's default: the virtual server sets no lb_kind); SwiftLVS forwards by direct routing only, so this real server is skipped"),
            K.warning(9, "real_server 10.0.0.13 80 would be reached by IP tunnelling (its lvs_method TUN); SwiftLVS forwards by direct routing only, so this real server is skipped"),
            K.warning(12, "virtual_server 10.0.0.100 81: none of its real servers forwards by direct routing (each sets its own lvs_method); SwiftLVS forwards by direct routing only, so this virtual server is skipped"),
        ])
    }

    @Test func schedulerNamesAreCheckedAndUnknownOnesKeepTheDefault() throws {
        let config = try K.parse(K.service("""
                lb_algo loadbalance
                real_server 10.0.0.11 80 {
                }
            """) + "\n" + K.service("""
                lb_algo rr
                lvs_sched twos
                real_server 10.0.0.11 81 {
                }
            """, address: "10.0.0.100 81"))
        #expect(config.director.services.map(\.scheduler) == ["wlc", "twos"])
        #expect(config.warnings == [
            K.warning(4, "unknown scheduler 'loadbalance' (keepalived knows rr, wrr, lc, wlc, lblc, sh, mh, dh, fo, ovf, lblcr, sed, nq, twos); ignored, the scheduler stays wlc"),
        ])
    }

    @Test func schedulerFlagsApplyToTheirScheduler() throws {
        let config = try K.parse(K.service("""
                lvs_sched sh
                sh-port
                sh-fallback
                flag-3
                mh-port
                real_server 10.0.0.11 80 {
                }
            """) + "\n" + K.service("""
                mh-fallback
                lvs_sched mh
                real_server 10.0.0.11 81 {
                }
            """, address: "10.0.0.100 81"))
        #expect(config.director.services.map(\.schedulerFlags) == [[.port, .fallback, .flag3], [.fallback]])
        #expect(config.warnings == [
            K.warning(8, "mh-port only applies to the mh scheduler (this virtual server uses sh); ignored, as keepalived does"),
        ])
    }

    @Test func onePacketSchedulingIsForUDPOnly() throws {
        let config = try K.parse(K.service("""
                ops
                real_server 10.0.0.11 53 {
                }
            """, address: "10.0.0.53 53", protocol: "udp") + "\n" + K.service("""
                ops
                real_server 10.0.0.11 80 {
                }
            """))
        #expect(config.director.services.map(\.onePacketScheduling) == [true, false])
        #expect(config.director.services.map(\.key) == [K.udp(53, 53), K.tcp(100, 80)])
        #expect(config.warnings == [K.warning(11, "ops (one-packet scheduling) applies to UDP services only; ignored for this TCP service, as keepalived does")])
    }

    @Test func persistence() throws {
        let config = try K.parse(K.service("""
                persistence_timeout
                real_server 10.0.0.11 80 {
                }
            """, address: "10.0.0.100 80") + "\n" + K.service("""
                persistence_timeout 50
                persistence_granularity 255.255.255.0
                real_server 10.0.0.11 81 {
                }
            """, address: "10.0.0.100 81") + "\n" + K.service("""
                persistence_granularity 16
                real_server 10.0.0.11 82 {
                }
            """, address: "10.0.0.100 82") + "\n" + K.service("""
                persistence_timeout 0
                persistence_granularity 255.0.255.0.1
                real_server 10.0.0.11 83 {
                }
            """, address: "10.0.0.100 83"))
        #expect(config.director.services.map(\.persistence) == [
            Persistence(timeout: 360),
            Persistence(timeout: 50, netmask: IPv4Address(255, 255, 255, 0)),
            Persistence(timeout: 360, netmask: IPv4Address(255, 255, 0, 0)),
            nil,
        ])
        #expect(config.warnings == [
            K.warning(26, "persistence_timeout '0' is invalid (1 to 2678400 seconds); ignored, as keepalived does"),
            K.warning(27, "persistence_granularity '255.0.255.0.1' is not a netmask (255.255.255.0) or prefix length (24); ignored"),
        ])
    }

    // A virtual server without a port serves all ports, which IPVS allows only when persistent.
    @Test func portZeroNeedsPersistenceAndGetsIt() throws {
        let config = try K.parse(K.service("""
                real_server 10.0.0.11 {
                }
            """, address: "10.0.0.100") + "\n" + K.service("""
                persistence_timeout 600
                real_server 10.0.0.11 {
                }
            """, address: "10.0.0.101 0"))
        #expect(config.director.services == [
            VirtualServiceConfig(key: K.tcp(100, 0), scheduler: "wlc", persistence: Persistence(), realServers: [K.server(11, 0)]),
            VirtualServiceConfig(key: K.tcp(101, 0), scheduler: "wlc", persistence: Persistence(timeout: 600), realServers: [K.server(11, 0)]),
        ])
        #expect(config.warnings == [K.warning(1, "virtual_server 10.0.0.100: port 0 (all ports) is only valid for a persistent service; keepalived then sets persistence_timeout 360, and so does lvsd")])
    }

    @Test func protocolIsCaseInsensitiveDefaultsToUDPAndSCTPIsSkipped() throws {
        let config = try K.parse("""
            virtual_server 10.0.0.100 53 {
                lb_kind DR
                real_server 10.0.0.11 53 {
                }
            }
            virtual_server 10.0.0.100 80 {
                lb_kind DR
                protocol tcp
                real_server 10.0.0.11 80 {
                }
            }
            virtual_server 10.0.0.100 38412 {
                lb_kind DR
                protocol SCTP
                real_server 10.0.0.11 38412 {
                }
            }
            virtual_server 10.0.0.100 8080 {
                lb_kind DR
                protocol ICMP
                protocol TCP
                real_server 10.0.0.11 8080 {
                }
            }
            """)
        #expect(config.director.services.map(\.key) == [K.udp(100, 53), K.tcp(100, 80), K.tcp(100, 8080)])
        #expect(config.warnings == [
            K.warning(1, "virtual_server 10.0.0.100 53 sets no protocol: keepalived then uses UDP, and so does lvsd; add 'protocol TCP' if this is a TCP service"),
            K.warning(14, "protocol SCTP is not supported (SwiftLVS forwards TCP and UDP); virtual_server 10.0.0.100 38412 is skipped"),
            K.warning(20, "unknown protocol 'ICMP' (TCP, UDP or SCTP); ignored"),
        ])
    }

    @Test func portsMayBeServiceNamesAndAddressesHostNames() throws {
        let config = try K.parse(K.service("""
                real_server web1.example http {
                }
            """, address: "10.0.0.100 http"))
        #expect(config.director.services == [
            VirtualServiceConfig(key: K.tcp(100, 80), scheduler: "wlc", realServers: [K.server(21, 80)]),
        ])
    }

    @Test func sorryServer() throws {
        let config = try K.parse(K.service("""
                sorry_server 10.0.0.99 8080
                sorry_server_inhibit
                real_server 10.0.0.11 80 {
                }
            """) + "\n" + K.service("""
                sorry_server_inhibit
                sorry_server 10.0.0.99
                real_server 10.0.0.11 81 {
                }
            """, address: "10.0.0.100 81") + "\n" + """
            virtual_server 10.0.0.100 82 {
                protocol TCP
                sorry_server 10.0.0.99 82
                real_server 10.0.0.11 82 {
                    lvs_method DR
                }
            }
            """)
        #expect(config.health.services.map(\.sorryServer) == [K.server(99, 80), K.server(99, 81), nil])
        #expect(config.health.services.map(\.sorryServerInhibit) == [true, false, false])
        #expect(config.warnings == [
            K.warning(4, "sorry_server 10.0.0.99 8080: direct routing cannot change the port, so traffic for port 80 reaches it on port 80; the table uses 80, as keepalived does"),
            K.warning(12, "sorry_server_inhibit before (or without) sorry_server is ignored, as keepalived does; put it after sorry_server"),
            K.warning(19, "sorry_server 10.0.0.99 would be reached by NAT; SwiftLVS forwards by direct routing only, so it is not used: add 'sorry_server_lvs_method DR'"),
        ])
    }

    @Test func quorumAndHysteresisAreKeptWithinTheWeights() throws {
        let config = try K.parse(K.service("""
                quorum 3
                hysteresis 1
                quorum_up "/usr/local/bin/notify up 'web farm'"
                quorum_down /usr/local/bin/notify-down
                alpha
                omega
                real_server 10.0.0.11 80 {
                    weight 2
                }
                real_server 10.0.0.12 80 {
                    weight 2
                }
            """) + "\n" + K.service("""
                quorum 5
                hysteresis 2
                real_server 10.0.0.11 81 {
                    weight 2
                }
            """, address: "10.0.0.100 81") + "\n" + K.service("""
                quorum 0
                real_server 10.0.0.11 82 {
                }
            """, address: "10.0.0.100 82"))
        let services = config.health.services
        #expect(services.map(\.quorum) == [3, 2, 1])
        #expect(services.map(\.hysteresis) == [1, 1, 0])
        #expect(services[0].quorumUp == ["/usr/local/bin/notify", "up", "web farm"])
        #expect(services[0].quorumDown == ["/usr/local/bin/notify-down"])
        #expect(services.map(\.alpha) == [true, false, false])
        #expect(services.map(\.omega) == [true, false, false])
        #expect(config.warnings == [
            K.warning(17, "virtual_server 10.0.0.100 81: quorum 5 is above the total weight of its real servers (2); keepalived lowers it to 2, and so does lvsd"),
            K.warning(17, "virtual_server 10.0.0.100 81: hysteresis 2 is not below quorum 2; keepalived lowers it to 1, and so does lvsd"),
            K.warning(29, "quorum must be at least 1; 1 is used, as keepalived does"),
        ])
    }

    @Test func whatIsSkippedWhole() throws {
        let config = try K.parse("""
            virtual_server fwmark 7 {
                lb_kind DR
                real_server 10.0.0.11 80 {
                }
            }
            virtual_server 2001:db8::100 80 {
                lb_kind DR
            }
            virtual_server 10.0.0.100 80 {
                lb_kind DR
                protocol TCP
            }
            """)
        #expect(config.director.services.isEmpty)
        #expect(config.warnings == [
            K.warning(1, "virtual_server fwmark 7: firewall-mark services are not supported by the director yet; this virtual server is skipped"),
            K.warning(6, "virtual_server 2001:db8::100 80: IPv6 virtual servers are not supported (SwiftLVS forwards IPv4 only); this virtual server is skipped"),
            K.warning(9, "virtual_server 10.0.0.100 80 has no real servers; keepalived ignores such a virtual server, and so does lvsd"),
        ])
    }

    @Test func aServiceDefinedTwiceKeepsTheFirst() throws {
        let config = try K.parse(K.service("""
                real_server 10.0.0.11 80 {
                }
            """) + "\n" + K.service("""
                real_server 10.0.0.12 80 {
                }
            """))
        #expect(config.director.services.map(\.realServers) == [[K.server(11, 80)]])
        #expect(config.warnings == [K.warning(7, "TCP 10.0.0.100:80 is already defined at keepalived.conf:1; this definition is skipped")])
    }

    @Test func obsoleteUnknownAndMisspeltKeywordsAreWarnings() throws {
        let config = try K.parse(K.service("""
                nat_mask 255.255.255.0
                delay_lop 6
                persistence_engine sip
                ha_suspend
                smtp_alert
                real_server 10.0.0.11 80 {
                }
                frobnicate {
                    x 1
                }
            """))
        #expect(config.director.services.count == 1)
        #expect(config.warnings == [
            K.warning(4, "nat_mask is obsolete (keepalived no longer reads it, and it has no meaning for direct routing); ignored"),
            K.warning(5, "unknown keyword 'delay_lop' in virtual_server (did you mean 'delay_loop'?); ignored"),
            K.warning(6, "persistence_engine is not supported (SwiftLVS has no SIP persistence engine); the service is persistent by client address only"),
            K.warning(11, "unknown keyword 'frobnicate' in virtual_server; ignored with its block"),
        ])
    }

    @Test func structuralMistakesAreErrors() {
        func expectError(_ text: String, line: Int, _ message: String, sourceLocation: SourceLocation = #_sourceLocation) {
            let error = K.failure(text, sourceLocation: sourceLocation)
            #expect(error == ConfigurationError(file: K.file, line: line, message: message), sourceLocation: sourceLocation)
        }
        expectError("virtual_server {\n}", line: 1,
                    "virtual_server needs an address: virtual_server IP [PORT] {, virtual_server fwmark N { or virtual_server group NAME {")
        expectError("virtual_server 10.0.0.256 80 {\n}", line: 1,
                    "'10.0.0.256' is not a valid virtual server address: expected an IPv4 address such as 10.0.0.1")
        expectError("virtual_server www.nowhere 80 {\n}", line: 1,
                    "'www.nowhere' is not a valid virtual server address: expected an IPv4 address such as 10.0.0.1")
        expectError("virtual_server 10.0.0.1 65536 {\n}", line: 1, "'65536' is not a valid port: expected 0-65535")
        expectError("virtual_server 10.0.0.1 gopher {\n protocol TCP\n lb_kind DR\n real_server 10.0.0.2 {\n }\n}", line: 1,
                    "'gopher' is not a valid port: expected 0-65535 or a TCP service name from /etc/services")
        expectError("virtual_server 10.0.0.1 80 tcp {\n}", line: 1, "unexpected 'tcp' after the port: virtual_server IP [PORT] {")
        expectError("virtual_server 10.0.0.1 80\n", line: 1, "expected '{' after 'virtual_server 10.0.0.1 80': virtual_server opens a block")
        expectError("virtual_server 10.0.0.1 80 {\n real_server 10.0.0.2 80\n}", line: 2,
                    "expected '{' after 'real_server 10.0.0.2 80': real_server opens a block")
        expectError("virtual_server 10.0.0.1 80 {\n delay_loop 3 {\n }\n}", line: 2,
                    "unexpected '{' after 'delay_loop 3': delay_loop takes values, not a block")
        expectError("virtual_server 10.0.0.1 80 {\n sorry_server\n}", line: 2,
                    "sorry_server needs an address and optionally a port: sorry_server IP [PORT]")
        expectError("virtual_server fwmark {\n}", line: 1, "virtual_server fwmark needs a mark number: virtual_server fwmark N {")
    }
}
