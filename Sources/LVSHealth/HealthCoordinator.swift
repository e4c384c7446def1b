import LVSConfig
import LVSCore

/// A checker block resolved against its service and real server: everything that decides how
/// it runs. Two checkers with equal plans are the same checker across a reload.
struct CheckerPlan: Equatable {
    var kind: CheckerConfig.Kind
    var target: CheckTarget
    var retry: UInt32
    var delayBeforeRetry: Double
    var delayLoop: Double
    var warmup: Double?
    var rise: UInt32
}

/// A script to run (notify_up/down, quorum_up/down), and why, for the log.
struct ScriptRequest: Equatable {
    var arguments: [String]
    var reason: String
}

/// The health state machine, with keepalived's semantics (check_*.c's epilogues and
/// ipwrapper.c), and no I/O and no clock of its own: the monitor's loop (or a test) tells it
/// the time, asks which checkers are due, and feeds it their outcomes. It answers with table
/// entries whose wanted state changed, scripts to run and log lines.
///
/// - A checker that is up and fails is retried `retry` times, `delay_before_retry` apart; the
///   last failure marks it down (so a server fails after 1 + retry failed attempts). A checker
///   that is down is tried every `delay_loop`, with no retries, and comes back up after `rise`
///   consecutive successes (SwiftLVS's addition; keepalived's behaviour is rise 1).
/// - A real server is up while all its checkers are up (a server without checkers always is).
///   `alpha` starts every checker of the service down.
/// - An up server is in the table with its weight (or the one MISC_CHECK's `misc_dynamic`
///   set); a down one is removed, or kept with weight 0 under `inhibit_on_failure`.
/// - Quorum: the service is up while the sum of the weights of its up servers is at least
///   quorum + hysteresis when rising, and until it falls below quorum − hysteresis (or to 0).
///   Losing it runs quorum_down and, with a sorry server, puts the sorry server in and takes
///   the remaining up servers out (weight 0 under inhibit); gaining it does the reverse.
final class HealthCoordinator {
    final class CheckerState {
        let id: Int
        let server: RealServerKey
        let plan: CheckerPlan
        var isUp: Bool
        var hasRun = false
        var retryIndex: UInt32 = 0
        var successes: UInt32 = 0
        var inFlight = false
        var due: Double = 0
        var generation: UInt64 = 0
        var lastOutcome: CheckOutcome?
        /// The weight the last `misc_dynamic` answer asked for.
        var dynamicWeight: Int32?

        init(id: Int, server: RealServerKey, plan: CheckerPlan, isUp: Bool) {
            self.id = id
            self.server = server
            self.plan = plan
            self.isUp = isUp
        }
    }

    final class ServerState {
        let key: RealServerKey
        /// The table entry at its configured weight and thresholds.
        let entry: RealServerConfig
        let health: RealServerHealth?
        let inhibit: Bool
        var checkers: [CheckerState] = []
        var alive = true
        var effectiveWeight: Int32

        init(key: RealServerKey, entry: RealServerConfig, health: RealServerHealth?, inhibit: Bool) {
            self.key = key
            self.entry = entry
            self.health = health
            self.inhibit = inhibit
            effectiveWeight = entry.weight
        }
    }

    final class ServiceState {
        let key: VirtualServiceKey
        /// The service as configured (scheduler, flags, persistence; `realServers` as configured).
        let configuration: VirtualServiceConfig
        let health: ServiceHealth
        var servers: [ServerState] = []
        var quorumUp = true
        /// The sorry server's entry, unless none is configured (or it duplicates a real server).
        var sorry: RealServerConfig?

        init(key: VirtualServiceKey, configuration: VirtualServiceConfig, health: ServiceHealth) {
            self.key = key
            self.configuration = configuration
            self.health = health
        }

        var weightOfUpServers: Int64 {
            servers.reduce(0) { $0 + ($1.alive ? Int64(max(0, $1.effectiveWeight)) : 0) }
        }
    }

    struct Due: Comparable {
        var time: Double
        var id: Int
        var generation: UInt64

        static func < (a: Due, b: Due) -> Bool { a.time < b.time || (a.time == b.time && a.id < b.id) }
    }

