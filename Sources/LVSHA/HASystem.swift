import Glibc
import LVSDataPlane

/// The few system-call helpers the VRRP layer needs.
enum HASystem {
    /// Runs `body` until it does not fail with EINTR; a negative result becomes a SystemError.
    @discardableResult
    static func call(_ name: String, _ subject: String = "", _ body: () -> Int32) throws(SystemError) -> Int32 {
        while true {
            let r = body()
            if r >= 0 { return r }
            let e = errno
            if e == EINTR { continue }
            throw SystemError(call: name, subject: subject, errno: e)
        }
    }

    /// CLOCK_MONOTONIC in nanoseconds.
    static func monotonicNanos() -> UInt64 {
        var t = timespec()
        clock_gettime(CLOCK_MONOTONIC, &t)
        return UInt64(t.tv_sec) * 1_000_000_000 + UInt64(t.tv_nsec)
    }
}
