import Foundation
import Glibc
import LVSConfig
import LVSCore
@testable import LVSHealth
import Testing

/// Each checker against servers on 127.0.0.1, driven by a real event loop.
@Suite("Checkers against local servers")
struct CheckerTests {
    @Test("TCP_CHECK: a listener passes; a closed port is refused at once")
    func tcp() throws {
        let bench = try Bench()
        let listener = Local.bound(Int32(SOCK_STREAM.rawValue))
        defer { close(listener.fd) }
        listen(listener.fd, 16)
        #expect(bench.run(TCPChecker(), Local.target(listener.port)) == .success(weight: nil))
        let started = Posix.monotonicSeconds()
        #expect(bench.run(TCPChecker(), Local.target(Local.closedPort())) == .failure(.socket(errno: ECONNREFUSED)))
        #expect(Posix.monotonicSeconds() - started < 1)
    }

    @Test("TCP_CHECK from a bindto address")
    func tcpBind() throws {
        let bench = try Bench()
        let listener = Local.bound(Int32(SOCK_STREAM.rawValue))
        defer { close(listener.fd) }
        listen(listener.fd, 16)
        var target = Local.target(listener.port)
        target.bindAddress = IPv4Address(127, 0, 0, 2)
        #expect(bench.run(TCPChecker(), target) == .success(weight: nil))
        target.bindAddress = IPv4Address(192, 0, 2, 1)   // not ours: bind fails, nothing is sent
        #expect(bench.run(TCPChecker(), target) == .failure(.system(call: "bind", errno: EADDRNOTAVAIL)))
    }

