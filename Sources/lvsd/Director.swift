import ArgumentParser
import Dispatch
import Glibc
import LVSConfig
import LVSControlProtocol
import LVSCore
import LVSDataPlane
import LVSHA
import LVSHealth
import Synchronization

/// Sets up the data plane for one interface and runs the control thread: signals, the stats
/// file, the exit summary.
struct Director {
    var configuration: DirectorConfiguration
    var staticNeighbors: [IPv4Address: MACAddress]
    var interfaceName: String
    var statsFile: String?
    var connectionCapacity: Int
    var destinationCapacity: Int
    var ringFrames: Int
    var batch: Int
    /// Workers and their CPUs (`--workers`, `--cpu-list`); one unpinned worker by default.
    var placement = WorkerPlacement(workerCount: 1)
    /// Workers spin on their rings instead of sleeping when idle (`--busy-poll`).
    var busyPoll = false
    /// `--idle-spin`: microseconds an idle worker spins before it sleeps.
    var idleSpinMicroseconds: UInt64 = 0
    /// `--kernel-drop` / `--no-kernel-drop`; best effort when neither is given.
    var kernelDrop: KernelDropMode = .bestEffort
    /// `--backend` and `--xdp-mode`: AF_XDP falls back to AF_PACKET if its set-up fails.
    var backend: DataPlaneBackend = .afPacket
    var xdpMode: XDPMode = .auto
    var settings: DirectorSettings
    var socketPath: String
    var savedTable: SavedTable?
    /// The keepalived.conf lvsd was started with (`--config`): its health checks run, and
    /// SIGHUP reads `configPath` again.
    var keepalived: KeepalivedConfiguration?
    var configPath: String?
    /// A sync daemon to start with the data plane (`--sync-daemon`, or keepalived.conf's
    /// `lvs_sync_daemon`, which starts as backup until VRRP says otherwise).
    var syncAtStart: SyncDaemonConfiguration?
    /// The VRRP instance that decides whether this director owns its VIPs (nil: it always
    /// does). docs/HA.md.
    var vrrp: VRRPInstanceConfiguration?
    /// Called on the VRRP thread after every state change of `vrrp` (the connection sync
    /// daemon's master/backup role follows it, as keepalived's `lvs_sync_daemon` does).
    var onVRRPStateChange: @Sendable (String, VRRPState) -> Void = { _, _ in }
    /// Asked by the VRRP instance before it preempts a lower-priority master (e.g. "has sync
    /// pulled the whole connection table yet?"); always yes by default.
    var mayPreempt: @Sendable () -> Bool = { true }
    /// Reads the VRRP instance lvsd runs from a reloaded keepalived.conf (LVSDaemon's
    /// `vrrpInstance(keepalived:)`: --vrrp-config if given, else the file's own blocks).
    var readVRRP: ((KeepalivedConfiguration) throws(ConfigurationError) -> VRRPInstanceConfiguration?)?

