import Testing
import LVSCore
import LVSConfig

/// Checker blocks: every kind with its fields, keepalived's defaults per kind, and the
/// virtual server → real server → checker inheritance.
@Suite struct KeepalivedCheckerTests {
    typealias K = Keepalived

    /// The checkers of the only real server of the only service.
    func checkers(_ body: String, address: String = "10.0.0.100 80", protocol proto: String = "TCP",
                  warnings expected: [ConfigurationWarning] = [], sourceLocation: SourceLocation = #_sourceLocation) throws -> [CheckerConfig] {
        let config = try K.parse(K.service(body, address: address, protocol: proto))
        #expect(config.warnings == expected, sourceLocation: sourceLocation)
        return try #require(config.health.services.first?.realServers.first?.checkers, sourceLocation: sourceLocation)
    }

    @Test func tcpCheckWithEveryConnectionOption() throws {
        let result = try checkers("""
                real_server 10.0.0.11 80 {
                    TCP_CHECK {
                        connect_ip 10.0.1.11
                        connect_port 8080
                        bindto 10.0.0.2
                        bind_port 40000
                        connect_timeout 2.5
                        retry 4
                        delay_before_retry 0.5
                        warmup 0
                        delay_loop 7
                        probe_via_vip
                        bind_if eth1
                        fwmark 3
                        log_all_failures on
                    }
                }
            """, warnings: [
                K.warning(16, "bind_if in TCP_CHECK is not supported by lvsd's checkers; ignored"),
                K.warning(17, "fwmark in TCP_CHECK is not supported by lvsd's checkers; ignored"),
            ])
        var expected = CheckerConfig(kind: .tcp)
        expected.connectAddress = IPv4Address(10, 0, 1, 11)
        expected.connectPort = 8080
        expected.bindAddress = IPv4Address(10, 0, 0, 2)
        expected.bindPort = 40000
        expected.connectTimeout = 2.5
        expected.retry = 4
        expected.delayBeforeRetry = 0.5
        expected.warmup = 0
        expected.delayLoop = 7
        expected.probeThroughVIP = true
        #expect(result == [expected])
    }

    // keepalived: "the virtual server setting is the default for real servers, and the real
    // server setting is the default for checkers".
    @Test func settingsInheritFromVirtualServerThroughRealServerToChecker() throws {
        let config = try K.parse(K.service("""
                delay_loop 10
                connect_timeout 3
                retry 2
                delay_before_retry 4
                warmup 1
                probe_via_vip
                real_server 10.0.0.11 80 {
                    retry 5
                    delay_loop 20
                    TCP_CHECK {
                        connect_timeout 1
                    }
                    PING_CHECK {
                        probe_via_vip no
                    }
                }
                real_server 10.0.0.12 80 {
                    TCP_CHECK {
                    }
                }
            """))
        #expect(config.warnings == [])
        let service = try #require(config.health.services.first)
        #expect(service.delayLoop == 10)
        var tcp = CheckerConfig(kind: .tcp)
        tcp.connectTimeout = 1
        tcp.retry = 5
        tcp.delayBeforeRetry = 4
        tcp.warmup = 1
        tcp.delayLoop = 20
        tcp.probeThroughVIP = true
        var ping = tcp
        ping.kind = .ping
        ping.connectTimeout = 3
        ping.probeThroughVIP = false
        var plain = CheckerConfig(kind: .tcp)
        plain.connectTimeout = 3
        plain.retry = 2
        plain.delayBeforeRetry = 4
        plain.warmup = 1
        plain.probeThroughVIP = true
        #expect(service.realServers.map(\.checkers) == [[tcp, ping], [plain]])
    }

