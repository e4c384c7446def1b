import CLinuxNet
import COpenSSL
import Glibc
import LVSConfig

/// `SSL_GET`: HTTP_GET over TLS, with HTTP_GET's url/path/status_code/digest semantics. As in
/// keepalived, the server's certificate is not verified (the check asks "does the service
/// answer", not "is it trusted"); with `enable_sni` the `virtualhost` goes in the ClientHello.
/// The handshake, the request and the answer are non-blocking OpenSSL calls on the attempt's
/// socket, driven by the loop: SSL_ERROR_WANT_READ/WANT_WRITE set what the socket waits for.
struct SSLChecker: Checker {
    var configuration: HTTPCheck

    var keyword: String { "SSL_GET" }

    func start(_ target: CheckTarget, environment: CheckEnvironment,
               completion: @escaping (CheckOutcome) -> Void) -> any CheckAttempt {
        let attempt = SSLAttempt(configuration: configuration, target: target, environment: environment,
                                 completion: completion)
        attempt.begin()
        return attempt
    }
}

final class SSLAttempt: HTTPAttempt {
    enum Phase { case handshake, writing, reading }

    var ssl: OpaquePointer?
    var phase = Phase.handshake

    /// The SNI name: `virtualhost` without a port, and only with `enable_sni` (keepalived's rule).
    var serverName: String? {
        guard configuration.enableSNI, let host = configuration.virtualHost, !host.isEmpty else { return nil }
        if host.hasPrefix("[") { return nil }
        return String(host.split(separator: ":", maxSplits: 1).first ?? Substring(host))
    }

    override func connected() {
        let context: OpaquePointer
        switch environment.tlsContext(certificate: configuration.clientCertificate, key: configuration.clientKey) {
        case .success(let c): context = c
        case .failure(let error): return finishSoon(.failure(.tls(url: url.path, reason: error.reason)))
        }
        guard let session = SSL_new(context) else {
            return finishSoon(.failure(.tls(url: url.path, reason: "SSL_new: \(TLSErrors.take())")))
        }
        ssl = session
        phase = .handshake
        _ = SSL_set_fd(session, fd)
        SSL_set_connect_state(session)
        if let name = serverName { _ = lvs_ssl_set_server_name(session, name) }
    }

    override func closeConnection() {
        freeSession()
        super.closeConnection()
    }

    override func release() {
        freeSession()
        super.release()
    }

    func freeSession() {
        if let ssl {
            // No close_notify: the socket is reset right after (SO_LINGER 0), as HTTP_GET's.
            SSL_free(ssl)
            self.ssl = nil
        }
    }

    override func ready(_ events: UInt32) {
        guard let ssl else { return }
        if phase == .handshake, events & (EPOLLERR.rawValue | EPOLLHUP.rawValue) != 0 {
            let e = Posix.socketError(fd)
            return finish(.failure(.socket(errno: e == 0 ? ECONNRESET : e)))
        }
        while completion != nil, self.ssl == ssl {
            switch phase {
            case .handshake:
                let r = SSL_connect(ssl)
                if r == 1 {
                    phase = .writing
                    continue
                }
                guard waitFor(SSL_get_error(ssl, r), what: "handshake") else { return }
                return
            case .writing:
                let r = request.withUnsafeBytes { raw in
                    SSL_write(ssl, raw.baseAddress.map { $0 + sent }, Int32(raw.count - sent))
                }
                if r > 0 {
                    sent += Int(r)
                    if sent == request.count { phase = .reading }
                    continue
                }
                _ = waitFor(SSL_get_error(ssl, r), what: "write")
                return
            case .reading:
                let buffer = environment.scratch
                let r = SSL_read(ssl, buffer.baseAddress, Int32(buffer.count))
                if r > 0 {
                    if consumeAnswer(Int(r)) { return }
                    continue
                }
                let error = SSL_get_error(ssl, r)
                if error == SSL_ERROR_ZERO_RETURN {
                    _ = consumeAnswer(0)
                    return
                }
                _ = waitFor(error, what: "read")
                return
            }
        }
    }

    /// Sets the socket to wait for what OpenSSL asked; false (after failing the attempt) for
    /// any other error.
    func waitFor(_ error: Int32, what: String) -> Bool {
        switch error {
        case SSL_ERROR_WANT_READ:
            loop.modify(fd, events: EPOLLIN.rawValue)
            return true
        case SSL_ERROR_WANT_WRITE:
            loop.modify(fd, events: EPOLLOUT.rawValue)
            return true
        case SSL_ERROR_SYSCALL:
            let e = Posix.socketError(fd)
            finish(.failure(e != 0 ? .socket(errno: e) : .tls(url: url.path, reason: "\(what): connection closed (\(TLSErrors.take()))")))
            return false
        default:
            finish(.failure(.tls(url: url.path, reason: "\(what): \(TLSErrors.take())")))
            return false
        }
    }
}

/// OpenSSL's thread-local error queue, read as one line (and emptied, so the next attempt on
/// this thread starts clean).
enum TLSErrors {
    static func take() -> String {
        var parts: [String] = []
        while true {
            let code = ERR_get_error()
            if code == 0 { break }
            var text = [CChar](repeating: 0, count: 256)
            ERR_error_string_n(code, &text, text.count)
            parts.append(String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self))
        }
        return parts.isEmpty ? "no detail from OpenSSL" : parts.joined(separator: "; ")
    }
}
