import CLinuxNet
import Dispatch
import Glibc
import LVSConfig
import LVSCore
import Synchronization

public enum HealthLogLevel: Sendable {
    case info, warning, error
}

/// Why a reload was not applied; the running configuration stays as it was.
public struct HealthReloadError: Error, Sendable, CustomStringConvertible {
    public var message: String

    public init(_ message: String) { self.message = message }

    public var description: String { message }
}

/// Runs the checkers of a keepalived configuration on one thread of its own and changes the
/// director's table through a `TableEditor` as servers fail and recover (the semantics are
/// `HealthCoordinator`'s; docs/HEALTH.md says them for operators).
///
/// The thread is one event loop: epoll over the checks' sockets and the MISC_CHECK processes'
/// pidfds, a min-heap of the checkers' due times, an eventfd through which `reload`, `status`
/// and `stop` reach it. Table changes of one loop turn go to the editor as one batch, computed
/// against the table as it is then.
public final class HealthMonitor: Sendable {
    public typealias Logger = @Sendable (HealthLogLevel, String) -> Void

    enum Request: Sendable {
        case reload(KeepalivedConfiguration, Reply<Result<[IpvsadmCommand], HealthReloadError>>)
        case reloadHealth(HealthConfiguration, Reply<Result<[IpvsadmCommand], HealthReloadError>>)
        case status(Reply<HealthStatus>)
    }

    /// A one-shot answer from the loop thread to a caller waiting for it.
    final class Reply<T: Sendable>: Sendable {
        let value = Mutex<T?>(nil)
        let done = DispatchSemaphore(value: 0)

        func send(_ v: T) {
            value.withLock { $0 = v }
            done.signal()
        }

        func wait(seconds: Int) -> T? {
            guard done.wait(timeout: .now() + .seconds(seconds)) == .success else { return nil }
            return value.withLock { $0 }
        }
    }

    struct Shared {
        var requests: [Request] = []
        var stopRequested = false
        var wakeFD: Int32 = -1
        var thread: pthread_t?
        var running = false
    }

    let shared = Mutex(Shared())
    let log: Logger
    /// At most this many attempts in flight (each holds a descriptor); the rest wait their turn.
    let maximumInFlight: Int

    public init(log: @escaping Logger = { _, _ in }, maximumInFlight: Int? = nil) {
        self.log = log
        self.maximumInFlight = maximumInFlight ?? Self.inFlightLimitFromDescriptors()
    }

