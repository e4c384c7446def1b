import CLinuxNet
import Glibc
@testable import LVSHealth
import LVSCore

/// Servers on 127.0.0.1 that live on the test's own event loop, so a checker and its server
/// run on one thread and a test needs no other.
enum Local {
    static let loopback = IPv4Address(127, 0, 0, 1)

    /// A bound socket (port chosen by the kernel) and its port.
    static func bound(_ type: Int32) -> (fd: Int32, port: UInt16) {
        let fd = socket(AF_INET, type | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(4))
        var a = Posix.socketAddress(loopback.value, 0)
        _ = withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        return (fd, UInt16(bigEndian: a.sin_port))
    }

    /// A port nothing listens on (bound once, then closed).
    static func closedPort(_ type: Int32 = Int32(SOCK_STREAM.rawValue)) -> UInt16 {
        let b = bound(type)
        close(b.fd)
        return b.port
    }

    static func target(_ port: UInt16, timeout: Double = 2) -> CheckTarget {
        CheckTarget(address: loopback, port: port, bindAddress: nil, bindPort: nil, timeout: timeout)
    }
}

/// Runs attempts on a loop of its own, with servers registered on the same loop.
final class Bench {
    let loop: EventLoop
    let reaper: ChildReaper
    let environment: CheckEnvironment
    var keep: [AnyObject] = []

    init() throws {
        loop = try EventLoop()
        reaper = ChildReaper(loop: loop)
        environment = CheckEnvironment(loop: loop, reaper: reaper)
    }

    /// Starts one attempt and turns the loop until it completes (at most `seconds`).
    func run(_ checker: any Checker, _ target: CheckTarget, seconds: Double = 5) -> CheckOutcome? {
        var outcome: CheckOutcome?
        let attempt = checker.start(target, environment: environment) { outcome = $0 }
        let deadline = Posix.monotonicSeconds() + seconds
        while outcome == nil && Posix.monotonicSeconds() < deadline { loop.runOnce(maxWait: 0.05) }
        if outcome == nil { attempt.cancel() }
        return outcome
    }

    /// Turns the loop for `seconds`.
    func spin(_ seconds: Double) {
        let deadline = Posix.monotonicSeconds() + seconds
        while Posix.monotonicSeconds() < deadline { loop.runOnce(maxWait: 0.02) }
    }
}

/// An HTTP server answering every request with one canned response (or never, when nil).
final class CannedHTTPServer: EventHandler {
    final class Connection: EventHandler {
        let fd: Int32
        let response: [UInt8]?
        unowned let loop: EventLoop
        var request: [UInt8] = []
        var requests: (String) -> Void

        init(fd: Int32, response: [UInt8]?, loop: EventLoop, requests: @escaping (String) -> Void) {
            self.fd = fd
            self.response = response
            self.loop = loop
            self.requests = requests
        }

        func handleEvents(_ events: UInt32) {
            var buffer = [UInt8](repeating: 0, count: 4096)
            let n = recv(fd, &buffer, buffer.count, 0)
            if n <= 0 {
                loop.closeRegistered(fd)
                return
            }
            request += buffer[..<n]
            guard String(decoding: request, as: UTF8.self).contains("\r\n\r\n") else { return }
            requests(String(decoding: request, as: UTF8.self))
            guard let response else { return }
            _ = response.withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            loop.closeRegistered(fd)
        }
    }

    let fd: Int32
    let port: UInt16
    let response: [UInt8]?
    unowned let loop: EventLoop
    var connections: [Connection] = []
    var seen: [String] = []

    init(loop: EventLoop, response: String?) {
        let b = Local.bound(Int32(SOCK_STREAM.rawValue))
        fd = b.fd
        port = b.port
        self.response = response.map { Array($0.utf8) }
        self.loop = loop
        listen(fd, 16)
        loop.register(fd, events: EPOLLIN.rawValue, handler: self)
    }

    func handleEvents(_ events: UInt32) {
        let c = accept(fd, nil, nil)
        guard c >= 0 else { return }
        _ = fcntl(c, F_SETFL, O_NONBLOCK)
        let connection = Connection(fd: c, response: response, loop: loop) { [unowned self] in self.seen.append($0) }
        connections.append(connection)
        loop.register(c, events: EPOLLIN.rawValue, handler: connection)
    }
}

/// A UDP server answering each datagram with `answer(datagram)` (nil: stays silent).
final class UDPResponder: EventHandler {
    let fd: Int32
    let port: UInt16
    let answer: ([UInt8]) -> [UInt8]?

    init(loop: EventLoop, answer: @escaping ([UInt8]) -> [UInt8]?) {
        let b = Local.bound(Int32(SOCK_DGRAM.rawValue))
        fd = b.fd
        port = b.port
        self.answer = answer
        loop.register(fd, events: EPOLLIN.rawValue, handler: self)
    }

    func handleEvents(_ events: UInt32) {
        var buffer = [UInt8](repeating: 0, count: 2048)
        var peer = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let n = withUnsafeMutablePointer(to: &peer) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { recvfrom(fd, &buffer, buffer.count, 0, $0, &length) }
        }
        guard n >= 0, let reply = answer(Array(buffer[..<n])) else { return }
        _ = withUnsafePointer(to: &peer) { p in
            p.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                reply.withUnsafeBytes { sendto(fd, $0.baseAddress, $0.count, 0, sa, length) }
            }
        }
    }
}