    private(set) var services: [ServiceState] = []
    private var serviceByKey: [VirtualServiceKey: ServiceState] = [:]
    private var serverByKey: [RealServerKey: ServerState] = [:]
    private(set) var checkers: [Int: CheckerState] = [:]
    private var dueHeap = MinHeap<Due>()
    private(set) var nextCheckerID = 1
    /// Table entries whose wanted state changed since the last `takeDirty()`.
    private var dirty: Set<RealServerKey> = []
    private var scripts: [ScriptRequest] = []
    private var messages: [String] = []
    /// Returns a number in 0..<1 (warmup spreading); a test makes it fixed.
    let random: () -> Double

    /// The configuration this state was built for.
    let configuration: KeepalivedConfiguration

    /// The state at start: no checker has run; servers of `alpha` services start down.
    init(configuration: KeepalivedConfiguration, now: Double, random: @escaping () -> Double = { Double.random(in: 0..<1) }) {
        self.configuration = configuration
        self.random = random
        build()
        for service in services {
            for server in service.servers {
                for checker in server.checkers {
                    checker.isUp = !service.health.alpha
                    scheduleFirst(checker, now: now)
                }
                server.alive = server.checkers.allSatisfy(\.isUp)
            }
            initialQuorum(service)
        }
    }

    /// The state after a reload to `configuration`: real servers that stay keep their state,
    /// and checkers whose plan did not change keep theirs (and their attempt in flight, by id).
    /// `old` is not changed; the caller switches to the new state once the table took it.
    init(reloading old: HealthCoordinator, to configuration: KeepalivedConfiguration, now: Double) {
        self.configuration = configuration
        random = old.random
        nextCheckerID = old.nextCheckerID
        build()
        for service in services {
            let oldService = old.serviceByKey[service.key]
            for server in service.servers {
                guard let oldServer = old.serverByKey[server.key] else {
                    for checker in server.checkers {
                        checker.isUp = !service.health.alpha
                        scheduleFirst(checker, now: now)
                    }
                    server.alive = server.checkers.allSatisfy(\.isUp)
                    continue
                }
                migrate(server, from: oldServer, alpha: service.health.alpha, now: now)
            }
            if let oldService {
                service.quorumUp = oldService.quorumUp
                for oldServer in oldService.servers where serverByKey[oldServer.key] == nil {
                    note("Removing service \(oldServer.key) from VS \(KeepalivedFormat.service(service.key)) (no longer configured)")
                    if oldServer.alive, let script = oldServer.health?.notifyDown {
                        scripts.append(ScriptRequest(arguments: script, reason: "notify_down for \(oldServer.key)"))
                    }
                }
                updateQuorum(service)
                if service.sorry != oldService.sorry { markAll(service); markSorry(oldService) }
            } else {
                initialQuorum(service)
            }
        }
        for oldService in old.services where serviceByKey[oldService.key] == nil {
            note("Removing Virtual Server \(KeepalivedFormat.service(oldService.key))")
            for server in oldService.servers where server.alive {
                if let script = server.health?.notifyDown {
                    scripts.append(ScriptRequest(arguments: script, reason: "notify_down for \(server.key)"))
                }
            }
            if oldService.health.omega, oldService.quorumUp, let script = oldService.health.quorumDown {
                scripts.append(ScriptRequest(arguments: script, reason: "quorum_down (omega) for \(KeepalivedFormat.service(oldService.key))"))
            }
        }
    }

    // MARK: - Building

    private func build() {
        var healthByService: [VirtualServiceKey: ServiceHealth] = [:]
        for h in configuration.health.services where healthByService[h.key] == nil { healthByService[h.key] = h }
        for config in configuration.director.services where serviceByKey[config.key] == nil {
            let health = healthByService[config.key] ?? ServiceHealth(key: config.key)
            let service = ServiceState(key: config.key, configuration: config, health: health)
            var healthByServer: [RealServerKey: RealServerHealth] = [:]
            for h in health.realServers {
                healthByServer[RealServerKey(service: config.key, address: h.address, port: h.port)] = h
            }
            for entry in config.realServers {
                let key = RealServerKey(service: config.key, address: entry.address, port: entry.port)
                guard serverByKey[key] == nil else { continue }
                let h = healthByServer[key]
                let server = ServerState(key: key, entry: entry, health: h,
                                         inhibit: (h?.inhibitOnFailure ?? false) || health.inhibitOnFailure)
                for checker in h?.checkers ?? [] {
                    let plan = Self.plan(checker, server: entry, service: health, rise: h?.rise ?? 1)
                    server.checkers.append(CheckerState(id: 0, server: key, plan: plan, isUp: true))
                }
                service.servers.append(server)
                serverByKey[key] = server
            }
            if let sorry = health.sorryServer,
               !config.realServers.contains(where: { $0.address == sorry.address && $0.port == sorry.port }) {
                service.sorry = sorry
            }
            services.append(service)
            serviceByKey[config.key] = service
        }
    }

