import Glibc
import LVSConfig
import LVSCore

/// One attempt in progress. The checker calls its completion exactly once, on the loop's
/// thread, and never after `cancel()`.
protocol CheckAttempt: AnyObject {
    /// Ends the attempt without a result: closes its sockets, kills its process group.
    func cancel()
}

/// A health-check method: TCP_CHECK, HTTP_GET, SSL_GET, MISC_CHECK, UDP_CHECK, DNS_CHECK, PING_CHECK.
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
        case .ssl(let http): SSLChecker(configuration: http)
        case .misc(let misc): MiscChecker(configuration: misc)
        case .udp(let udp): UDPChecker(configuration: udp)
        case .dns(let dns): DNSChecker(configuration: dns)
        case .ping: PingChecker()
        }
    }

    /// Whether `probe_via_vip` applies: TCP handshakes and UDP datagrams.
    var probesThroughVIP: Bool {
        switch self {
        case .tcp, .http, .ssl, .udp, .dns: true
        case .misc, .ping: false
        }
    }

    /// Whether the VIP probe is a TCP handshake before the check (`ViaVIPChecker`); UDP_CHECK
    /// and DNS_CHECK send their datagram through the VIP themselves.
    var handshakesThroughVIP: Bool {
        switch self {
        case .tcp, .http, .ssl: true
        default: false
        }
    }

    /// TCP_CHECK: with `probe_via_vip` the handshake through the VIP is the whole check.
    var isPlainTCP: Bool {
        if case .tcp = self { return true }
        return false
    }

    var keyword: String {
        switch self {
        case .tcp: "TCP_CHECK"
        case .http: "HTTP_GET"
        case .ssl: "SSL_GET"
        case .misc: "MISC_CHECK"
        case .udp: "UDP_CHECK"
        case .dns: "DNS_CHECK"
        case .ping: "PING_CHECK"
        }
    }
}
