import CLinuxNet
import Glibc

/// A connected UDP socket, one datagram out, answers judged by a closure (UDP_CHECK, DNS_CHECK).
final class DatagramAttempt: SocketAttempt {
    /// What a silent server means when the time is up.
    var silenceIsHealthy = false
    /// nil: not ours (keep waiting); otherwise the outcome.
    var judge: (UnsafeRawBufferPointer) -> CheckOutcome? = { _ in nil }

    func begin(_ target: CheckTarget, payload: [UInt8], judge: @escaping (UnsafeRawBufferPointer) -> CheckOutcome?) {
        self.judge = judge
        guard open(AF_INET, Int32(SOCK_DGRAM.rawValue), 0, events: EPOLLIN.rawValue) else { return }
        let b = target.bindIfNeeded(fd)
        guard b == 0 else { return finishSoon(.failure(.system(call: "bind", errno: b))) }
        let c = Posix.connect(fd, target.socketAddress)
        guard c == 0 else { return finishSoon(.failure(.socket(errno: c))) }
        let r = payload.withUnsafeBytes { raw in Posix.attempt { send(fd, raw.baseAddress, raw.count, Int32(MSG_NOSIGNAL)) } }
        guard r.result >= 0 else { return finishSoon(.failure(r.errno == ECONNREFUSED ? .portUnreachable : .socket(errno: r.errno))) }
        armDeadline(target.timeout)
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
        finish(silenceIsHealthy ? .success(weight: nil) : .failure(.noReply))
    }
}
