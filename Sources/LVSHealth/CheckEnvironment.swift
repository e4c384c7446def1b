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
