import CLinuxNet
import Glibc

/// A failed system call of the health checker: which call, on what, and errno.
public struct HealthSystemError: Error, Sendable, Equatable, CustomStringConvertible {
    public var call: String
    public var errno: Int32

    public init(call: String, errno: Int32) {
        self.call = call
        self.errno = errno
    }

    public var description: String { "\(call): \(String(cString: strerror(errno)))" }
}

/// The one funnel for the health checker's system calls: retries EINTR and turns -1 into a
/// typed error (swift-nio's `Posix` shape). Calls whose failure is an expected outcome of a
/// check (connect's EINPROGRESS, recv's EAGAIN) come back as errno values, not as errors.
enum Posix {
    @discardableResult
    static func call(_ name: String, _ body: () -> Int32) throws(HealthSystemError) -> Int32 {
        while true {
            let r = body()
            if r >= 0 { return r }
            let e = errno
            if e == EINTR { continue }
            throw HealthSystemError(call: name, errno: e)
        }
    }

    /// Runs `body` until it does not fail with EINTR; returns its result and errno (0 on success).
    static func attempt(_ body: () -> Int) -> (result: Int, errno: Int32) {
        while true {
            let r = body()
            if r >= 0 { return (r, 0) }
            let e = errno
            if e == EINTR { continue }
            return (r, e)
        }
    }

    static func setOption<T: BitwiseCopyable>(_ fd: Int32, _ level: Int32, _ option: Int32, _ value: T,
                                              name: String) throws(HealthSystemError) {
        var v = value
        try call(name) { setsockopt(fd, level, option, &v, socklen_t(MemoryLayout<T>.size)) }
    }

    /// The pending error of a socket (SO_ERROR), which also clears it.
    static func socketError(_ fd: Int32) -> Int32 {
        var value: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        guard getsockopt(fd, SOL_SOCKET, SO_ERROR, &value, &length) == 0 else { return errno }
        return value
    }

    /// A `sockaddr_in` for an address and port held in host byte order.
    static func socketAddress(_ address: UInt32, _ port: UInt16) -> sockaddr_in {
        var a = sockaddr_in()
        a.sin_family = sa_family_t(AF_INET)
        a.sin_port = port.bigEndian
        a.sin_addr = in_addr(s_addr: address.bigEndian)
        return a
    }

    static func bind(_ fd: Int32, _ address: sockaddr_in) -> Int32 {
        var a = address
        let r = withUnsafePointer(to: &a) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                Glibc.bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        return r == 0 ? 0 : errno
    }

    /// connect(2) on a non-blocking socket: 0 when connected at once, EINPROGRESS when the
    /// handshake goes on, or the errno of a failure.
    static func connect(_ fd: Int32, _ address: sockaddr_in) -> Int32 {
        var a = address
        while true {
            let r = withUnsafePointer(to: &a) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
            if r == 0 { return 0 }
            let e = errno
            if e == EINTR { continue }
            return e
        }
    }

    /// A non-blocking, close-on-exec socket.
    static func socket(_ domain: Int32, _ type: Int32, _ proto: Int32) -> (fd: Int32, errno: Int32) {
        let fd = Glibc.socket(domain, type | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), proto)
        return fd >= 0 ? (fd, 0) : (-1, errno)
    }

    /// Closes with a reset instead of a FIN: a health check's connection carries nothing worth
    /// a graceful close, and 10 000 checks a second would otherwise leave 600 000 sockets in
    /// TIME_WAIT on the director (HAProxy's checks do the same).
    static func setResetOnClose(_ fd: Int32) {
        var l = linger(l_onoff: 1, l_linger: 0)
        _ = setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, socklen_t(MemoryLayout<linger>.size))
    }

    static func close(_ fd: Int32) {
        // close(2) must not be retried on EINTR on Linux: the descriptor is gone either way.
        _ = Glibc.close(fd)
    }

    /// Seconds on the monotonic clock.
    static func monotonicSeconds() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }

    static func errnoName(_ e: Int32) -> String { String(cString: strerror(e)) }
}
