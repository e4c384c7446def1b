import CLinuxNet
import Glibc
import LVSCore

/// A connected UDP socket, one datagram out, answers judged by a closure (UDP_CHECK, DNS_CHECK).
///
/// With `probe_via_vip` the socket is bound to the director's address (a port the kernel picks,
/// so no two attempts share one) and connected to VIP:port, but the datagram leaves through the
/// prober's packet socket, to the real server's MAC: the director's kernel does not own the VIP
/// and could not send to it. The server answers from VIP:port to that socket, and an ICMP port
/// unreachable (sent from the VIP) reaches it as ECONNREFUSED, as without the VIP.
final class DatagramAttempt: SocketAttempt {
    /// What a silent server means when the time is up.
    var silenceIsHealthy = false
    /// nil: not ours (keep waiting); otherwise the outcome.
    var judge: (UnsafeRawBufferPointer) -> CheckOutcome? = { _ in nil }
    /// `probe_via_vip`: set while the datagram waits for the server's MAC.
    var waiter: VIPProber.MACWaiter?
    /// The real server a datagram through the VIP went to.
    var viaVIPServer: IPv4Address?
    /// The datagram, while it waits for room in the interface's queue.
    var frame: VIPProber.PendingFrame?

    func begin(_ target: CheckTarget, payload: [UInt8], judge: @escaping (UnsafeRawBufferPointer) -> CheckOutcome?) {
        self.judge = judge
        if let vip = target.viaVIP { return beginViaVIP(target, vip: vip, payload: payload) }
        guard open(AF_INET, Int32(SOCK_DGRAM.rawValue), 0, events: EPOLLIN.rawValue) else { return }
        let b = target.bindIfNeeded(fd)
        guard b == 0 else { return finishSoon(.failure(.system(call: "bind", errno: b))) }
        let c = Posix.connect(fd, target.socketAddress)
        guard c == 0 else { return finishSoon(.failure(.socket(errno: c))) }
        let r = payload.withUnsafeBytes { raw in Posix.attempt { send(fd, raw.baseAddress, raw.count, Int32(MSG_NOSIGNAL)) } }
        guard r.result >= 0 else { return finishSoon(.failure(r.errno == ECONNREFUSED ? .portUnreachable : .socket(errno: r.errno))) }
        armDeadline(target.timeout)
    }

    func beginViaVIP(_ target: CheckTarget, vip: VIPTarget, payload: [UInt8]) {
        guard let prober = environment.viaVIPProber() else {
            return finishSoon(.failure(.viaVIP("lvsd runs no data plane to probe through")))
        }
        if let unusable = prober.unusable { return finishSoon(.failure(.viaVIP(unusable))) }
        guard open(AF_INET, Int32(SOCK_DGRAM.rawValue), 0, events: EPOLLIN.rawValue) else { return }
        let b = Posix.bind(fd, Posix.socketAddress(prober.path.directorAddress.value, 0))
        guard b == 0 else { return finishSoon(.failure(.system(call: "bind", errno: b))) }
        let c = Posix.connect(fd, Posix.socketAddress(vip.address.value, vip.port))
        guard c == 0 else { return finishSoon(.failure(.socket(errno: c))) }
        var local = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &local) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) }
        }
        let endpoints = ProbeSegment.Endpoints(source: prober.path.directorAddress, sourcePort: UInt16(bigEndian: local.sin_port),
                                               destination: vip.address, destinationPort: vip.port)
        prober.identification &+= 1
        guard let datagram = ProbeSegment.datagram(endpoints, payload: payload, identification: prober.identification) else {
            return finishSoon(.failure(.viaVIP("a payload of \(payload.count) bytes does not fit in one frame")))
        }
        armDeadline(target.timeout)
        viaVIPServer = target.viaVIPServer ?? target.address
        waiter = prober.whenMACKnown(target.viaVIPServer ?? target.address) { [self] mac in
            waiter = nil
            frame = prober.send(datagram, to: mac) { [unowned self] e in
                finish(.failure(.system(call: "sendto \(prober.path.interfaceName)", errno: e)))
            }
        }
    }

    override func release() {
        waiter?.cancel()
        waiter = nil
        frame?.cancel()
        frame = nil
        super.release()
    }

    override func ready(_ events: UInt32) {
        let buffer = environment.scratch
        while completion != nil {
            let r = Posix.attempt { recv(fd, buffer.baseAddress, buffer.count, 0) }
            if r.result < 0 {
                switch r.errno {
                case EAGAIN: return
                case ECONNREFUSED: return finish(.failure(.portUnreachable))
                default: return finish(.failure(.socket(errno: r.errno)))
                }
            }
            if let outcome = judge(UnsafeRawBufferPointer(rebasing: buffer[0..<r.result])) {
                return finish(outcome)
            }
        }
    }

    override func timedOut() {
        if let vip = viaVIPServer, silenceIsHealthy == false { environment.prober?.noAnswer(from: vip) }
        // Nothing left (no MAC yet, or the interface's queue stayed full): silence says nothing
        // about the server.
        if waiter != nil { return finish(.failure(.viaVIP("no ARP answer from the real server"))) }
        if frame?.failed != nil { return finish(.failure(.viaVIP("the interface's queue stayed full; nothing was sent"))) }
        finish(silenceIsHealthy ? .success(weight: nil) : .failure(.noReply))
    }
}