    static func plan(_ c: CheckerConfig, server: RealServerConfig, service: ServiceHealth, rise: UInt32) -> CheckerPlan {
        let delayLoop = max(0.01, c.delayLoop ?? service.delayLoop)
        var timeout = c.connectTimeout
        if case .misc(let misc) = c.kind { timeout = misc.timeout ?? delayLoop }
        var target = CheckTarget(address: c.connectAddress ?? server.address, port: c.connectPort ?? server.port,
                                 bindAddress: c.bindAddress, bindPort: c.bindPort, timeout: max(0.001, timeout))
        if c.probeThroughVIP, c.kind.probesThroughVIP, service.key.firewallMark == 0 {
            // The handshake goes to the real server itself (its MAC), to VIP:port as a client's
            // would; a service on port 0 (all ports) is probed on the checker's port.
            let port = service.key.port != 0 ? service.key.port : target.port
            target.viaVIP = VIPTarget(address: service.key.address, port: port)
            // The server's own address finds its MAC, whatever connect_ip says.
            target.viaVIPServer = server.address
        }
        return CheckerPlan(kind: c.kind, target: target, retry: c.retry, delayBeforeRetry: max(0, c.delayBeforeRetry),
                           delayLoop: delayLoop, warmup: c.warmup, rise: max(1, rise))
    }

    private func register(_ checker: CheckerState) {
        checkers[checker.id] = checker
    }

    private func newChecker(from template: CheckerState, isUp: Bool) -> CheckerState {
        let c = CheckerState(id: nextCheckerID, server: template.server, plan: template.plan, isUp: isUp)
        nextCheckerID += 1
        register(c)
        return c
    }

    private func scheduleFirst(_ checker: CheckerState, now: Double) {
        // Replace the placeholder built by `build()` with a registered checker.
        guard let server = serverByKey[checker.server], let i = server.checkers.firstIndex(where: { $0 === checker }) else { return }
        let c = newChecker(from: checker, isUp: checker.isUp)
        server.checkers[i] = c
        let warmup = c.plan.warmup.map { $0 > 0 ? random() * $0 : 0 } ?? 0
        schedule(c, at: now + warmup)
    }

    private func migrate(_ server: ServerState, from old: ServerState, alpha: Bool, now: Double) {
        var unused = old.checkers
        for (i, placeholder) in server.checkers.enumerated() {
            if let j = unused.firstIndex(where: { $0.plan == placeholder.plan }) {
                let o = unused.remove(at: j)
                let c = CheckerState(id: o.id, server: server.key, plan: o.plan, isUp: o.isUp)
                c.hasRun = o.hasRun
                c.retryIndex = o.retryIndex
                c.successes = o.successes
                c.inFlight = o.inFlight
                c.lastOutcome = o.lastOutcome
                c.dynamicWeight = o.dynamicWeight
                register(c)
                server.checkers[i] = c
                if !c.inFlight { schedule(c, at: o.due) }
            } else {
                let c = newChecker(from: placeholder, isUp: old.alive || !alpha)
                server.checkers[i] = c
                let warmup = c.plan.warmup.map { $0 > 0 ? random() * $0 : 0 } ?? 0
                schedule(c, at: now + warmup)
            }
        }
        if let dynamic = server.checkers.compactMap(\.dynamicWeight).last {
            server.effectiveWeight = dynamic
        }
        server.alive = old.alive
        let alive = server.checkers.allSatisfy(\.isUp)
        if server.entry != old.entry || server.inhibit != old.inhibit || server.effectiveWeight != old.effectiveWeight {
            dirty.insert(server.key)
        }
        if alive != server.alive, let service = serviceByKey[server.key.service] {
            serverTransition(server, alive: alive, service: service)
        }
    }

