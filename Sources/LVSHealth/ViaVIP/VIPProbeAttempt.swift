import LVSCore

/// One `probe_via_vip` handshake, driven by the shared `VIPProber`.
final class VIPProbeAttempt: CheckAttempt {
    let prober: VIPProber
    let server: IPv4Address
    let vip: VIPTarget
    var completion: ((CheckOutcome) -> Void)?
    var deadline: TimerHandle?
    var sequence: UInt32 = 0
    var registered = false
    var waiter: VIPProber.MACWaiter?
    /// The SYN, while it waits for room in the interface's queue.
    var frame: VIPProber.PendingFrame?
    var retransmission: TimerHandle?
    var deadlineAt = 0.0

    /// Runs `resend` after `delay`, then after twice that, and so on, while it is before the
    /// attempt's deadline.
    func scheduleRetransmission(after delay: Double, _ resend: @escaping () -> Void) {
        let at = Posix.monotonicSeconds() + delay
        guard at < deadlineAt else { return }
        retransmission = prober.loop.schedule(at: at) { [unowned self] in
            retransmission = nil
            resend()
            scheduleRetransmission(after: delay * 2, resend)
        }
    }

    init(prober: VIPProber, server: IPv4Address, vip: VIPTarget, completion: @escaping (CheckOutcome) -> Void) {
        self.prober = prober
        self.server = server
        self.vip = vip
        self.completion = completion
    }

    func begin(timeout: Double) {
        deadlineAt = Posix.monotonicSeconds() + timeout
        deadline = prober.loop.schedule(at: Posix.monotonicSeconds() + timeout) { [self] in
            let waitedForMAC = !registered
            if !waitedForMAC { prober.noAnswer(from: server) }
            finish(.failure(waitedForMAC ? .viaVIP("no ARP answer from \(server)") : .viaVIPTimeout))
        }
        prober.begin(self)
    }

    func answered(synAck: Bool) {
        finish(synAck ? .success(weight: nil) : .failure(.viaVIPReset))
    }

    func finish(_ outcome: CheckOutcome) {
        guard let completion else { return }
        self.completion = nil
        release()
        completion(outcome)
    }

    func finishSoon(_ outcome: CheckOutcome) {
        release()
        prober.loop.runSoon { [self] in finish(outcome) }
    }

    func release() {
        deadline?.cancel()
        deadline = nil
        prober.remove(self)
    }

    func cancel() {
        completion = nil
        release()
    }
}
