import Glibc
import LVSConfig
import LVSCore

/// Where one checker probes, and the time it has: a checker block resolved against its real
/// server (`connect_ip`/`connect_port` default to the server's address and port).
struct CheckTarget: Equatable {
    var address: IPv4Address
    var port: UInt16
    var bindAddress: IPv4Address?
    var bindPort: UInt16?
    /// `connect_timeout` (or `misc_timeout` for MISC_CHECK): the whole attempt's budget.
    var timeout: Double

    var socketAddress: sockaddr_in { Posix.socketAddress(address.value, port) }

    /// Binds `fd` to `bindto`/`bind_port` if the checker has them; errno or 0.
    func bindIfNeeded(_ fd: Int32) -> Int32 {
        guard bindAddress != nil || bindPort != nil else { return 0 }
        return Posix.bind(fd, Posix.socketAddress(bindAddress?.value ?? 0, bindPort ?? 0))
    }
}

/// The result of one attempt.
enum CheckOutcome: Equatable {
    /// Healthy; `weight` is a weight the check asks for (MISC_CHECK with `misc_dynamic`).
    case success(weight: Int32?)
    case failure(CheckFailure)

    var isSuccess: Bool {
        if case .success = self { return true }
        return false
    }
}

/// Why an attempt failed, kept as data so that the 10 000 successes a second of a big
/// configuration never format a string; the text is made only for a log line or a status.
enum CheckFailure: Equatable, CustomStringConvertible {
    /// connect(2) or a later socket error: ECONNREFUSED, EHOSTUNREACH...
    case socket(errno: Int32)
    /// No answer within the attempt's time.
    case timeout
    /// A local system call failed (no descriptor left, a bad bind address).
    case system(call: String, errno: Int32)
    case httpStatus(url: String, status: Int)
    case httpDigest(url: String, digest: String)
    case httpMalformed(url: String, reason: String)
    case httpClosed(url: String)
    case exitStatus(Int32)
    case signalled(Int32)
    case cannotRun(errno: Int32)
    case portUnreachable
    case noReply
    case dnsAnswer(reason: String)
    case icmpError(type: UInt8, code: UInt8)

    var description: String {
        switch self {
        case .socket(let e): Posix.errnoName(e)
        case .timeout: "timeout"
        case .system(let call, let e): "\(call): \(Posix.errnoName(e))"
        case .httpStatus(let url, let status): "url \(url): status code \(status)"
        case .httpDigest(let url, let digest): "url \(url): MD5 digest \(digest) differs"
        case .httpMalformed(let url, let reason): "url \(url): \(reason)"
        case .httpClosed(let url): "url \(url): connection closed before a complete answer"
        case .exitStatus(let s): "exit status \(s)"
        case .signalled(let s): "killed by signal \(s)"
        case .cannotRun(let e): "cannot run: \(Posix.errnoName(e))"
        case .portUnreachable: "ICMP port unreachable"
        case .noReply: "no reply"
        case .dnsAnswer(let reason): reason
        case .icmpError(let type, let code): "ICMP type \(type) code \(code)"
        }
    }
}

/// One attempt in progress. The checker calls its completion exactly once, on the loop's
/// thread, and never after `cancel()`.
protocol CheckAttempt: AnyObject {
    /// Ends the attempt without a result: closes its sockets, kills its process group.
    func cancel()
}

/// What checkers share on the loop's thread.
final class CheckEnvironment {
    let loop: EventLoop
    let reaper: ChildReaper
    /// Whether unprivileged ICMP (SOCK_DGRAM) sockets were refused here, so PING_CHECK goes raw.
    var pingNeedsRawSocket = false
    /// Receive buffer for every attempt (they run one at a time on this thread).
    let scratch: UnsafeMutableRawBufferPointer

    init(loop: EventLoop, reaper: ChildReaper) {
        self.loop = loop
        self.reaper = reaper
        scratch = .allocate(byteCount: 65536, alignment: 16)
    }