    /// Checker ids of `old` that this state no longer has: their attempts are to be cancelled.
    func orphanedCheckers(of old: HealthCoordinator) -> [Int] {
        old.checkers.keys.filter { checkers[$0] == nil }
    }

    // MARK: - Scheduling

    private func schedule(_ checker: CheckerState, at time: Double) {
        checker.generation &+= 1
        checker.due = time
        dueHeap.push(Due(time: time, id: checker.id, generation: checker.generation))
    }

    /// When the next checker is due, if any.
    var nextDue: Double? {
        while let top = dueHeap.top {
            if let c = checkers[top.id], c.generation == top.generation, !c.inFlight { return top.time }
            _ = dueHeap.pop()
        }
        return nil
    }

    /// The checkers due at `now`, marked in flight; the caller starts an attempt for each and
    /// reports it with `record`.
    func takeDue(now: Double, limit: Int = Int.max) -> [(id: Int, plan: CheckerPlan)] {
        var result: [(id: Int, plan: CheckerPlan)] = []
        while result.count < limit, let top = dueHeap.top, top.time <= now {
            _ = dueHeap.pop()
            guard let c = checkers[top.id], c.generation == top.generation, !c.inFlight else { continue }
            c.inFlight = true
            result.append((c.id, c.plan))
        }
        return result
    }

    /// Puts back a checker that was due but could not start (too many in flight): it is tried
    /// again at `time`.
    func postpone(_ id: Int, to time: Double) {
        guard let c = checkers[id] else { return }
        c.inFlight = false
        schedule(c, at: time)
    }

    // MARK: - Results

    /// One attempt's outcome, at `now`.
    func record(_ id: Int, _ outcome: CheckOutcome, now: Double) {
        guard let c = checkers[id], let server = serverByKey[c.server], let service = serviceByKey[c.server.service] else { return }
        c.inFlight = false
        c.lastOutcome = outcome
        // Formatted only when a line is logged: most results change nothing and say nothing.
        var what: String { describe(c) }
        switch outcome {
        case .success(let weight):
            c.retryIndex = 0
            if let weight {
                c.dynamicWeight = weight
                if weight != server.effectiveWeight { changeWeight(server, to: weight, service: service) }
            }
            if !c.isUp {
                c.successes += 1
                if c.successes >= c.plan.rise {
                    c.successes = 0
                    note("\(what) success.")
                    c.hasRun = true
                    setChecker(c, up: true, server: server, service: service)
                } else {
                    note("\(what) success (\(c.successes) of \(c.plan.rise) needed).")
                }
            }
            c.hasRun = true
            schedule(c, at: now + c.plan.delayLoop)
        case .failure(let failure):
            c.successes = 0
            if c.isUp && c.retryIndex < c.plan.retry {
                c.retryIndex += 1
                note("\(what) failed (\(failure)); retry \(c.retryIndex) of \(c.plan.retry) in \(Self.seconds(c.plan.delayBeforeRetry)).")
                schedule(c, at: now + c.plan.delayBeforeRetry)
            } else {
                c.retryIndex = 0
                if c.isUp {
                    note("\(what) failed (\(failure)).")
                    if c.plan.retry > 0 { note("Check on service \(c.server) failed after \(c.plan.retry) retr\(c.plan.retry == 1 ? "y" : "ies").") }
                    c.hasRun = true
                    setChecker(c, up: false, server: server, service: service)
                } else if !c.hasRun {
                    // An alpha checker's first failure: the server was already counted down,
                    // but keepalived still says so once, and runs notify_down.
                    c.hasRun = true
                    note("\(what) failed (\(failure)).")
                    if let script = server.health?.notifyDown {
                        scripts.append(ScriptRequest(arguments: script, reason: "notify_down for \(server.key)"))
                    }
                }
                schedule(c, at: now + c.plan.delayLoop)
            }
        }
    }