    func run() throws {
        var backendName = DataPlaneBackend.afPacket.rawValue
        let interface: NetworkInterface
        let pool: WorkerPool
        let control: ControlServer
        let table: TableController
        let sync: SyncDaemon
        do {
            interface = try NetworkInterface.lookup(interfaceName)
            var ringOptions = RingOptions()
            ringOptions.frameCount = ringFrames
            ringOptions.batchSize = batch
            // Each worker gets its own engine (connection-table shard: --connections is the
            // total), socket and ring.
            let count = placement.workerCount
            let xdp = backend == .afXDP ? setUpXDP(interface: interface, workers: count) : nil
            // With AF_XDP the AF_PACKET sockets carry ARP only: a small ring is plenty.
            var arpRingOptions = ringOptions
            arpRingOptions.frameCount = 256
            var workers: [DataPlaneWorker] = []
            for index in 0..<count {
                let engine = try makeEngine(interface: interface, connectionCapacity: max(64, connectionCapacity / count))
                // With VRRP the VIPs are owned only as MASTER; the instance starts in INIT.
                engine.ownsVirtualAddresses = vrrp == nil
                let socket = try PacketSocket(interface: interface,
                                              virtualAddresses: xdp == nil ? engine.virtualAddressList : [],
                                              virtualNetworks: xdp == nil ? engine.virtualNetworkList : [],
                                              options: xdp == nil ? ringOptions : arpRingOptions)
                let worker = DataPlaneWorker(socket: socket, engine: engine, options: ringOptions, index: index,
                                             cpu: placement.cpus?[index], xdp: xdp?.sockets[index], xdpProgram: xdp?.program)
                worker.busyPoll = busyPoll
                worker.idleSpinNanos = idleSpinMicroseconds &* 1000
                workers.append(worker)
            }
            pool = try WorkerPool(workers: workers, steering: TableController.steering(for: configuration, workerCount: count))
            let first = workers[0]
            let pinning = placement.cpus.map { "on CPUs " + $0.map(String.init).joined(separator: ",") } ?? "unpinned"
            Log.info("\(interface.name): MAC \(interface.mac), address \(interface.address), MTU \(interface.mtu); \(count == 1 ? "1 worker" : "\(count) workers in one fanout group") (\(pinning)), each with a ring of \(first.ringFrames) × \(first.ringFrameSize) B and a connection table of \(first.connectionCapacity) slots")
            Log.info("backend: \(workers.map(\.backendDescription).joined(separator: "; "))")
            backendName = xdp == nil ? DataPlaneBackend.afPacket.rawValue : DataPlaneBackend.afXDP.rawValue
            let listener = try ControlListener(path: socketPath)
            table = TableController(configuration: configuration, pool: pool, savedTable: savedTable)
            sync = SyncDaemon(pool: pool, interface: interface)
            control = ControlServer(listener: listener, pool: pool, table: table, sync: sync)
            Log.info("control socket \(socketPath)")
        } catch let error as ControlSocketError {
            Log.error(error.description)
            throw ExitCode(1)
        } catch let error as SystemError {
            Log.error(error.description)
            throw ExitCode(1)
        } catch let error as EngineConfigurationError {
            Log.error(error.description)
            throw ExitCode(2)
        }
        let vips = (configuration.virtualAddresses.map(\.description)
            + configuration.virtualNetworks.map { "\($0) (routed, no ARP)" }).joined(separator: ", ")
        let name = interface.name
        pool.primary.onReady = { unresolved in
            if !unresolved.isEmpty {
                Log.warning("no ARP answer yet from real servers \(unresolved.map(\.description).joined(separator: ", ")); their connections are dropped until they answer")
            }
            Log.info("ready: forwarding \(vips.isEmpty ? "no VIP yet" : vips) on \(name)")
            SystemdNotifier.notify("READY=1\nSTATUS=forwarding on \(name)")
        }

        // Signals are taken synchronously by this thread; the worker inherits the blocked mask.
        var signals = sigset_t()
        sigemptyset(&signals)
        for s in [SIGINT, SIGTERM, SIGHUP, SIGUSR1] { sigaddset(&signals, s) }
        pthread_sigmask(SIG_BLOCK, &signals, nil)
        if let vrrp, vrrp.unicastSource == nil && interface.address == .any {
            Log.error("VRRP \(vrrp.name): \(interface.name) has no IPv4 address to send adverts from; give it one, or set unicast_src_ip")
            throw ExitCode(1)
        }
        var dropRule = kernelDrop == .off ? nil : KernelDropRule(interfaceName: interface.name)
        if let rule = dropRule {
            do {
                try rule.install(configuration.virtualAddresses)
                Log.info("kernel drop: table netdev \(KernelDropRule.tableName) drops IPv4 to the VIPs at \(interface.name)'s ingress, after lvsd's tap (--no-kernel-drop: leave it out)")
            } catch {
                guard kernelDrop == .bestEffort else {
                    Log.error(error.description)
                    control.stop()
                    pool.stop()
                    throw ExitCode(1)
                }
                Log.warning("\(error.description); the director's own IP stack receives the VIP frames too")
                dropRule = nil
            }
        }
        if dropRule == nil && interface.kernelForwardsIPv4() {
            Log.warning(KernelDropRule.forwardingWarning(interface: interface.name, optedOut: kernelDrop == .off))
        }
        defer { dropRule?.remove() }
        var vrrpRunner: VRRPInstanceRunner?
        do {
            try pool.start()
            try control.start()
            // The sync daemon first: VRRP's first state change switches its role.
            if let syncAtStart { try sync.start(syncAtStart) }
            if let vrrp {
                let runner = try VRRPInstanceRunner(configuration: vrrp, interface: interface,
                                                    hooks: vrrpHooks(pool: pool, sync: sync))
                try runner.start()
                vrrpRunner = runner
            }
        } catch {
            Log.error("\(error)")
            sync.stopAll()
            control.stop()
            pool.stop()
            throw ExitCode(1)
        }
        let monitor = HealthMonitor(log: { level, line in
            switch level {
            case .info: Log.info(line)
            case .warning: Log.warning(line)
            case .error: Log.error(line)
            }
        }, maximumInFlight: keepalived.map { _ in Self.raiseDescriptorLimit() })
        if let keepalived {
            do {
                try monitor.start(configuration: keepalived, editor: table,
                                  path: Self.directRoutingPath(interface: interface, shared: pool.primary.shared))
            } catch {
                Log.error("health checks: \(error)")
                control.stop()
                sync.stopAll()
                pool.stop()
                throw ExitCode(1)
            }
        }

        var timeout = timespec(tv_sec: 1, tv_nsec: 0)
        var conflictsLogged: UInt64 = 0
        loop: while true {
            let s = sigtimedwait(&signals, nil, &timeout)
            switch s {
            case SIGINT, SIGTERM:
                break loop
            case SIGUSR1:
                Log.info(summary(pool.snapshot()))
                if let line = Self.syncSummary(sync) { Log.info(line) }
                if keepalived != nil {
                    for line in monitor.status().description.split(separator: "\n") { Log.info("health: " + line) }
                }
                if let vrrpRunner {
                    Log.info("VRRP \(vrrpRunner.configuration.name): " + vrrpRunner.status.withLock { $0 }.description)
                }
            case SIGHUP:
                if let configPath {
                    reload(configPath, monitor: monitor, vrrp: vrrpRunner)
                } else {
                    Log.warning("SIGHUP: lvsd was started without --config, so there is no file to reload; change the table with lvsadm (it is saved and restored)")
                }
            default:
                let snapshot = pool.snapshot()
                writeStats(snapshot, backend: backendName, vrrp: vrrpRunner, sync: sync, health: keepalived == nil ? nil : monitor)
                if let dropRule {
                    // Table changes (lvsadm, health checks, SIGHUP) reach the rule within a second.
                    do {
                        try dropRule.install(table.currentTable().virtualAddresses)
                    } catch {
                        Log.warning(error.description)
                    }
                }
                if let c = snapshot.vipConflict, c.count > conflictsLogged {
                    // At most one line a second, however fast the other host ARPs.
                    Log.warning("ARP: \(c.mac) (\(c.senderAddress)) answers for VIP \(c.vip) (\(c.count) frames so far): another host claims the VIP, usually a real server whose VIP is not on a non-ARPing device; run `lvs-realserver check --vip \(c.vip)` on it")
                    conflictsLogged = c.count
                }
            }
        }
        SystemdNotifier.notify("STOPPING=1")
        // First: a master's priority-0 advert and the release of the VIPs, while the worker
        // still runs to take the release.
        vrrpRunner?.stop()
        monitor.stop()
        control.stop()
        if let line = Self.syncSummary(sync) { Log.info(line) }
        sync.stopAll()
        pool.stop()
        let final = pool.snapshot()
        writeStats(final, backend: backendName, vrrp: vrrpRunner, sync: sync, health: keepalived == nil ? nil : monitor)
        Log.info("stopped: " + summary(final))
    }

