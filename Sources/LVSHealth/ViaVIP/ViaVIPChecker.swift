/// A checker with `probe_via_vip`: first the TCP handshake to VIP:port through the DR path
/// (`VIPProber`), then, for HTTP_GET and SSL_GET, the request itself on a connection to the
/// server's own address (the director's kernel cannot hold a connection to a VIP it does not
/// own, so the request cannot take the DR path; the handshake proves the server serves the
/// VIP, the request proves the application answers). TCP_CHECK is the handshake alone.
struct ViaVIPChecker: Checker {
    var inner: (any Checker)?
    var vip: VIPTarget
    var keyword: String

    func start(_ target: CheckTarget, environment: CheckEnvironment,
               completion: @escaping (CheckOutcome) -> Void) -> any CheckAttempt {
        let attempt = ViaVIPAttempt(completion: completion)
        guard let prober = environment.viaVIPProber() else {
            environment.loop.runSoon {
                attempt.finish(.failure(.viaVIP("lvsd runs no data plane to probe through")))
            }
            return attempt
        }
        let started = Posix.monotonicSeconds()
        let probe = VIPProbeAttempt(prober: prober, server: target.viaVIPServer ?? target.address, vip: vip) { [inner] outcome in
            guard case .success = outcome, let inner else { return attempt.finish(outcome) }
            // The rest of connect_timeout is the request's.
            var rest = target
            rest.timeout = max(0.001, target.timeout - (Posix.monotonicSeconds() - started))
            attempt.current = inner.start(rest, environment: environment) { attempt.finish($0) }
        }
        attempt.current = probe
        probe.begin(timeout: target.timeout)
        return attempt
    }
}

final class ViaVIPAttempt: CheckAttempt {
    var completion: ((CheckOutcome) -> Void)?
    var current: (any CheckAttempt)?

    init(completion: @escaping (CheckOutcome) -> Void) { self.completion = completion }

    func finish(_ outcome: CheckOutcome) {
        guard let completion else { return }
        self.completion = nil
        current = nil
        completion(outcome)
    }

    func cancel() {
        completion = nil
        current?.cancel()
        current = nil
    }
}
