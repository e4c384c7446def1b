import CLinuxNet
import Glibc

/// The base of a socket attempt: one descriptor registered with the loop, one deadline, one
/// completion. Subclasses react to readiness in `ready(_:)` and finish with `finish(_:)`.
class SocketAttempt: EventHandler, CheckAttempt {
    let environment: CheckEnvironment
    var fd: Int32 = -1
    var deadline: TimerHandle?
    var completion: ((CheckOutcome) -> Void)?

    init(environment: CheckEnvironment, completion: @escaping (CheckOutcome) -> Void) {
        self.environment = environment
        self.completion = completion
    }

    var loop: EventLoop { environment.loop }

    /// Arms the attempt's deadline: when it passes, `timedOut()` decides the outcome.
    func armDeadline(_ seconds: Double) {
        // A strong capture (a weak one would cost a side-table allocation per attempt): the
        // cycle ends when the timer fires or `release()` cancels it.
        deadline = loop.schedule(at: Posix.monotonicSeconds() + seconds) { [self] in timedOut() }
    }

    func timedOut() { finish(.failure(.timeout)) }

    /// Opens `fd` (non-blocking, close-on-exec) and registers it; false after finishing with
    /// the failure.
    func open(_ domain: Int32, _ type: Int32, _ proto: Int32, events: UInt32) -> Bool {
        let s = Posix.socket(domain, type, proto)
        guard s.fd >= 0 else {
            finishSoon(.failure(.system(call: "socket", errno: s.errno)))
            return false
        }
        return adopt(s.fd, events: events)
    }

    /// Registers an fd the attempt opened itself; false after finishing with the failure.
    func adopt(_ descriptor: Int32, events: UInt32) -> Bool {
        fd = descriptor
        let e = loop.register(fd, events: events, handler: self)
        guard e == 0 else {
            finishSoon(.failure(.system(call: "epoll_ctl", errno: e)))
            return false
        }
        return true
    }

    func handleEvents(_ events: UInt32) { ready(events) }

    func ready(_ events: UInt32) {}

    /// Ends the attempt with `outcome`, now.
    func finish(_ outcome: CheckOutcome) {
        guard let completion else { return }
        self.completion = nil
        release()
        completion(outcome)
    }

    /// Ends the attempt on the loop's next turn (for failures found inside `start`).
    func finishSoon(_ outcome: CheckOutcome) {
        release()
        loop.runSoon { [self] in finish(outcome) }
    }

    func release() {
        deadline?.cancel()
        deadline = nil
        if fd >= 0 {
            loop.closeRegistered(fd)
            fd = -1
        }
    }

    func cancel() {
        completion = nil
        release()
    }
}