    @Test("HTTP_GET: status code, default 2xx, MD5 digest, several URLs, Host header, timeout")
    func http() throws {
        let bench = try Bench()
        let ok = CannedHTTPServer(loop: bench.loop, response: "HTTP/1.0 200 OK\r\nContent-Length: 6\r\n\r\nhello\n")
        let unavailable = CannedHTTPServer(loop: bench.loop, response: "HTTP/1.0 503 Service Unavailable\r\n\r\nbusy")
        let silent = CannedHTTPServer(loop: bench.loop, response: nil)
        let digest = MD5.hex(Array("hello\n".utf8))

        #expect(bench.run(HTTPChecker(configuration: HTTPCheck(urls: [.init(path: "/")])), Local.target(ok.port)) == .success(weight: nil))
        #expect(ok.seen.first?.hasPrefix("GET / HTTP/1.0\r\nUser-Agent: KeepAliveClient\r\nHost: 127.0.0.1:\(ok.port)\r\n") == true)
        let two = HTTPCheck(urls: [.init(path: "/a", digest: digest, statusCode: 200), .init(path: "/b", digest: digest)], virtualHost: "www.example.com")
        #expect(bench.run(HTTPChecker(configuration: two), Local.target(ok.port)) == .success(weight: nil))
        #expect(ok.seen.suffix(2).map { $0.split(separator: "\r\n")[0] } == ["GET /a HTTP/1.0", "GET /b HTTP/1.0"])
        #expect(ok.seen.last?.contains("Host: www.example.com\r\n") == true)

        let wrongDigest = HTTPCheck(urls: [.init(path: "/", digest: String(repeating: "0", count: 32))])
        #expect(bench.run(HTTPChecker(configuration: wrongDigest), Local.target(ok.port)) == .failure(.httpDigest(url: "/", digest: digest)))
        #expect(bench.run(HTTPChecker(configuration: HTTPCheck(urls: [.init(path: "/")])), Local.target(unavailable.port))
            == .failure(.httpStatus(url: "/", status: 503)))
        #expect(bench.run(HTTPChecker(configuration: HTTPCheck(urls: [.init(path: "/", statusCode: 503)])), Local.target(unavailable.port))
            == .success(weight: nil))
        #expect(bench.run(HTTPChecker(configuration: HTTPCheck(urls: [.init(path: "/")])), Local.target(silent.port, timeout: 0.3))
            == .failure(.timeout))
        #expect(bench.run(HTTPChecker(configuration: HTTPCheck(urls: [.init(path: "/")])), Local.target(Local.closedPort()))
            == .failure(.socket(errno: ECONNREFUSED)))
    }

    @Test("MISC_CHECK: exit status, misc_dynamic, a program that does not exist, argv without a shell")
    func misc() throws {
        let bench = try Bench()
        func run(_ arguments: [String], dynamic: Bool = false, timeout: Double = 5) -> CheckOutcome? {
            var m = MiscCheck(arguments: arguments)
            m.dynamic = dynamic
            return bench.run(MiscChecker(configuration: m), Local.target(0, timeout: timeout), seconds: timeout + 3)
        }
        #expect(run(["true"]) == .success(weight: nil))
        #expect(run(["/bin/sh", "-c", "exit 1"]) == .failure(.exitStatus(1)))
        #expect(run(["/bin/sh", "-c", "exit 9"], dynamic: true) == .success(weight: 7))
        #expect(run(["/bin/sh", "-c", "exit 9"]) == .failure(.exitStatus(9)))
        #expect(run(["/nonexistent/check"]) == .failure(.exitStatus(127)) || run(["/nonexistent/check"]) == .failure(.cannotRun(errno: ENOENT)))
        // No shell: `$x` and `;` reach the program as they are.
        #expect(run(["/bin/sh", "-c", "test \"$1\" = '$x;y'", "sh", "$x;y"]) == .success(weight: nil))
        #expect(bench.reaper.running == 0)
    }

    @Test("MISC_CHECK: misc_timeout kills the whole process group")
    func miscTimeout() throws {
        let bench = try Bench()
        let file = "/tmp/lvs-health-misc-\(getpid())"
        defer { unlink(file) }
        let started = Posix.monotonicSeconds()
        let m = MiscCheck(arguments: ["/bin/sh", "-c", "sleep 30 & echo $! > \(file); wait"])
        #expect(bench.run(MiscChecker(configuration: m), Local.target(0, timeout: 0.5)) == .failure(.timeout))
        #expect(Posix.monotonicSeconds() - started < 2)
        let grandchild = (try? String(contentsOfFile: file, encoding: .utf8)).flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        #expect(grandchild != nil)
        // The group was killed: the background sleep is gone too (or a zombie for a moment).
        var gone = false
        for _ in 0..<100 where !gone {
            bench.spin(0.02)
            let state = (try? String(contentsOfFile: "/proc/\(grandchild ?? 0)/stat", encoding: .utf8))?.split(separator: " ").dropFirst(2).first
            gone = state == nil || state == "Z"
        }
        #expect(gone)
        bench.spin(0.2)
        #expect(bench.reaper.running == 0, "the killed leader was reaped")
    }

    @Test("UDP_CHECK: a reply passes; a closed port fails with ICMP port unreachable; silence passes unless a reply is required")
    func udp() throws {
        let bench = try Bench()
        let echo = UDPResponder(loop: bench.loop) { $0 }
        let silent = UDPResponder(loop: bench.loop) { _ in nil }
        defer { close(echo.fd); close(silent.fd) }
        var check = UDPCheck(payload: Array("ping".utf8))
        #expect(bench.run(UDPChecker(configuration: check), Local.target(echo.port)) == .success(weight: nil))
        #expect(bench.run(UDPChecker(configuration: check), Local.target(Local.closedPort(Int32(SOCK_DGRAM.rawValue)))) == .failure(.portUnreachable))
        #expect(bench.run(UDPChecker(configuration: check), Local.target(silent.port, timeout: 0.3)) == .success(weight: nil))
        check.requireReply = true
        #expect(bench.run(UDPChecker(configuration: check), Local.target(silent.port, timeout: 0.3)) == .failure(.noReply))
        #expect(bench.run(UDPChecker(configuration: check), Local.target(echo.port)) == .success(weight: nil))
    }

    @Test("DNS_CHECK: an answer with the query's id passes; SERVFAIL fails; a wrong id is ignored until the timeout")
    func dns() throws {
        let bench = try Bench()
        func respond(rcode: UInt8, idDelta: UInt8 = 0) -> ([UInt8]) -> [UInt8]? {
            { query in
                var r = query
                r[1] = r[1] &+ idDelta
                r[2] |= 0x80
                r[3] = 0x80 | rcode
                return r
            }
        }
        let good = UDPResponder(loop: bench.loop, answer: respond(rcode: 0))
        let failing = UDPResponder(loop: bench.loop, answer: respond(rcode: 2))
        let confused = UDPResponder(loop: bench.loop, answer: respond(rcode: 0, idDelta: 1))
        defer { close(good.fd); close(failing.fd); close(confused.fd) }
        var q = DNSCheck()
        q.type = "A"
        q.name = "www.example.com"
        #expect(bench.run(DNSChecker(configuration: q), Local.target(good.port)) == .success(weight: nil))
        #expect(bench.run(DNSChecker(configuration: DNSCheck()), Local.target(failing.port)) == .failure(.dnsAnswer(reason: "response code SERVFAIL")))
        #expect(bench.run(DNSChecker(configuration: DNSCheck()), Local.target(confused.port, timeout: 0.3)) == .failure(.noReply))
    }

    @Test("PING_CHECK: 127.0.0.1 answers")
    func ping() throws {
        let bench = try Bench()
        #expect(bench.run(PingChecker(), Local.target(0)) == .success(weight: nil))
        // Once more on whichever socket kind the first attempt settled on.
        #expect(bench.run(PingChecker(), Local.target(0)) == .success(weight: nil))
    }

    @Test("A cancelled attempt never completes and leaves no descriptor behind")
    func cancel() throws {
        let bench = try Bench()
        let silent = CannedHTTPServer(loop: bench.loop, response: nil)
        var completed = false
        let attempt = HTTPChecker(configuration: HTTPCheck(urls: [.init(path: "/")])).start(Local.target(silent.port, timeout: 0.2), environment: bench.environment) { _ in completed = true }
        bench.spin(0.05)
        attempt.cancel()
        bench.spin(0.4)
        #expect(!completed)
        #expect((attempt as? SocketAttempt)?.fd == -1)
        #expect(bench.loop.timers.nextDeadline == nil, "its deadline was cancelled")
    }
}

