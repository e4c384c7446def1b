import Glibc
import LVSConfig

/// `MISC_CHECK`: a program's exit status says whether the server is healthy. It runs without a
/// shell, in its own process group; `misc_timeout` (default: the delay loop) kills the group.
/// Status 0 is healthy and 1 (or any other, or a signal) failed; with `misc_dynamic`, 2-255
/// are healthy and set the weight to status − 2 (0 then leaves the weight as it was).
struct MiscChecker: Checker {
    var configuration: MiscCheck

    var keyword: String { "MISC_CHECK" }

    func start(_ target: CheckTarget, environment: CheckEnvironment,
               completion: @escaping (CheckOutcome) -> Void) -> any CheckAttempt {
        let attempt = MiscAttempt(environment: environment, completion: completion)
        attempt.begin(arguments: configuration.arguments, dynamic: configuration.dynamic, timeout: target.timeout)
        return attempt
    }

    /// The outcome for a wait status.
    static func outcome(status: Int32, dynamic: Bool) -> CheckOutcome {
        let decoded = ChildReaper.decode(status)
        guard let code = decoded.exit else {
            return .failure(decoded.signal.map { .signalled($0) } ?? .exitStatus(-1))
        }
        switch code {
        case 0: return .success(weight: nil)
        case 2...255 where dynamic: return .success(weight: code - 2)
        default: return .failure(.exitStatus(code))
        }
    }
}

final class MiscAttempt: CheckAttempt {
    let environment: CheckEnvironment
    var completion: ((CheckOutcome) -> Void)?
    var pid: Int32 = 0
    var deadline: TimerHandle?

    init(environment: CheckEnvironment, completion: @escaping (CheckOutcome) -> Void) {
        self.environment = environment
        self.completion = completion
    }

    func begin(arguments: [String], dynamic: Bool, timeout: Double) {
        let spawned = environment.reaper.spawn(arguments) { [weak self] status in
            guard let self else { return }
            self.finish(MiscChecker.outcome(status: status, dynamic: dynamic))
        }
        switch spawned {
        case .success(let pid):
            self.pid = pid
            deadline = environment.loop.schedule(at: Posix.monotonicSeconds() + timeout) { [weak self] in
                guard let self else { return }
                // The reaper still collects the killed group's leader; the result is decided now.
                self.environment.reaper.killGroup(self.pid)
                self.environment.reaper.forget(self.pid)
                self.finish(.failure(.timeout))
            }
        case .failure(let error):
            environment.loop.runSoon { [self] in finish(.failure(.cannotRun(errno: error.errno))) }
        }
    }

    func finish(_ outcome: CheckOutcome) {
        deadline?.cancel()
        deadline = nil
        guard let completion else { return }
        self.completion = nil
        completion(outcome)
    }

    func cancel() {
        completion = nil
        deadline?.cancel()
        deadline = nil
        if pid > 0 {
            environment.reaper.killGroup(pid)
            environment.reaper.forget(pid)
        }
    }
}
