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

    init(loop: EventLoop, reaper: ChildReaper, path: DirectRoutingPath? = nil) {
        self.loop = loop
        self.path = path
        self.reaper = reaper
        scratch = .allocate(byteCount: 65536, alignment: 16)
    }

    deinit { scratch.deallocate() }

    /// The shared prober, made on first use; nil when lvsd has no data-plane path to give.
    func viaVIPProber() -> VIPProber? {
        if let prober { return prober }
        guard let path else { return nil }
        let made = VIPProber(path: path, loop: loop)
        prober = made
        return made
    }
}
