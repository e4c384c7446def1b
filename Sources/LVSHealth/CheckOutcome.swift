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
    /// SSL_GET: the TLS handshake or a TLS read/write failed (OpenSSL's reason).
    case tls(url: String, reason: String)
    case exitStatus(Int32)
    case signalled(Int32)
    case cannotRun(errno: Int32)
    case portUnreachable
    case noReply
    case dnsAnswer(reason: String)
    case icmpError(type: UInt8, code: UInt8)
    /// `probe_via_vip`: the server answered the SYN to the VIP with a reset (nothing listens on
    /// VIP:port there, e.g. a service bound to the server's own address only).
    case viaVIPReset
    /// `probe_via_vip`: no answer to the SYN to the VIP (e.g. the VIP is not on the server).
    case viaVIPTimeout
    /// `probe_via_vip` could not probe (no MAC for the server, no packet socket...).
    case viaVIP(String)

    var description: String {
        switch self {
        case .socket(let e): Posix.errnoName(e)
        case .timeout: "timeout"
        case .system(let call, let e): "\(call): \(Posix.errnoName(e))"
        case .httpStatus(let url, let status): "url \(url): status code \(status)"
        case .httpDigest(let url, let digest): "url \(url): MD5 digest \(digest) differs"
        case .httpMalformed(let url, let reason): "url \(url): \(reason)"
        case .httpClosed(let url): "url \(url): connection closed before a complete answer"
        case .tls(let url, let reason): "url \(url): TLS: \(reason)"
        case .exitStatus(let s): "exit status \(s)"
        case .signalled(let s): "killed by signal \(s)"
        case .cannotRun(let e): "cannot run: \(Posix.errnoName(e))"
        case .portUnreachable: "ICMP port unreachable"
        case .noReply: "no reply"
        case .dnsAnswer(let reason): reason
        case .icmpError(let type, let code): "ICMP type \(type) code \(code)"
        case .viaVIPReset: "connection to the VIP refused through the DR path (reset)"
        case .viaVIPTimeout: "no SYN-ACK from the VIP through the DR path"
        case .viaVIP(let reason): "probe via the VIP: \(reason)"
        }
    }
}
