import CLinuxNet
import Glibc
import LVSConfig

/// `UDP_CHECK`: a datagram with `payload` goes to the server. Any answer within the timeout is
/// healthy; an ICMP port unreachable (ECONNREFUSED on the connected socket) is a failure; and
/// silence until the timeout is healthy unless `require_reply` is set (a UDP service need not
/// answer an arbitrary probe, but a closed port always says so).
struct UDPChecker: Checker {
    var configuration: UDPCheck

    var keyword: String { "UDP_CHECK" }

    func start(_ target: CheckTarget, environment: CheckEnvironment,
               completion: @escaping (CheckOutcome) -> Void) -> any CheckAttempt {
        let attempt = DatagramAttempt(environment: environment, completion: completion)
        attempt.silenceIsHealthy = !configuration.requireReply
        attempt.begin(target, payload: configuration.payload) { _ in .success(weight: nil) }
        return attempt
    }
}
