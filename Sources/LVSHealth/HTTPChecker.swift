import CLinuxNet
import Glibc
import LVSConfig

/// `HTTP_GET`: for each `url`, in order and on a connection of its own, `GET path HTTP/1.0`
/// answers with the expected status (default: any 2xx) and, when `digest` is given, a body
/// whose MD5 is that digest. All URLs must pass; `connect_timeout` bounds the whole attempt.
struct HTTPChecker: Checker {
    var configuration: HTTPCheck

    var keyword: String { "HTTP_GET" }

    func start(_ target: CheckTarget, environment: CheckEnvironment,
               completion: @escaping (CheckOutcome) -> Void) -> any CheckAttempt {
        let attempt = HTTPAttempt(configuration: configuration, target: target, environment: environment,
                                  completion: completion)
        attempt.begin()
        return attempt
    }

    /// The request keepalived sends: HTTP/1.0, its user agent, and a Host header with the port
    /// when it is not 80.
    static func request(path: String, host: String) -> [UInt8] {
        Array("GET \(path) HTTP/1.0\r\nUser-Agent: KeepAliveClient\r\nHost: \(host)\r\nConnection: close\r\n\r\n".utf8)
    }
}

/// One HTTP_GET attempt; `SSLAttempt` is the same over TLS (it overrides the connection's
/// set-up, its I/O and its teardown, and keeps the request, the reader and the judging).
class HTTPAttempt: SocketAttempt {
    let configuration: HTTPCheck
    let target: CheckTarget
    var urlIndex = 0
    var request: [UInt8] = []
    var sent = 0
    var reader = HTTPResponseReader(wantsDigest: false)

    init(configuration: HTTPCheck, target: CheckTarget, environment: CheckEnvironment,
         completion: @escaping (CheckOutcome) -> Void) {
        self.configuration = configuration
        self.target = target
        super.init(environment: environment, completion: completion)
    }

    var host: String {
        if let v = configuration.virtualHost { return v }
        return target.port == 80 ? "\(target.address)" : "\(target.address):\(target.port)"
    }

    var url: HTTPCheck.URL { configuration.urls[urlIndex] }

    func begin() {
        guard !configuration.urls.isEmpty else { return finishSoon(.success(weight: nil)) }
        armDeadline(target.timeout)
        connectForCurrentURL()
    }

    func connectForCurrentURL() {
        closeConnection()
        request = HTTPChecker.request(path: url.path, host: host)
        sent = 0
        reader = HTTPResponseReader(wantsDigest: url.digest != nil)
        guard open(AF_INET, Int32(SOCK_STREAM.rawValue), 0, events: EPOLLOUT.rawValue) else { return }
        Posix.setResetOnClose(fd)
        let b = target.bindIfNeeded(fd)
        guard b == 0 else { return finishSoon(.failure(.system(call: "bind", errno: b))) }
        let c = Posix.connect(fd, target.socketAddress)
        if c != 0 && c != EINPROGRESS { return finishSoon(.failure(.socket(errno: c))) }
        connected()
    }

    /// The socket is open and connecting: a hook for TLS.
    func connected() {}

    /// Closes the current URL's connection (TLS frees its session first).
    func closeConnection() {
        if fd >= 0 {
            loop.closeRegistered(fd)
            fd = -1
        }
    }

    /// Feeds `count` bytes of the answer in the scratch buffer to the reader (`count` 0: the
    /// stream ended); true when the attempt is over (judged or failed).
    func consumeAnswer(_ count: Int) -> Bool {
        let progress = count == 0
            ? reader.endOfStream()
            : reader.consume(UnsafeRawBufferPointer(rebasing: environment.scratch[0..<count]))
        switch progress {
        case .needMore:
            if count == 0 {
                finish(.failure(.httpClosed(url: url.path)))
                return true
            }
            return false
        case .malformed(let reason):
            finish(.failure(.httpMalformed(url: url.path, reason: reason)))
            return true
        case .done(let status, let digest):
            judge(status: status, digest: digest)
            return true
        }
    }

    override func ready(_ events: UInt32) {
        if sent < request.count {
            if events & (EPOLLERR.rawValue | EPOLLHUP.rawValue) != 0 {
                let e = Posix.socketError(fd)
                return finish(.failure(.socket(errno: e == 0 ? ECONNRESET : e)))
            }
            guard events & EPOLLOUT.rawValue != 0 else { return }
            let r = request.withUnsafeBytes { raw in
                Posix.attempt { send(fd, raw.baseAddress! + sent, raw.count - sent, Int32(MSG_NOSIGNAL)) }
            }
            if r.result < 0 {
                if r.errno == EAGAIN { return }
                return finish(.failure(.socket(errno: r.errno)))
            }
            sent += r.result
            if sent == request.count { loop.modify(fd, events: EPOLLIN.rawValue) }
            return
        }
        // Reading: drain what is there.
        let buffer = environment.scratch
        while true {
            let r = Posix.attempt { recv(fd, buffer.baseAddress, buffer.count, 0) }
            if r.result < 0 {
                if r.errno == EAGAIN { return }
                return finish(.failure(.socket(errno: r.errno)))
            }
            if consumeAnswer(r.result) { return }
        }
    }

    func judge(status: Int, digest: String?) {
        if !url.accepts(status: status) { return finish(.failure(.httpStatus(url: url.path, status: status))) }
        if let want = url.digest, let digest, want.lowercased() != digest {
            return finish(.failure(.httpDigest(url: url.path, digest: digest)))
        }
        urlIndex += 1
        if urlIndex < configuration.urls.count {
            connectForCurrentURL()
        } else {
            finish(.success(weight: nil))
        }
    }
}