    deinit { scratch.deallocate() }
}

/// A health-check method: TCP_CHECK, HTTP_GET, MISC_CHECK, UDP_CHECK, DNS_CHECK, PING_CHECK.
/// Each lives in its own file; an attempt is a handful of non-blocking calls driven by the loop.
protocol Checker {
    /// keepalived's name for the block.
    var keyword: String { get }
    /// Starts one attempt against `target`; `completion` runs once, later, on the loop thread.
    func start(_ target: CheckTarget, environment: CheckEnvironment,
               completion: @escaping (CheckOutcome) -> Void) -> any CheckAttempt
}

extension CheckerConfig.Kind {
    /// The checker that runs this kind of block.
    func makeChecker() -> any Checker {
        switch self {
        case .tcp: TCPChecker()
        case .http(let http): HTTPChecker(configuration: http)
        case .misc(let misc): MiscChecker(configuration: misc)
        case .udp(let udp): UDPChecker(configuration: udp)
        case .dns(let dns): DNSChecker(configuration: dns)
        case .ping: PingChecker()
        }
    }

    var keyword: String {
        switch self {
        case .tcp: "TCP_CHECK"
        case .http: "HTTP_GET"
        case .misc: "MISC_CHECK"
        case .udp: "UDP_CHECK"
        case .dns: "DNS_CHECK"
        case .ping: "PING_CHECK"
        }
    }
}

/// The base of a socket attempt: one descriptor registered with the loop, one deadline, one
/// completion. Subclasses react to readiness in `ready(_:)` and finish with `finish(_:)`.
class SocketAttempt: EventHandler, CheckAttempt {
    let environment: CheckEnvironment
    var fd: Int32 = -1
    var deadline: TimerHandle?
    var completion: ((CheckOutcome) -> Void)?

    init(environment: CheckEnvironment, completion: @escaping (CheckOutcome) -> Void) {
        self.environment = environment
        self.completion = completion
    }

    var loop: EventLoop { environment.loop }

    /// Arms the attempt's deadline: when it passes, `timedOut()` decides the outcome.
    func armDeadline(_ seconds: Double) {
        // A strong capture (a weak one would cost a side-table allocation per attempt): the
        // cycle ends when the timer fires or `release()` cancels it.
        deadline = loop.schedule(at: Posix.monotonicSeconds() + seconds) { [self] in timedOut() }
    }

    func timedOut() { finish(.failure(.timeout)) }

    /// Opens `fd` (non-blocking, close-on-exec) and registers it; false after finishing with
    /// the failure.
    func open(_ domain: Int32, _ type: Int32, _ proto: Int32, events: UInt32) -> Bool {
        let s = Posix.socket(domain, type, proto)
        guard s.fd >= 0 else {
            finishSoon(.failure(.system(call: "socket", errno: s.errno)))
            return false
        }
        return adopt(s.fd, events: events)
    }

    /// Registers an fd the attempt opened itself; false after finishing with the failure.
    func adopt(_ descriptor: Int32, events: UInt32) -> Bool {
        fd = descriptor
        let e = loop.register(fd, events: events, handler: self)
        guard e == 0 else {
            finishSoon(.failure(.system(call: "epoll_ctl", errno: e)))
            return false
        }
        return true
    }

    func handleEvents(_ events: UInt32) { ready(events) }

    func ready(_ events: UInt32) {}

    /// Ends the attempt with `outcome`, now.
    func finish(_ outcome: CheckOutcome) {
        guard let completion else { return }
        self.completion = nil
        release()
        completion(outcome)
    }

    /// Ends the attempt on the loop's next turn (for failures found inside `start`).
    func finishSoon(_ outcome: CheckOutcome) {
        release()
        loop.runSoon { [self] in finish(outcome) }
    }

    func release() {
        deadline?.cancel()
        deadline = nil
        if fd >= 0 {
            loop.closeRegistered(fd)
            fd = -1
        }
    }

    func cancel() {
        completion = nil
        release()
    }
}