    private func describe(_ c: CheckerState) -> String {
        let t = c.plan.target
        let transport = c.server.service.transport
        switch c.plan.kind {
        case .tcp: return "TCP connection to \(KeepalivedFormat.endpoint(t.address, t.port, .tcp))"
        case .http: return "HTTP_GET to \(KeepalivedFormat.endpoint(t.address, t.port, .tcp))"
        case .ssl: return "SSL_GET to \(KeepalivedFormat.endpoint(t.address, t.port, .tcp))"
        case .misc(let m): return "MISC_CHECK '\(m.arguments.joined(separator: " "))' for \(c.server)"
        case .udp: return "UDP_CHECK to \(KeepalivedFormat.endpoint(t.address, t.port, .udp))"
        case .dns: return "DNS_CHECK to \(KeepalivedFormat.endpoint(t.address, t.port, transport == .tcp ? .udp : transport))"
        case .ping: return "PING_CHECK to [\(t.address)]"
        }
    }

    static func seconds(_ s: Double) -> String {
        s == s.rounded() ? "\(Int(s)) s" : "\(s) s"
    }

    private func setChecker(_ c: CheckerState, up: Bool, server: ServerState, service: ServiceState) {
        c.isUp = up
        let alive = server.checkers.allSatisfy(\.isUp)
        if alive != server.alive { serverTransition(server, alive: alive, service: service) }
    }

    private func serverTransition(_ server: ServerState, alive: Bool, service: ServiceState) {
        let vs = KeepalivedFormat.service(service.key)
        if server.inhibit {
            note("\(alive ? "Enabling" : "Disabling") service \(server.key) of VS \(vs)")
        } else {
            note(alive ? "Adding service \(server.key) to VS \(vs)" : "Removing service \(server.key) from VS \(vs)")
        }
        server.alive = alive
        dirty.insert(server.key)
        if let script = alive ? server.health?.notifyUp : server.health?.notifyDown {
            scripts.append(ScriptRequest(arguments: script, reason: "\(alive ? "notify_up" : "notify_down") for \(server.key)"))
        }
        updateQuorum(service)
    }

    private func changeWeight(_ server: ServerState, to weight: Int32, service: ServiceState) {
        note("Changing weight from \(server.effectiveWeight) to \(weight) for \(server.alive ? "" : "in")active service \(server.key) of VS \(KeepalivedFormat.service(service.key))")
        server.effectiveWeight = weight
        dirty.insert(server.key)
        updateQuorum(service)
    }

    // MARK: - Quorum

    private func initialQuorum(_ service: ServiceState) {
        let q = Int64(service.health.quorum), h = Int64(service.health.hysteresis)
        let sum = service.weightOfUpServers
        service.quorumUp = sum >= q + h
        // keepalived announces a quorum that is down at start only when it has a sorry server
        // to put in (update_quorum_state's init case).
        if !service.quorumUp, service.sorry != nil {
            note("Starting with quorum down \(q)-\(h)=\(q - h) > \(sum) for VS \(KeepalivedFormat.service(service.key))")
            note("Adding sorry server \(sorryDescription(service)) to VS \(KeepalivedFormat.service(service.key))")
            if let script = service.health.quorumDown {
                scripts.append(ScriptRequest(arguments: script, reason: "quorum_down for \(KeepalivedFormat.service(service.key))"))
            }
        }
        markAll(service)
    }

    private func updateQuorum(_ service: ServiceState) {
        let q = Int64(service.health.quorum), h = Int64(service.health.hysteresis)
        let sum = service.weightOfUpServers
        let vs = KeepalivedFormat.service(service.key)
        if !service.quorumUp {
            let threshold = q + h
            guard sum >= threshold else { return }
            service.quorumUp = true
            note("Gained quorum \(q)+\(h)=\(threshold) <= \(sum) for VS \(vs)")
            if service.sorry != nil {
                note("Removing sorry server \(sorryDescription(service)) from VS \(vs)")
                markAll(service)
            }
            if let script = service.health.quorumUp {
                scripts.append(ScriptRequest(arguments: script, reason: "quorum_up for \(vs)"))
            }
        } else {
            let threshold = q - h
            guard sum == 0 || sum < threshold else { return }
            service.quorumUp = false
            note("Lost quorum \(q)-\(h)=\(threshold) > \(sum) for VS \(vs)")
            if service.sorry != nil {
                note("Adding sorry server \(sorryDescription(service)) to VS \(vs)")
                markAll(service)
            }
            if let script = service.health.quorumDown {
                scripts.append(ScriptRequest(arguments: script, reason: "quorum_down for \(vs)"))
            }
        }
    }

    private func sorryDescription(_ service: ServiceState) -> String {
        guard let s = service.sorry else { return "" }
        return KeepalivedFormat.endpoint(s.address, s.port, service.key.transport)
    }