    // Defaults differ by kind: retry 3 and delay_before_retry = delay_loop for DNS, retry 0 for
    // MISC, delay_before_retry 3 for HTTP; warmup defaults to the delay loop.
    @Test func defaultsPerCheckerKind() throws {
        let result = try checkers("""
                delay_loop 6
                real_server 10.0.0.11 53 {
                    DNS_CHECK {
                    }
                    MISC_CHECK {
                        misc_path /bin/true
                    }
                    HTTP_GET {
                        url {
                            path /
                        }
                    }
                    UDP_CHECK {
                    }
                    PING_CHECK {
                    }
                }
            """, address: "10.0.0.100 53", protocol: "UDP")
        #expect(result == [
            K.checker(.dns(DNSCheck()), delayLoop: 6),
            K.checker(.misc(MiscCheck(arguments: ["/bin/true"])), delayLoop: 6),
            K.checker(.http(HTTPCheck(urls: [HTTPCheck.URL(path: "/")])), delayLoop: 6),
            K.checker(.udp(UDPCheck()), delayLoop: 6),
            K.checker(.ping, delayLoop: 6),
        ])
    }

    @Test func httpGetUrlsDigestsStatusCodesAndVirtualHosts() throws {
        let result = try checkers("""
                virtualhost www.example.com
                real_server 10.0.0.11 80 {
                    HTTP_GET {
                        url {
                            path /health
                            digest 9B3A0C85A887A256D6939DA88AABD8CD
                            status_code 200
                        }
                        url {
                            path /ready
                            status_code 200-299 301 503
                        }
                        url {
                            path /admin/
                            virtualhost admin.example.com
                            regex "^OK"
                            regex_no_match
                        }
                        http_protocol 1.1
                        fast_recovery
                    }
                }
            """, warnings: [K.warning(19, "regex: matching the body against a regex is not supported; this url is checked by status only")])
        var www = K.checker(.http(HTTPCheck(urls: [
            HTTPCheck.URL(path: "/health", digest: "9b3a0c85a887a256d6939da88aabd8cd", statusCode: 200),
            HTTPCheck.URL(path: "/ready", statusCodeRanges: [200...299, 301...301, 503...503]),
        ], virtualHost: "www.example.com")))
        www.delayBeforeRetry = 3
        var admin = www
        admin.kind = .http(HTTPCheck(urls: [HTTPCheck.URL(path: "/admin/")], virtualHost: "admin.example.com"))
        #expect(result == [www, admin])
        guard case .http(let check) = result[0].kind else { return }
        #expect(check.urls.map { $0.accepts(status: 204) } == [false, true])
        #expect(check.urls.map { $0.accepts(status: 503) } == [false, true])
        #expect(HTTPCheck.URL(path: "/").accepts(status: 299))
        #expect(!HTTPCheck.URL(path: "/").accepts(status: 301))
    }

    @Test func httpGetWithNothingToCheckIsSkipped() throws {
        let result = try checkers("""
                real_server 10.0.0.11 80 {
                    HTTP_GET {
                        url {
                            digest 1234
                            status_code ok
                        }
                        http_protocol 2
                    }
                    TCP_CHECK {
                    }
                }
            """, warnings: [
                K.warning(7, "digest '1234' is not an MD5 digest (32 hex digits, as genhash prints it); ignored"),
                K.warning(8, "status_code 'ok' is not a list of codes or ranges (200, 200-299); ignored"),
                K.warning(6, "url without path; this url is skipped"),
                K.warning(10, "http_protocol '2' is not one of 1.0, 1.0C, 1.1; ignored"),
                K.warning(5, "HTTP_GET has no url block, so it has nothing to check; this checker is skipped"),
            ])
        #expect(result == [K.checker(.tcp)])
    }

    @Test func sslGetIsHTTPGetOverTLSWithSNIAndTheGlobalClientCertificate() throws {
        let config = try K.parse("""
            SSL {
                password secret
                ca /etc/keepalived/ca.pem
                certificate /etc/keepalived/client.pem
                key /etc/keepalived/client.key
            }

            """ + K.service("""
                real_server 10.0.0.11 443 {
                    SSL_GET {
                        url {
                            path /health
                            digest 9B3A0C85A887A256D6939DA88AABD8CD
                            status_code 200
                        }
                        virtualhost www.example.com
                        enable_sni
                        connect_timeout 2
                    }
                }
                real_server 10.0.0.12 443 {
                    SSL_GET {
                    }
                    TCP_CHECK {
                    }
                    SMTP_CHECK {
                    }
                }
            """, address: "10.0.0.100 443"))
        #expect(config.director.services.map(\.realServers) == [[K.server(11, 443), K.server(12, 443)]])
        var check = HTTPCheck(urls: [HTTPCheck.URL(path: "/health", digest: "9b3a0c85a887a256d6939da88aabd8cd", statusCode: 200)],
                              virtualHost: "www.example.com")
        check.enableSNI = true
        check.clientCertificate = "/etc/keepalived/client.pem"
        check.clientKey = "/etc/keepalived/client.key"
        var ssl = K.checker(.ssl(check))
        ssl.delayBeforeRetry = 3
        ssl.connectTimeout = 2
        #expect(config.health.services.first?.realServers.map(\.checkers) == [[ssl], [K.checker(.tcp)]])
        #expect(config.warnings == [
            K.warning(2, "password in SSL: encrypted private keys are not supported; give lvsd an unencrypted key; ignored"),
            K.warning(3, "ca in SSL: lvsd does not verify the real servers' certificates (keepalived does not either); ignored"),
            K.warning(23, "SSL_GET has no url block, so it has nothing to check; this checker is skipped"),
            K.warning(27, "SMTP_CHECK is not supported by lvsd (it has no SMTP checker); this checker is skipped, so real_server 10.0.0.12 443 is checked by its other checkers only"),
        ])
    }

    @Test func miscCheck() throws {
        let result = try checkers("""
                real_server 10.0.0.11 80 {
                    MISC_CHECK {
                        misc_path "/usr/local/bin/check_web --host 10.0.0.11 --match 'It works'"
                        misc_timeout 4
                        misc_dynamic
                        user nobody
                        retry 2
                    }
                    MISC_CHECK {
                        misc_path /usr/local/bin/check_db 'db one' 5432
                        connect_port 5432
                        probe_via_vip
                    }
                    MISC_CHECK {
                        misc_timeout 3
                    }
                }
            """, warnings: [
                K.warning(9, "user in MISC_CHECK is not supported: lvsd runs the program as its own user; ignored"),
                K.warning(14, "unknown keyword 'connect_port' in MISC_CHECK; ignored"),
                K.warning(12, "probe_via_vip has no effect on MISC_CHECK: the program does its own probing"),
                K.warning(17, "MISC_CHECK has no misc_path, so it has nothing to run; this checker is skipped, as keepalived skips it"),
            ])
        var web = MiscCheck(arguments: ["/usr/local/bin/check_web", "--host", "10.0.0.11", "--match", "It works"])
        web.timeout = 4
        web.dynamic = true
        var first = K.checker(.misc(web))
        first.retry = 2
        #expect(result == [first, K.checker(.misc(MiscCheck(arguments: ["/usr/local/bin/check_db", "db one", "5432"])))])
    }

    @Test func udpCheck() throws {
        let result = try checkers("""
                real_server 10.0.0.11 9000 {
                    UDP_CHECK {
                        payload 70696e67 0a
                        require_reply
                    }
                    UDP_CHECK {
                        payload zz
                        require_reply 706f6e67
                        min_reply_length 4
                    }
                }
            """, address: "10.0.0.100 9000", protocol: "UDP", warnings: [
                K.warning(10, "payload 'zz' is not a hex string (such as 0a1b2c); ignored"),
                K.warning(11, "require_reply: lvsd requires a reply but does not compare it with '706f6e67'"),
                K.warning(12, "min_reply_length is not supported: any reply length is accepted; ignored"),
            ])
        var ping = UDPCheck(payload: Array("ping\n".utf8))
        ping.requireReply = true
        var bare = UDPCheck()
        bare.requireReply = true
        #expect(result == [K.checker(.udp(ping)), K.checker(.udp(bare))])
    }

    @Test func dnsCheck() throws {
        let result = try checkers("""
                real_server 10.0.0.11 53 {
                    DNS_CHECK {
                        type a
                        name www.example.com
                        retry 1
                    }
                    DNS_CHECK {
                        type SRV
                    }
                }
            """, address: "10.0.0.100 53", protocol: "UDP", warnings: [
                K.warning(11, "unknown DNS query type 'SRV' (A, NS, CNAME, SOA, MX, TXT, AAAA); ignored, the type stays SOA"),
            ])
        var www = DNSCheck()
        www.type = "A"
        www.name = "www.example.com"
        var first = K.checker(.dns(www))
        first.retry = 1
        #expect(result == [first, K.checker(.dns(DNSCheck()))])
    }

    @Test func nbGetRetryIsReadAsRetryWithKeepalivedsDeprecationWarning() throws {
        let result = try checkers("""
                real_server 10.0.0.11 80 {
                    TCP_CHECK {
                        connect_timeout 3
                        nb_get_retry 3
                        delay_before_retry 3
                        conect_port 80
                    }
                }
            """, warnings: [
                K.warning(7, "nb_get_retry is deprecated; keepalived reads it as 'retry', and so does lvsd: write retry 3"),
                K.warning(9, "unknown keyword 'conect_port' in TCP_CHECK (did you mean 'connect_port'?); ignored"),
            ])
        var expected = K.checker(.tcp)
        expected.connectTimeout = 3
        expected.retry = 3
        expected.delayBeforeRetry = 3
        #expect(result == [expected])
    }

    @Test func perServerAlphaIsNotSupported() throws {
        let config = try K.parse(K.service("""
                real_server 10.0.0.11 80 {
                    alpha
                    TCP_CHECK {
                        alpha off
                    }
                }
            """))
        #expect(config.health.services.map(\.alpha) == [false])
        #expect(config.warnings == [
            K.warning(4, "alpha for one real server or checker is not supported: lvsd applies the virtual server's alpha (off) to all its real servers"),
        ])
    }

    @Test func checkerErrors() {
        #expect(K.failure(K.service("""
                real_server 10.0.0.11 80 {
                    TCP_CHECK {
                        connect_ip 10.0.0
                    }
                }
            """)) == ConfigurationError(file: K.file, line: 6, message: "'10.0.0' is not a valid connect_ip address: expected an IPv4 address such as 10.0.0.1"))
        #expect(K.failure(K.service("""
                real_server 10.0.0.11 80 {
                    TCP_CHECK {
                        connect_port 70000
                    }
                }
            """)) == ConfigurationError(file: K.file, line: 6, message: "'70000' is not a valid port: expected 0-65535"))
        #expect(K.failure(K.service("""
                real_server 10.0.0.11 80 {
                    TCP_CHECK
                }
            """)) == ConfigurationError(file: K.file, line: 5, message: "expected '{' after 'TCP_CHECK': TCP_CHECK opens a block"))
    }
}
