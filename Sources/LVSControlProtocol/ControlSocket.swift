import CLinuxNet
import Glibc

/// A control-socket operation that failed: which step, on what path, and errno, with what to do.
public struct ControlSocketError: Error, Sendable, CustomStringConvertible {
    public var step: String
    public var path: String
    public var errno: Int32

    public init(step: String, path: String, errno: Int32) {
        self.step = step
        self.path = path
        self.errno = errno
    }

    public var description: String {
        let reason = errno == 0 ? "unexpected end of data" : String(cString: strerror(errno))
        var hint = ""
        switch errno {
        case ENOENT, ECONNREFUSED:
            hint = " (is lvsd running? it listens on \(ControlProtocol.defaultSocketPath) unless --socket or \(ControlProtocol.socketEnvironmentVariable) says otherwise)"
        case EACCES, EPERM:
            hint = " (the control socket is for root only)"
        case EADDRINUSE:
            hint = " (another lvsd is running with this socket; give this one its own --socket)"
        default: break
        }
        return "\(step) \(path): \(reason)\(hint)"
    }
}

/// The Unix stream socket both sides use: one request, then one response, each ended by the
/// sender shutting down its writing half.
public enum ControlSocket {
    /// Requests and responses larger than this are refused (a status of 10 000 services with
    /// a million connections is well under it).
    public static let maximumMessage = 1 << 28

    /// lvsadm's side: connects, sends `request`, returns the response text.
    public static func exchange(path: String, request: String) throws(ControlSocketError) -> String {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw ControlSocketError(step: "socket for", path: path, errno: errno) }
        defer { close(fd) }
        try connect(fd, path: path)
        try writeAll(fd, request, path: path)
        shutdown(fd, Int32(SHUT_WR))
        return try readAll(fd, path: path)
    }

    static func withAddress<R>(_ path: String, _ body: (UnsafePointer<sockaddr>, socklen_t) -> R) -> R? {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard bytes.count < capacity else { return nil }
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        return withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
    }

    static func connect(_ fd: Int32, path: String) throws(ControlSocketError) {
        guard let r = withAddress(path, { Glibc.connect(fd, $0, $1) }) else {
            throw ControlSocketError(step: "connect to", path: path, errno: ENAMETOOLONG)
        }
        guard r == 0 else { throw ControlSocketError(step: "connect to", path: path, errno: errno) }
    }

    static func writeAll(_ fd: Int32, _ text: String, path: String) throws(ControlSocketError) {
        var bytes = Array(text.utf8)
        var sent = 0
        while sent < bytes.count {
            let n = bytes.withUnsafeMutableBytes { raw -> Int in
                guard let base = raw.baseAddress else { return 0 }
                return send(fd, base + sent, raw.count - sent, Int32(MSG_NOSIGNAL))
            }
            if n < 0 {
                if errno == EINTR { continue }
                throw ControlSocketError(step: "send to", path: path, errno: errno)
            }
            sent += n
        }
    }

    static func readAll(_ fd: Int32, path: String) throws(ControlSocketError) -> String {
        var data: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n < 0 {
                if errno == EINTR { continue }
                throw ControlSocketError(step: "receive from", path: path, errno: errno)
            }
            if n == 0 { break }
            data.append(contentsOf: chunk[0..<n])
            guard data.count <= maximumMessage else { throw ControlSocketError(step: "receive from", path: path, errno: EMSGSIZE) }
        }
        return String(decoding: data, as: UTF8.self)
    }
}

/// lvsd's side: a listening socket, mode 0600, that accepts one client at a time.
public final class ControlListener {
    public let path: String
    public let fd: Int32

    /// Binds `path`. A socket file left by a dead lvsd is replaced; one that a live lvsd
    /// answers on is not (EADDRINUSE).
    public init(path: String) throws(ControlSocketError) {
        self.path = path
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw ControlSocketError(step: "socket for", path: path, errno: errno) }
        var ok = false
        defer { if !ok { close(fd) } }
        if Self.isLiveSocket(path) { throw ControlSocketError(step: "listen on", path: path, errno: EADDRINUSE) }
        unlink(path)
        // Created with no permissions for group and others, so there is no moment at which
        // another user could connect.
        let previous = umask(0o177)
        let r = ControlSocket.withAddress(path) { bind(fd, $0, $1) }
        umask(previous)
        guard let r else { throw ControlSocketError(step: "bind", path: path, errno: ENAMETOOLONG) }
        guard r == 0 else { throw ControlSocketError(step: "bind", path: path, errno: errno) }
        guard listen(fd, 16) == 0 else { throw ControlSocketError(step: "listen on", path: path, errno: errno) }
        self.fd = fd
        ok = true
    }

    deinit {
        close(fd)
        unlink(path)
    }

    static func isLiveSocket(_ path: String) -> Bool {
        let probe = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard probe >= 0 else { return false }
        defer { close(probe) }
        return ControlSocket.withAddress(path, { Glibc.connect(probe, $0, $1) }) == 0
    }

    /// Waits up to `timeoutMillis` for a client. The client gets 5 s to send its request.
    public func accept(timeoutMillis: Int32) -> ControlConnection? {
        var pfd = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&pfd, 1, timeoutMillis) > 0 else { return nil }
        let client = clinuxnet_accept_cloexec(fd)
        guard client >= 0 else { return nil }
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(client, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(client, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        return ControlConnection(fd: client, path: path)
    }
}

/// One accepted client.
public final class ControlConnection {
    let fd: Int32
    let path: String

    init(fd: Int32, path: String) {
        self.fd = fd
        self.path = path
    }

    deinit { close(fd) }

    /// The client's user id (SO_PEERCRED): the socket's mode already keeps others out, this
    /// makes the check explicit.
    public var peerUserID: uid_t? {
        let uid = clinuxnet_peer_uid(fd)
        return uid < 0 ? nil : uid_t(uid)
    }

    public func readRequest() throws(ControlSocketError) -> String { try ControlSocket.readAll(fd, path: path) }

    public func send(_ text: String) throws(ControlSocketError) {
        try ControlSocket.writeAll(fd, text, path: path)
        shutdown(fd, Int32(SHUT_WR))
    }
}