    /// Half the descriptors this process may open (at most 16 384): the other half stays for
    /// lvsd's own sockets and files.
    static func inFlightLimitFromDescriptors() -> Int {
        var limit = rlimit()
        guard getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 256 }
        let soft = limit.rlim_cur > UInt(1 << 30) ? 1 << 20 : Int(limit.rlim_cur)
        return max(16, min(16384, (soft - 128) / 2))
    }

    /// The table lvsd starts with for `configuration`: its services, with the servers of `alpha`
    /// services left out (or at weight 0 under `inhibit_on_failure`) and sorry servers in where
    /// the quorum is not met from the start.
    public static func initialTable(for configuration: KeepalivedConfiguration) -> DirectorConfiguration {
        HealthCoordinator(configuration: configuration, now: 0, random: { 0 }).wantedTable
    }

    /// Lines to log about a configuration the monitor will run only in part.
    public static func warnings(for configuration: KeepalivedConfiguration) -> [String] {
        var result: [String] = []
        for service in configuration.health.services {
            for server in service.realServers {
                for checker in server.checkers {
                    let name = "\(checker.kind.keyword) of \(KeepalivedFormat.endpoint(server.address, server.port, service.key.transport))"
                    if checker.probeThroughVIP {
                        if service.key.firewallMark != 0 {
                            result.append("\(name): probe_via_vip has no effect on a firewall-mark service (it has no VIP:port to probe); the check goes to the server's own address")
                        } else if !checker.kind.probesThroughVIP {
                            result.append("\(name): probe_via_vip has no effect on \(checker.kind.keyword) (only TCP_CHECK, HTTP_GET, SSL_GET, UDP_CHECK and DNS_CHECK probe through the VIP); the check goes to the server's own address")
                        }
                    }
                    switch checker.kind {
                    case .tcp, .http, .udp, .dns:
                        if (checker.connectPort ?? server.port) == 0 {
                            result.append("\(name): no port to check (the service is on port 0): set connect_port; every attempt will fail")
                        }
                    case .misc(let m) where m.arguments.isEmpty:
                        result.append("\(name): misc_path is empty; every attempt will fail")
                    default: break
                    }
                }
            }
        }
        return result
    }

    /// Starts checking: the monitor first brings the table to what `configuration` wants (one
    /// batch; normally nothing, as lvsd started from `initialTable`), then runs the checkers.
    ///
    /// `path` is the data plane's interface and real-server MACs, which `probe_via_vip` needs;
    /// without it, checkers with `probe_via_vip` fail with a message that says so.
    public func start(configuration: KeepalivedConfiguration, editor: any TableEditor,
                      path: DirectRoutingPath? = nil) throws(HealthSystemError) {
        let wake = clinuxnet_eventfd()
        guard wake >= 0 else { throw HealthSystemError(call: "eventfd", errno: errno) }
        let alreadyRunning = shared.withLock { s -> Bool in
            if s.running { return true }
            s.running = true
            s.stopRequested = false
            s.wakeFD = wake
            return false
        }
        if alreadyRunning {
            Glibc.close(wake)
            return
        }
        for line in Self.warnings(for: configuration) { log(.warning, line) }
        let box = Unmanaged.passRetained(ThreadStart(monitor: self, configuration: configuration, editor: editor, path: path))
        var tid = pthread_t()
        let r = pthread_create(&tid, nil, { arg in
            guard let arg else { return nil }
            let start = Unmanaged<ThreadStart>.fromOpaque(arg).takeRetainedValue()
            start.monitor.runLoop(start)
            return nil
        }, box.toOpaque())
        guard r == 0 else {
            box.release()
            shared.withLock {
                $0.running = false
                $0.wakeFD = -1
            }
            Glibc.close(wake)
            throw HealthSystemError(call: "pthread_create", errno: r)
        }
        shared.withLock { $0.thread = tid }
    }

    /// Starts checking the services of `configuration` as they are in the editor's table now.
    public func start(configuration: HealthConfiguration, editor: any TableEditor) throws(HealthSystemError) {
        try start(configuration: KeepalivedConfiguration(director: editor.currentTable(), health: configuration), editor: editor)
    }

    /// Switches to `configuration`: the difference with the running one (services and servers
    /// added, removed or changed) goes to the table as one batch; real servers that stay keep
    /// their health state, checkers that did not change keep theirs. Returns the commands
    /// applied; on an error nothing changed and the old configuration keeps running.
    @discardableResult
    public func reload(to configuration: KeepalivedConfiguration) throws(HealthReloadError) -> [IpvsadmCommand] {
        for line in Self.warnings(for: configuration) { log(.warning, line) }
        let reply = Reply<Result<[IpvsadmCommand], HealthReloadError>>()
        guard post(.reload(configuration, reply)) else { throw HealthReloadError("the health monitor is not running") }
        guard let result = reply.wait(seconds: 30) else { throw HealthReloadError("the health monitor did not answer within 30 s") }
        return try result.get()
    }

    /// Switches to new health settings for the services the monitor runs now (their table
    /// part, scheduler and configured servers, stays as it is).
    @discardableResult
    public func reload(to configuration: HealthConfiguration) throws(HealthReloadError) -> [IpvsadmCommand] {
        let reply = Reply<Result<[IpvsadmCommand], HealthReloadError>>()
        guard post(.reloadHealth(configuration, reply)) else { throw HealthReloadError("the health monitor is not running") }
        guard let result = reply.wait(seconds: 30) else { throw HealthReloadError("the health monitor did not answer within 30 s") }
        return try result.get()
    }

    /// Per real server: up or down, weight, each checker's last result. Empty when stopped.
    public func status() -> HealthStatus {
        let reply = Reply<HealthStatus>()
        guard post(.status(reply)) else { return HealthStatus() }
        return reply.wait(seconds: 5) ?? HealthStatus()
    }

    /// Stops the checks (attempts in flight are abandoned, MISC_CHECK processes killed) and
    /// waits for the thread. `omega` services run their down scripts first.
    public func stop() {
        let (thread, wake) = shared.withLock { s -> (pthread_t?, Int32) in
            s.stopRequested = true
            return (s.thread, s.wakeFD)
        }
        if wake >= 0 { EventLoop.wake(wake) }
        if let thread { pthread_join(thread, nil) }
        shared.withLock { s in
            if s.wakeFD >= 0 { Glibc.close(s.wakeFD) }
            s.wakeFD = -1
            s.thread = nil
            s.running = false
            for request in s.requests {
                switch request {
                case .reload(_, let reply), .reloadHealth(_, let reply):
                    reply.send(.failure(HealthReloadError("the health monitor stopped")))
                case .status(let reply): reply.send(HealthStatus())
                }
            }
            s.requests = []
        }
    }

    private func post(_ request: Request) -> Bool {
        let wake = shared.withLock { s -> Int32 in
            guard s.running, !s.stopRequested else { return -1 }
            s.requests.append(request)
            return s.wakeFD
        }
        guard wake >= 0 else { return false }
        EventLoop.wake(wake)
        return true
    }

    final class ThreadStart: Sendable {
        let monitor: HealthMonitor
        let configuration: KeepalivedConfiguration
        let editor: any TableEditor
        let path: DirectRoutingPath?

        init(monitor: HealthMonitor, configuration: KeepalivedConfiguration, editor: any TableEditor,
             path: DirectRoutingPath?) {
            self.monitor = monitor
            self.configuration = configuration
            self.editor = editor
            self.path = path
        }
    }

    private func runLoop(_ start: ThreadStart) {
        _ = clinuxnet_set_thread_name("lvsd-health")
        let wake = shared.withLock { $0.wakeFD }
        let runner: HealthRunner
        do {
            runner = try HealthRunner(configuration: start.configuration, editor: start.editor, log: log,
                                      maximumInFlight: maximumInFlight, externalWake: wake, path: start.path)
        } catch {
            log(.error, "health checks not started: \(error)")
            return
        }
        runner.begin()
        while true {
            let (stop, requests) = shared.withLock { s -> (Bool, [Request]) in
                let taken = s.requests
                s.requests = []
                return (s.stopRequested, taken)
            }
            for request in requests {
                switch request {
                case .reload(let configuration, let reply): reply.send(runner.reload(to: configuration))
                case .reloadHealth(let health, let reply):
                    let director = runner.coordinator.configuration.director
                    reply.send(runner.reload(to: KeepalivedConfiguration(director: director, health: health)))
                case .status(let reply): reply.send(runner.coordinator.status)
                }
            }
            if stop { break }
            runner.turn()
        }
        runner.finish()
    }
}