    private func markAll(_ service: ServiceState) {
        for server in service.servers { dirty.insert(server.key) }
        markSorry(service)
    }

    private func markSorry(_ service: ServiceState) {
        if let s = service.sorry { dirty.insert(RealServerKey(service: service.key, address: s.address, port: s.port)) }
    }

    private func note(_ message: String) { messages.append(message) }

    // MARK: - What the table should be

    /// The table entry a configured real server should have now (nil: not in the table).
    private func wantedEntry(_ server: ServerState, in service: ServiceState) -> RealServerConfig? {
        let pooled = server.alive && (service.quorumUp || service.sorry == nil)
        if pooled {
            var e = server.entry
            e.weight = server.effectiveWeight
            return e
        }
        if server.inhibit {
            var e = server.entry
            e.weight = 0
            return e
        }
        return nil
    }

    /// The wanted entry for `key`, which is a real server or the sorry server of its service.
    func wantedEntry(_ key: RealServerKey) -> RealServerConfig? {
        guard let service = serviceByKey[key.service] else { return nil }
        if let server = serverByKey[key] { return wantedEntry(server, in: service) }
        if let s = service.sorry, s.address == key.address, s.port == key.port, !service.quorumUp { return s }
        return nil
    }

    /// The table this state wants: every configured service with the entries above, the
    /// sorry server last.
    var wantedTable: DirectorConfiguration {
        DirectorConfiguration(services: services.map(wantedService))
    }

    private func wantedService(_ service: ServiceState) -> VirtualServiceConfig {
        var config = service.configuration
        config.realServers = service.servers.compactMap { wantedEntry($0, in: service) }
        if let s = service.sorry, !service.quorumUp { config.realServers.append(s) }
        return config
    }

    /// The entries this configuration owns per service (its real servers and sorry server,
    /// whether in the table now or not): a reconcile may add, change or remove these, and
    /// leaves any other entry (one an admin added with lvsadm) alone.
    var managedEntries: [VirtualServiceKey: Set<RealServerKey>] {
        var result: [VirtualServiceKey: Set<RealServerKey>] = [:]
        for service in services {
            var keys = Set(service.servers.map(\.key))
            if let s = service.sorry { keys.insert(RealServerKey(service: service.key, address: s.address, port: s.port)) }
            result[service.key] = keys
        }
        return result
    }

    var serviceKeys: [VirtualServiceKey] { services.map(\.key) }

    // MARK: - Draining

    func takeDirty() -> Set<RealServerKey> {
        defer { dirty = [] }
        return dirty
    }

    func takeScripts() -> [ScriptRequest] {
        defer { scripts = [] }
        return scripts
    }

    func takeMessages() -> [String] {
        defer { messages = [] }
        return messages
    }

    /// Scripts to run when lvsd stops: for `omega` services, notify_down of the servers that
    /// are up and quorum_down if the quorum is up (keepalived's shutdown in omega mode).
    func shutdownScripts() -> [ScriptRequest] {
        var result: [ScriptRequest] = []
        for service in services where service.health.omega {
            for server in service.servers where server.alive {
                if let s = server.health?.notifyDown { result.append(ScriptRequest(arguments: s, reason: "notify_down for \(server.key) (stopping)")) }
            }
            if service.quorumUp, let s = service.health.quorumDown {
                result.append(ScriptRequest(arguments: s, reason: "quorum_down for \(KeepalivedFormat.service(service.key)) (stopping)"))
            }
        }
        return result
    }

    // MARK: - Status

    var status: HealthStatus {
        HealthStatus(services: services.map { service in
            ServiceStatus(key: service.key, quorumUp: service.quorumUp, sorryServerActive: service.sorry != nil && !service.quorumUp,
                          servers: service.servers.map { server in
                              RealServerStatus(key: server.key, up: server.alive, weight: server.effectiveWeight,
                                               checkers: server.checkers.map { c in
                                                   let last: String? = switch c.lastOutcome {
                                                   case nil: nil
                                                   case .success?: "ok"
                                                   case .failure(let f)?: "\(f)"
                                                   }
                                                   return CheckerStatus(keyword: c.plan.kind.keyword, up: c.isUp, lastResult: last)
                                               })
                          })
        })
    }
}