    /// VRRP drives the data plane (VIP ownership, gratuitous ARP) and, when a sync daemon
    /// runs, its role: master while the instance is MASTER, backup otherwise, as keepalived's
    /// `lvs_sync_daemon` does. A director whose sync daemon is a backup may preempt only once
    /// it has pulled the master's whole table, so a recovered master never comes back empty.
    /// Ownership switches on every worker; worker 0 alone sends the gratuitous ARP.
    func vrrpHooks(pool: WorkerPool, sync: SyncDaemon) -> VRRPHooks {
        let onVRRPStateChange = self.onVRRPStateChange
        let mayPreempt = self.mayPreempt
        // The role switch joins the sync thread: off the VRRP thread, so adverts keep time.
        let roleQueue = DispatchQueue(label: "lvsd.sync-role")
        return VRRPHooks(setOwnership: { owns in
            _ = pool.perform { $0.setOwnsVirtualAddresses(owns) }
        }, announce: {
            _ = pool.primary.perform { $0.announceVirtualAddresses() }
        }, onStateChange: { instance, state in
            onVRRPStateChange(instance, state)
            guard state != .initialize else { return }
            let role: SyncDaemonConfiguration.Role = state == .master ? .master : .backup
            roleQueue.async {
                guard let running = sync.running, running.role != role else { return }
                do {
                    try sync.setRole(role)
                    Log.info("VRRP \(instance) is \(state.rawValue): sync daemon switched to \(role.rawValue)")
                } catch {
                    Log.error("VRRP \(instance) is \(state.rawValue): \(error)")
                }
            }
        }, mayPreempt: {
            guard mayPreempt() else { return false }
            guard let running = sync.running, running.role == .backup else { return true }
            return sync.initialSyncComplete
        })
    }

