import CLinuxNet
import Glibc
import LVSConfig
import LVSCore
@testable import LVSHealth
import Testing

/// SSL_GET's failures against local servers on the real event loop (its successes, digest and
/// SNI are in the namespace test `SSLGetTests`, against python TLS servers).
@Suite("SSL_GET and probe_via_vip without a network")
struct SSLCheckerTests {
    static let check = HTTPCheck(urls: [.init(path: "/health", statusCode: 200)])

    @Test("SSL_GET: a plain HTTP server fails the handshake; refused; silent → timeout; a missing client certificate says which file")
    func failures() throws {
        let bench = try Bench()
        let plain = GreetingServer(loop: bench.loop)
        defer { plain.close() }
        let silent = CannedHTTPServer(loop: bench.loop, response: nil)
        let handshake = bench.run(SSLChecker(configuration: Self.check), Local.target(plain.port))
        guard case .failure(.tls(let url, let reason)) = handshake else {
            Issue.record("expected a TLS failure, got \(String(describing: handshake))")
            return
        }
        #expect(url == "/health" && reason.hasPrefix("handshake: "), "\(reason)")
        #expect(bench.run(SSLChecker(configuration: Self.check), Local.target(Local.closedPort()))
            == .failure(.socket(errno: ECONNREFUSED)))
        #expect(bench.run(SSLChecker(configuration: Self.check), Local.target(silent.port, timeout: 0.3)) == .failure(.timeout))
        var withCertificate = Self.check
        withCertificate.clientCertificate = "/nonexistent/client.pem"
        withCertificate.clientKey = "/nonexistent/client.key"
        let missing = bench.run(SSLChecker(configuration: withCertificate), Local.target(plain.port))
        guard case .failure(.tls(_, let why)) = missing else {
            Issue.record("expected a TLS failure, got \(String(describing: missing))")
            return
        }
        #expect(why.hasPrefix("client certificate /nonexistent/client.pem: "), "\(why)")
    }

    /// A server that is not TLS: it greets each connection with an SSH banner and keeps it open
    /// (a close at once would turn the client's ClientHello into a reset, not a TLS error).
    final class GreetingServer: EventHandler {
        let fd: Int32
        let port: UInt16
        unowned let loop: EventLoop

        init(loop: EventLoop) {
            let b = Local.bound(Int32(SOCK_STREAM.rawValue))
            fd = b.fd
            port = b.port
            self.loop = loop
            listen(fd, 16)
            loop.register(fd, events: EPOLLIN.rawValue, handler: self)
        }

        func handleEvents(_ events: UInt32) {
            let client = accept(fd, nil, nil)
            guard client >= 0 else { return }
            let banner = Array("SSH-2.0-OpenSSH_9.2\r\n".utf8)
            _ = banner.withUnsafeBytes { send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            clients.append(client)
        }

        var clients: [Int32] = []

        func close() {
            for client in clients { Glibc.close(client) }
            loop.closeRegistered(fd)
        }
    }

    @Test("HTTP_GET honours status_code lists and ranges")
    func statusRanges() throws {
        let bench = try Bench()
        let moved = CannedHTTPServer(loop: bench.loop, response: "HTTP/1.0 301 Moved\r\nContent-Length: 0\r\n\r\n")
        let ranges = HTTPCheck(urls: [.init(path: "/", statusCodeRanges: [200...299, 301...301])])
        #expect(bench.run(HTTPChecker(configuration: ranges), Local.target(moved.port)) == .success(weight: nil))
        let other = HTTPCheck(urls: [.init(path: "/", statusCodeRanges: [200...299, 503...503])])
        #expect(bench.run(HTTPChecker(configuration: other), Local.target(moved.port)) == .failure(.httpStatus(url: "/", status: 301)))
    }

    @Test("probe_via_vip without a data plane fails with a reason, not silently through the server's address")
    func viaVIPWithoutPath() throws {
        let bench = try Bench()
        let vip = VIPTarget(address: IPv4Address(10, 0, 0, 100), port: 80)
        let checker = ViaVIPChecker(inner: nil, vip: vip, keyword: "TCP_CHECK")
        #expect(bench.run(checker, Local.target(1)) == .failure(.viaVIP("lvsd runs no data plane to probe through")))
        var target = Local.target(1)
        target.viaVIP = vip
        #expect(bench.run(UDPChecker(configuration: UDPCheck(payload: [1])), target) == .failure(.viaVIP("lvsd runs no data plane to probe through")))
    }

    @Test("The plan probes through the VIP for TCP_CHECK, HTTP_GET, SSL_GET, UDP_CHECK and DNS_CHECK, never for a firewall-mark service; warnings say so")
    func plans() {
        var service = ServiceHealth(key: VirtualServiceKey(transport: .tcp, address: IPv4Address(10, 0, 0, 100), port: 80))
        let server = RealServerConfig(address: IPv4Address(10, 0, 0, 11), port: 8080)
        func plan(_ kind: CheckerConfig.Kind) -> CheckTarget {
            var c = CheckerConfig(kind: kind)
            c.probeThroughVIP = true
            c.connectAddress = IPv4Address(10, 0, 1, 11)
            return HealthCoordinator.plan(c, server: server, service: service, rise: 1).target
        }
        let vip = VIPTarget(address: IPv4Address(10, 0, 0, 100), port: 80)
        #expect(plan(.tcp).viaVIP == vip && plan(.tcp).viaVIPServer == IPv4Address(10, 0, 0, 11))
        #expect(plan(.http(Self.check)).viaVIP == vip && plan(.ssl(Self.check)).viaVIP == vip)
        #expect(plan(.udp(UDPCheck())).viaVIP == vip && plan(.dns(DNSCheck())).viaVIP == vip)
        #expect(plan(.ping).viaVIP == nil && plan(.misc(MiscCheck(arguments: ["true"]))).viaVIP == nil)

        var ping = CheckerConfig(kind: .ping)
        ping.probeThroughVIP = true
        var health = RealServerHealth(address: server.address, port: server.port)
        health.checkers = [ping]
        service.realServers = [health]
        let warnings = HealthMonitor.warnings(for: KeepalivedConfiguration(health: HealthConfiguration(services: [service])))
        #expect(warnings == ["PING_CHECK of [10.0.0.11]:tcp:8080: probe_via_vip has no effect on PING_CHECK (only TCP_CHECK, HTTP_GET, SSL_GET, UDP_CHECK and DNS_CHECK probe through the VIP); the check goes to the server's own address"])

        service.key = .firewallMark(7)
        #expect(plan(.tcp).viaVIP == nil)
    }
}
