import COpenSSL

/// What checkers share on the loop's thread.
final class CheckEnvironment {
    let loop: EventLoop
    let reaper: ChildReaper
    /// Whether unprivileged ICMP (SOCK_DGRAM) sockets were refused here, so PING_CHECK goes raw.
    var pingNeedsRawSocket = false
    /// Receive buffer for every attempt (they run one at a time on this thread).
    let scratch: UnsafeMutableRawBufferPointer
    /// The data plane's interface and MACs, for `probe_via_vip` (nil: lvsd gave none).
    let path: DirectRoutingPath?
    /// Made on the first `probe_via_vip` attempt.
    var prober: VIPProber?
    /// SSL_GET's client contexts, one per client certificate (nil: none), made on first use.
    var tlsContexts: [TLSContextKey: Result<OpaquePointer, TLSContextError>] = [:]

    struct TLSContextKey: Hashable {
        var certificate: String?
        var key: String?
    }

    struct TLSContextError: Error {
        var reason: String
    }

    init(loop: EventLoop, reaper: ChildReaper, path: DirectRoutingPath? = nil) {
        self.loop = loop
        self.path = path
        self.reaper = reaper
        scratch = .allocate(byteCount: 65536, alignment: 16)
    }

    deinit {
        scratch.deallocate()
        for case .success(let context) in tlsContexts.values { SSL_CTX_free(context) }
    }

    /// The TLS client context for a client certificate (or none), made once; a context that
    /// could not be made (a missing certificate file) fails every attempt with the reason.
    func tlsContext(certificate: String?, key: String?) -> Result<OpaquePointer, TLSContextError> {
        let k = TLSContextKey(certificate: certificate, key: key)
        if let made = tlsContexts[k] { return made }
        let made = Self.makeTLSContext(certificate: certificate, key: key)
        tlsContexts[k] = made
        return made
    }

    static func makeTLSContext(certificate: String?, key: String?) -> Result<OpaquePointer, TLSContextError> {
        guard let context = lvs_ssl_client_context() else {
            return .failure(TLSContextError(reason: "SSL_CTX_new: \(TLSErrors.take())"))
        }
        if let certificate, let key {
            guard SSL_CTX_use_certificate_chain_file(context, certificate) == 1 else {
                SSL_CTX_free(context)
                return .failure(TLSContextError(reason: "client certificate \(certificate): \(TLSErrors.take())"))
            }
            guard SSL_CTX_use_PrivateKey_file(context, key, SSL_FILETYPE_PEM) == 1,
                  SSL_CTX_check_private_key(context) == 1 else {
                SSL_CTX_free(context)
                return .failure(TLSContextError(reason: "client key \(key): \(TLSErrors.take())"))
            }
        }
        return .success(context)
    }

    /// The shared prober, made on first use; nil when lvsd has no data-plane path to give.
    func viaVIPProber() -> VIPProber? {
        if let prober { return prober }
        guard let path else { return nil }
        let made = VIPProber(path: path, loop: loop)
        prober = made
        return made
    }
}