    /// The data plane's interface and resolved real-server MACs, for `probe_via_vip` (the
    /// health thread reads the published snapshot at most once a second). Worker 0's: it is
    /// the one that sees ARP and learns them.
    static func directRoutingPath(interface: NetworkInterface, shared: WorkerShared) -> DirectRoutingPath {
        DirectRoutingPath(interfaceName: interface.name, interfaceIndex: interface.index,
                          directorAddress: interface.address, directorMAC: interface.mac) {
            let snapshot = shared.snapshot.withLock { $0 }
            var macs: [IPv4Address: MACAddress] = [:]
            for service in snapshot.services {
                for d in service.destinations { if let mac = d.mac { macs[d.address] = mac } }
            }
            return macs
        }
    }

    /// SIGHUP with --config: read the file again and switch to it as one table batch; on any
    /// error, say where and keep the running configuration.
    /// SIGHUP: the file is applied whole or not at all. Its VRRP instance is read first (an
    /// error there keeps everything as it runs), then the table and checks change as one
    /// batch, then the running VRRP instance takes the new settings in place — priority,
    /// advert_int, preempt, preempt_delay, VIPs, authentication, tracked interfaces, notify
    /// scripts, GARP — without leaving its state, as keepalived's reload keeps a running
    /// instance. Another instance (name, interface, router id, version, unicast peers), or
    /// VRRP where none ran, needs a restart: lvsd says so and keeps VRRP as it runs.
    func reload(_ path: String, monitor: HealthMonitor, vrrp runner: VRRPInstanceRunner?) {
        Log.info("SIGHUP: reloading \(path)")
        let next: KeepalivedConfiguration
        var nextVRRP: VRRPInstanceConfiguration?
        do {
            next = try KeepalivedLoader.load(path)
            if runner != nil || !next.vrrpInstances.isEmpty { nextVRRP = try readVRRP?(next) }
        } catch {
            Log.error("reload: \(error.description); keeping the running configuration")
            return
        }
        for warning in next.warnings { Log.warning(warning.description) }
        do {
            let commands = try monitor.reload(to: next)
            let servers = next.director.services.reduce(0) { $0 + $1.realServers.count }
            Log.info("reloaded \(path): \(next.director.services.count) virtual services, \(servers) real servers; \(commands.count) table change\(commands.count == 1 ? "" : "s")")
        } catch {
            Log.error("reload of \(path): \(error); keeping the running configuration")
            return
        }
        switch (runner, nextVRRP) {
        case (nil, nil):
            break
        case (nil, let added?):
            Log.warning("reload: vrrp_instance \(added.name) is new; lvsd started without VRRP and keeps owning the VIPs (restart lvsd to run it)")
        case (let runner?, nil):
            Log.warning("reload: vrrp_instance \(runner.configuration.name) is gone from the file; VRRP keeps running as started (restart lvsd to stop it)")
        case (let runner?, let changed?):
            if !runner.reconfigure(changed) {
                Log.warning("reload: vrrp_instance \(changed.name): a different instance (name, interface, virtual_router_id, version or unicast peers changed); VRRP keeps running as started (restart lvsd to apply it, the peer takes over meanwhile)")
            }
        }
    }

