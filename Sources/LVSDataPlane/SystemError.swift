import Glibc

/// A failed system call: which call, on what, and errno. Its description says what to check.
public struct SystemError: Error, Sendable, CustomStringConvertible {
    public var call: String
    public var subject: String
    public var errno: Int32

    public init(call: String, subject: String = "", errno: Int32) {
        self.call = call
        self.subject = subject
        self.errno = errno
    }

    public var description: String {
        let reason = String(cString: strerror(errno))
        let on = subject.isEmpty ? "" : " (\(subject))"
        var hint = ""
        switch errno {
        case EPERM, EACCES: hint = ": run lvsd as root (it needs CAP_NET_RAW and CAP_NET_ADMIN)"
        case ENODEV, ENXIO: hint = ": check the interface name with `ip link`"
        default: break
        }
        return "\(call)\(on) failed: \(reason)\(hint)"
    }
}

/// The one funnel for system calls in the data plane: retries EINTR and turns -1 into a typed
/// error. Nothing else in this module calls libc for a call that can fail; LVSHA's VRRP socket
/// uses it too.
public enum Linux {
    @discardableResult
    public static func call(_ name: String, _ subject: String = "", _ body: () -> Int32) throws(SystemError) -> Int32 {
        while true {
            let r = body()
            if r >= 0 { return r }
            let e = errno
            if e == EINTR { continue }
            throw SystemError(call: name, subject: subject, errno: e)
        }
    }

    @discardableResult
    static func callSize(_ name: String, _ subject: String = "", _ body: () -> Int) throws(SystemError) -> Int {
        while true {
            let r = body()
            if r >= 0 { return r }
            let e = errno
            if e == EINTR { continue }
            throw SystemError(call: name, subject: subject, errno: e)
        }
    }

    static func setOption<T: BitwiseCopyable>(_ fd: Int32, _ level: Int32, _ option: Int32, _ value: T,
                                              name: String) throws(SystemError) {
        var v = value
        try call("setsockopt", name) { setsockopt(fd, level, option, &v, socklen_t(MemoryLayout<T>.size)) }
    }

    /// The wall clock (CLOCK_REALTIME, full resolution), the clock the kernel stamps received
    /// frames with: what a frame's ring wait is measured against.
    @inline(__always)
    public static func realtime() -> (seconds: UInt64, nanoseconds: UInt64) {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return (UInt64(max(0, ts.tv_sec)), UInt64(max(0, ts.tv_nsec)))
    }

    /// Monotonic time in nanoseconds (coarse clock: a vDSO read, a few ns, 1-4 ms resolution,
    /// which is plenty for timeouts counted in seconds).
    public static func monotonicNanos() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC_COARSE, &ts)
        return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
    }

    /// Monotonic time in nanoseconds at full resolution (a vDSO read of the clocksource, tens
    /// of ns): for spans of microseconds, such as the idle spin, which the coarse clock cannot
    /// measure.
    public static func preciseMonotonicNanos() -> UInt64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return UInt64(ts.tv_sec) &* 1_000_000_000 &+ UInt64(ts.tv_nsec)
    }
}
