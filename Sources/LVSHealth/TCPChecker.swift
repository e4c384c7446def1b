import CLinuxNet
import Glibc

/// `TCP_CHECK`: the server accepts a TCP connection within `connect_timeout`. The connection is
/// closed with a reset as soon as it is up (no TIME_WAIT on the director).
struct TCPChecker: Checker {
    var keyword: String { "TCP_CHECK" }

    func start(_ target: CheckTarget, environment: CheckEnvironment,
               completion: @escaping (CheckOutcome) -> Void) -> any CheckAttempt {
        let attempt = TCPAttempt(environment: environment, completion: completion)
        attempt.begin(target)
        return attempt
    }
}

final class TCPAttempt: SocketAttempt {
    func begin(_ target: CheckTarget) {
        guard open(AF_INET, Int32(SOCK_STREAM.rawValue), 0, events: EPOLLOUT.rawValue) else { return }
        Posix.setResetOnClose(fd)
        let b = target.bindIfNeeded(fd)
        guard b == 0 else { return finishSoon(.failure(.system(call: "bind", errno: b))) }
        let c = Posix.connect(fd, target.socketAddress)
        switch c {
        case 0: finishSoon(.success(weight: nil))
        case EINPROGRESS: armDeadline(target.timeout)
        default: finishSoon(.failure(.socket(errno: c)))
        }
    }

    override func ready(_ events: UInt32) {
        if events & (EPOLLERR.rawValue | EPOLLHUP.rawValue) != 0 {
            let e = Posix.socketError(fd)
            finish(.failure(.socket(errno: e == 0 ? ECONNRESET : e)))
        } else if events & EPOLLOUT.rawValue != 0 {
            finish(.success(weight: nil))
        }
    }
}