    /// Each health check in flight holds a descriptor: raise the soft limit to the hard one
    /// (at most 2^20) and let the monitor use half of it.
    static func raiseDescriptorLimit() -> Int {
        var limit = rlimit()
        guard getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 256 }
        let wanted = min(limit.rlim_max, 1 << 20)
        if limit.rlim_cur < wanted {
            limit.rlim_cur = wanted
            _ = setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit)
            _ = getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit)
        }
        return max(16, min(16384, (Int(limit.rlim_cur) - 128) / 2))
    }

    /// The AF_XDP backend's set-up (program, maps, one socket per worker, attachment), or nil
    /// after ONE log line naming the interface, the failed step and errno: lvsd then forwards
    /// with AF_PACKET, as it would without --backend af_xdp.
    func setUpXDP(interface: NetworkInterface, workers: Int) -> XDPBackend? {
        do {
            return try XDPBackend.setUp(interface: interface, workers: workers, mode: xdpMode,
                                        virtualAddresses: configuration.virtualAddresses,
                                        virtualNetworks: configuration.virtualNetworks, batchSize: batch)
        } catch {
            Log.warning("AF_XDP unavailable on \(interface.name) (\(error)); forwarding with AF_PACKET")
            return nil
        }
    }

    func makeEngine(interface: NetworkInterface,
                    connectionCapacity: Int) throws(EngineConfigurationError) -> ForwardingEngine {
        var random = SystemRandomNumberGenerator()
        let seed = random.next()
        return try ForwardingEngine(configuration: configuration, directorMAC: interface.mac,
                                    directorAddress: interface.address, connectionCapacity: connectionCapacity,
                                    hashSeed: seed, staticNeighbors: staticNeighbors, settings: settings,
                                    mtu: interface.mtu, destinationCapacity: destinationCapacity)
    }

    /// The sync daemon's role and counters, on one line (nil when none runs).
    static func syncSummary(_ sync: SyncDaemon) -> String? {
        guard let running = sync.running else { return nil }
        let c = sync.counters
        let i = c.imported
        return "sync \(running.role.rawValue): initial sync \(sync.initialSyncComplete ? "complete" : "pending"), sent \(c.recordsSent) records in \(c.messagesSent) messages (\(c.sendErrors) send errors, \(c.journalOverflows) journal overflows), received \(c.messagesReceived) messages (\(c.malformedMessages) malformed, \(c.otherSyncID) other sync ID): \(i.added) added, \(i.updated) updated, \(i.unknownService) unknown service, \(i.unknownDestination) unknown real server, \(i.tableFull) table full, \(i.invalid) invalid; tables served \(c.tablesServed), pulled \(c.tablesPulled)"
    }

    /// Non-zero counters and per-server connection counts, on one line.
    func summary(_ s: DataPlaneSnapshot) -> String {
        var parts = zip(DataPlaneCounter.slotNames, s.counters).filter { $0.1 != 0 }.map { "\($0.0)=\($0.1)" }
        for service in s.services {
            let servers = service.destinations.map { "\($0.address):\($0.port)=\($0.stats.connections)" }
            parts.append("\(service.key) conns: " + servers.joined(separator: " "))
        }
        if let wait = s.ringWait {
            parts.append("ring_wait_max_last_second_us=\(wait.maxLastSecondNanos / 1000)")
        }
        if !s.workers.isEmpty {
            parts.append("per worker: " + s.workers.enumerated().map { i, w in
                "\(i): conns=\(w.connections) forwarded_frames=\(w.forwardedFrames)"
                    + (w.ringWait.map { " ring_wait_max_last_second_us=\($0.maxLastSecondNanos / 1000)" } ?? "")
            }.joined(separator: ", "))
        }
        if let c = s.vipConflict { parts.append("last VIP conflict: \(c.mac) (\(c.senderAddress)) claimed \(c.vip)") }
        return parts.joined(separator: ", ")
    }

    /// Rewrites the stats file (atomically, by rename): the data plane's snapshot, and what a
    /// monitoring system needs besides — the VRRP instance's state, the sync daemon's role and
    /// counters, the health checks' verdicts — each present only when lvsd runs that part.
    func writeStats(_ snapshot: DataPlaneSnapshot, backend backendName: String, vrrp: VRRPInstanceRunner?, sync: SyncDaemon,
                    health: HealthMonitor?) {
        guard let statsFile else { return }
        var sections: [(name: String, value: String)] = []
        if let vrrp {
            sections.append(("vrrp", vrrp.status.withLock { $0 }.json(instance: vrrp.configuration.name)))
        }
        if sync.running != nil { sections.append(("sync", sync.statusJSON())) }
        if let health { sections.append(("health", health.status().json())) }
        let temporary = statsFile + ".tmp"
        guard let f = fopen(temporary, "w") else {
            Log.warning("cannot write \(temporary): \(String(cString: strerror(errno)))")
            return
        }
        fputs(snapshot.json(backend: backendName, sections: sections), f)
        fclose(f)
        rename(temporary, statsFile)
    }
}
