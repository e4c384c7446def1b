import ArgumentParser
import Glibc
import LVSConfig
import LVSControlProtocol
import LVSCore
import LVSDataPlane
import LVSHA
import LVSHealth

/// `lvsd`: the SwiftLVS director daemon. It owns the VIPs on one interface, answers ARP for
/// them, and forwards each connection to a real server by direct routing.
@main
struct LVSDaemon: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lvsd",
        abstract: "SwiftLVS director: a Linux Virtual Server in direct-routing mode, in userspace.",
        discussion: """
            Rules use the `ipvsadm -S` line format, e.g.
              -A -t 10.0.0.100:80 -s rr
              -a -t 10.0.0.100:80 -r 10.0.0.11:80 -g -w 1
            The VIPs must not be assigned to this host's interfaces: lvsd answers ARP for them.
            Firewall-mark services (-A -f 1) take the flows that --fwmark-rules marks, e.g.
              1  tcp  10.0.0.100  80,443
            The table starts from --rules if given, else from the saved table (--save-file) if it
            exists, else empty; lvsadm changes it through the control socket, and every change is
            saved to --save-file.
            With --config, the table comes from a keepalived.conf instead (its virtual_server
            blocks), and its health checkers run: failed real servers leave the table (or go to
            weight 0), recovered ones come back; SIGHUP reloads the file (docs/HEALTH.md).
            Signals: SIGTERM/SIGINT stop, SIGUSR1 logs the counters (and the health status),
            SIGHUP reloads --config.
            """)

    @Option(name: .long, help: "The interface on the real servers' segment (e.g. eth0).")
    var interface: String?

    @Option(name: .long, help: "Initial table: a rules file in the ipvsadm -S format (default: the saved table).")
    var rules: String?

    @Option(name: .long, help: ArgumentHelp(
        "Firewall-mark rules: `MARK tcp|udp ADDRESS[/PREFIX] PORTS` per line, first match wins; they mark the flows -f services take.",
        valueName: "file"))
    var fwmarkRules: String?

    @Option(name: .long, help: "A keepalived.conf: the table from its virtual_server blocks, and their health checks (not with --rules). SIGHUP reloads it.")
    var config: String?

    @Option(name: .long, help: ArgumentHelp(
        "VRRP for a director pair: a file in keepalived.conf syntax whose vrrp_instance block for --interface decides when this director owns the VIPs (default with --config: that file's vrrp_instance blocks). docs/HA.md.",
        valueName: "file"))
    var vrrpConfig: String?

    @Option(name: .long, help: "Where the table is saved on every change and restored from at start.")
    var saveFile: String = "/var/lib/lvsd/ipvsadm.rules"

    @Flag(name: .long, help: "Do not save the table (changes made with lvsadm are lost at exit).")
    var noSave = false

    @Option(name: .long, help: "The control socket lvsadm talks to (also: the LVSD_SOCKET environment variable).")
    var socket: String?

    @Option(name: .long, help: "Static real-server MACs, /etc/ethers format: `MAC IPv4` per line.")
    var neighbors: String?

    @Option(name: .long, help: "Write counters and per-server statistics as JSON here, every second and at exit.")
    var statsFile: String?

    @Option(name: .long, help: "Connection table slots, allocated at start.")
    var connections: Int = 1 << 20

    @Option(name: .long, help: "Real-server slots (all services together), allocated at start.")
    var maxRealServers: Int = 65536

    @Option(name: .long, help: "Frames in the receive ring.")
    var ringFrames: Int = 16384

    @Option(name: .long, help: "Frames handled (and sent with one sendmmsg) per loop turn.")
    var batch: Int = 64

    @Option(name: .long, help: ArgumentHelp(
        "Data-plane workers: each with its own ring and connection-table shard in one PACKET_FANOUT group; `auto`: one per CPU lvsd may run on (or per --cpu-list CPU).",
        valueName: "n|auto"))
    var workers: String = "1"

    @Option(name: .long, help: ArgumentHelp(
        "Pin worker i to the i-th CPU of this list, e.g. 0,2-3 (default: not pinned).", valueName: "cpus"))
    var cpuList: String?

    @Flag(name: .long, help: "Workers spin on their rings instead of sleeping in poll() when idle: lower latency, one busy CPU per worker.")
    var busyPoll = false

    @Option(name: .long, help: ArgumentHelp(
        "Microseconds an idle worker keeps looking at its ring before it sleeps in poll(): saves a wake-up per frame when frames come a few microseconds apart (request/response traffic); 0 sleeps at once. Not with --busy-poll, which never sleeps.",
        valueName: "usec"))
    var idleSpin: UInt64 = 0

    @Flag(name: .long, inversion: .prefixedNo, help: ArgumentHelp(
        "Keep the director's own IP stack out of VIP frames: an nftables netdev-ingress rule (table netdev lvsd, removed at exit) drops IPv4 to the VIPs after lvsd's packet tap. Default: on when nft is in PATH (else a warning); --kernel-drop makes a failure fatal, --no-kernel-drop leaves the stack to see them (with IP forwarding on it then forwards them and sends ICMP redirects)."))
    var kernelDrop: Bool?

    @Option(name: .long, help: ArgumentHelp(
        "The data path: af_packet (a TPACKET_V2 ring) or af_xdp (an XDP program redirects VIP frames to one AF_XDP socket per worker; if its set-up fails, lvsd says why in one line and uses af_packet).",
        valueName: "af_packet|af_xdp"))
    var backend: String = DataPlaneBackend.afPacket.rawValue

    @Option(name: .long, help: ArgumentHelp(
        "With --backend af_xdp: attach the XDP program in native (driver) mode, generic (skb) mode, or auto (native, else generic).",
        valueName: "auto|native|generic"))
    var xdpMode: String = XDPMode.auto.rawValue

    @Flag(name: .long, help: "Check the rules file and exit without forwarding.")
    var check = false

    @Option(name: .long, help: ArgumentHelp("Timeouts in seconds as `ipvsadm --set` takes them: TCP,TCPFIN,UDP (0 keeps a value).",
                                            valueName: "tcp,tcpfin,udp"))
    var timeouts: String?

    @Option(name: .long, help: "The conn_reuse_mode sysctl: 0, 1 (kernel default) or 3.")
    var connReuseMode: UInt8 = 1

    @Flag(name: .long, help: "The expire_nodest_conn sysctl: expire connections whose real server is gone.")
    var expireNodestConn = false

    @Flag(name: .long, help: "The expire_quiescent_template sysctl: stop honouring templates of weight-0 servers.")
    var expireQuiescentTemplate = false

    @Flag(name: .long, help: "The sloppy_tcp sysctl: let any TCP segment, not only a SYN, open a connection.")
    var sloppyTcp = false

    @Option(name: .long, help: ArgumentHelp(
        "Start the connection sync daemon in this role (master or backup) on --interface, as `lvsadm --start-daemon` would.",
        discussion: "A backup first pulls the master's whole table; lvsadm --start-daemon/--stop-daemon change it later."))
    var syncDaemon: String?

    @Option(name: .long, help: "With --sync-daemon: the peer director's unicast address instead of the multicast group 224.0.0.81 (lvsd's addition; a kernel peer listens on the group only).")
    var syncPeer: String?

    @Option(name: .long, help: "With --sync-daemon: the sync ID, 0-255 (0: a backup takes every ID).")
    var syncId: UInt8 = 0

    /// The settings the options ask for; `validate()` has checked them.
    var settings: DirectorSettings {
        var s = DirectorSettings()
        s.connectionReuseMode = connReuseMode
        s.expireNoDestinationConnections = expireNodestConn
        s.expireQuiescentTemplates = expireQuiescentTemplate
        s.sloppyTCP = sloppyTcp
        if let values = timeouts.flatMap(Self.parseTimeouts) {
            s.timeouts.set(tcp: values.0, tcpFin: values.1, udp: values.2)
        }
        return s
    }

    /// `TCP,TCPFIN,UDP`, each 0 (unchanged) to 31 days, as ipvsadm caps them.
    static func parseTimeouts(_ text: String) -> (UInt32, UInt32, UInt32)? {
        let parts = text.split(separator: ",", omittingEmptySubsequences: false).map { UInt32($0) }
        guard parts.count == 3, let tcp = parts[0], let fin = parts[1], let udp = parts[2],
              [tcp, fin, udp].allSatisfy({ $0 <= 31 * 24 * 3600 })
        else { return nil }
        return (tcp, fin, udp)
    }

    func validate() throws {
        guard connections >= 64, connections <= 1 << 28 else {
            throw ValidationError("--connections must be between 64 and \(1 << 28)")
        }
        guard ringFrames >= 64, ringFrames <= 1 << 20 else {
            throw ValidationError("--ring-frames must be between 64 and \(1 << 20)")
        }
        guard maxRealServers >= 1, maxRealServers <= 1 << 24 else {
            throw ValidationError("--max-real-servers must be between 1 and \(1 << 24)")
        }
        guard batch >= 1, batch <= 1024 else { throw ValidationError("--batch must be between 1 and 1024") }
        guard idleSpin <= 100_000 else {
            throw ValidationError("--idle-spin must be between 0 and 100000 microseconds (use --busy-poll to never sleep)")
        }
        guard DataPlaneBackend(rawValue: backend) != nil else {
            throw ValidationError("--backend must be af_packet or af_xdp, got '\(backend)'")
        }
        guard XDPMode(rawValue: xdpMode) != nil else {
            throw ValidationError("--xdp-mode must be auto, native or generic, got '\(xdpMode)'")
        }
        if config != nil && rules != nil {
            throw ValidationError("--config and --rules are mutually exclusive: the table comes from one of them")
        }
        if !check && interface == nil { throw ValidationError("--interface is required (unless --check)") }
        if let timeouts, Self.parseTimeouts(timeouts) == nil {
            throw ValidationError("--timeouts expects TCP,TCPFIN,UDP in seconds (0 keeps a value, at most 31 days), e.g. 900,120,300")
        }
        if let syncDaemon, syncDaemon != "master" && syncDaemon != "backup" {
            throw ValidationError("--sync-daemon must be master or backup")
        }
        if let syncPeer, IPv4Address(syncPeer) == nil {
            throw ValidationError("--sync-peer expects an IPv4 address, got '\(syncPeer)'")
        }
        do {
            _ = try placement()
        } catch {
            throw ValidationError(error.description)
        }
        guard [0, 1, 2, 3].contains(connReuseMode) else { throw ValidationError("--conn-reuse-mode must be 0, 1, 2 or 3") }
    }

    /// `--workers` and `--cpu-list` against the CPUs this process may run on.
    func placement() throws(WorkerPlacementError) -> WorkerPlacement {
        try WorkerPlacement.resolve(workers: workers, cpuList: cpuList, allowedCPUs: WorkerPool.allowedCPUs())
    }

    /// `--socket`, else $LVSD_SOCKET, else the default under /run.
    var socketPath: String {
        if let socket { return socket }
        if let value = getenv(ControlProtocol.socketEnvironmentVariable), value.pointee != 0 { return String(cString: value) }
        return ControlProtocol.defaultSocketPath
    }

    func run() throws {
        let savedTable = noSave ? nil : SavedTable(path: saveFile)
        var source = rules
        if source == nil, config == nil, let savedTable, savedTable.exists() { source = savedTable.path }
        var configuration = DirectorConfiguration()
        var keepalived: KeepalivedConfiguration?
        if let config {
            do {
                let loaded = try KeepalivedLoader.load(config)
                for warning in loaded.warnings { Log.warning(warning.description) }
                configuration = HealthMonitor.initialTable(for: loaded)
                keepalived = loaded
                source = config
            } catch {
                Log.error(error.description)
                throw ExitCode(2)
            }
        } else if let source {
            do {
                configuration = try IpvsadmRules().load(path: source)
            } catch {
                Log.error(error.description)
                throw ExitCode(2)
            }
        }
        if let fwmarkRules {
            do {
                configuration.markRules = try FirewallMarkRules.load(path: fwmarkRules)
            } catch {
                Log.error(error.description)
                throw ExitCode(2)
            }
        }
        var staticNeighbors: [IPv4Address: MACAddress] = [:]
        if let neighbors {
            do {
                staticNeighbors = try StaticNeighbors.load(path: neighbors)
            } catch {
                Log.error(error.description)
                throw ExitCode(2)
            }
        }
        var vrrp: VRRPInstanceConfiguration?
        do {
            vrrp = try vrrpInstance(keepalived: keepalived)
        } catch {
            Log.error(error.description)
            throw ExitCode(2)
        }
        if let vrrp {
            let uncovered = configuration.virtualAddresses.filter { !vrrp.virtualAddresses.contains($0) }
            if !uncovered.isEmpty {
                Log.warning("VRRP \(vrrp.name): VIPs \(uncovered.map(\.description).joined(separator: ", ")) are in the table but not in its virtual_ipaddress; they are owned and released with the instance all the same")
            }
        }
        let notes = configuration.firewallMarkNotes
        if check {
            let servers = configuration.services.reduce(0) { $0 + $1.realServers.count }
            var line = "\(source ?? "empty table"): OK: \(configuration.services.count) virtual services, \(servers) real servers"
            if let fwmarkRules { line += "; \(fwmarkRules): OK: \(configuration.markRules.rules.count) firewall-mark rules" }
            if let vrrp { line += "; VRRP instance \(vrrp.name): vrid \(vrrp.virtualRouterID), priority \(vrrp.priority)" }
            print(line)
            for note in notes { print("note: \(note)") }
            return
        }
        for note in notes { Log.warning(note) }
        guard let interfaceName = interface else { throw ExitCode(2) }
        var sync: SyncDaemonConfiguration?
        if let syncDaemon {
            sync = SyncDaemonConfiguration(role: syncDaemon == "master" ? .master : .backup, interface: interfaceName,
                                           syncID: syncId, group: syncPeer.flatMap { IPv4Address($0) } ?? SyncProtocol.defaultGroup)
        } else if let daemon = keepalived?.syncDaemon {
            if let named = daemon.vrrpInstance, named != vrrp?.name {
                Log.warning("lvs_sync_daemon follows vrrp_instance \(named), which lvsd does not run on \(interfaceName)\(vrrp.map { "; the role follows \($0.name) instead" } ?? "; the sync daemon stays backup until lvsadm --sync-role master")")
            }
            // keepalived.conf's lvs_sync_daemon: the role follows the VRRP instance, which
            // starts in BACKUP; the VRRP state hook calls SyncDaemon.setRole on a change.
            var options = daemon.options
            if options.interface == nil { options.interface = interfaceName }
            sync = SyncDaemonConfiguration(options)
        }
        var director = Director(configuration: configuration, staticNeighbors: staticNeighbors, interfaceName: interfaceName,
                                statsFile: statsFile, connectionCapacity: connections, destinationCapacity: maxRealServers,
                                ringFrames: ringFrames, batch: batch, settings: settings, socketPath: socketPath,
                                savedTable: savedTable, keepalived: keepalived, configPath: config, vrrp: vrrp)
        director.syncAtStart = sync
        let command = self
        director.readVRRP = { next throws(ConfigurationError) in try command.vrrpInstance(keepalived: next) }
        director.busyPoll = busyPoll
        director.idleSpinMicroseconds = idleSpin
        director.kernelDrop = kernelDrop.map { $0 ? .required : .off } ?? .bestEffort
        director.backend = DataPlaneBackend(rawValue: backend) ?? .afPacket
        director.xdpMode = XDPMode(rawValue: xdpMode) ?? .auto
        do {
            director.placement = try placement()
        } catch {
            Log.error(error.description)
            throw ExitCode(2)
        }
        try director.run()
    }

    /// The VRRP instance to run: from --vrrp-config, else from --config's vrrp_instance
    /// blocks; the one whose interface is --interface (others are for other interfaces and
    /// are left out with a warning). nil: no VRRP, the VIPs are always owned.
    func vrrpInstance(keepalived: KeepalivedConfiguration?) throws(ConfigurationError) -> VRRPInstanceConfiguration? {
        var blocks = keepalived?.vrrpInstances ?? []
        // The global vrrp_version and vrrp_strict of the file the blocks come from.
        var globalVersion = keepalived?.vrrpVersion
        var strict = keepalived?.vrrpStrict ?? false
        if let vrrpConfig {
            let file = try KeepalivedLoader.load(vrrpConfig)
            for warning in file.warnings { Log.warning(warning.description) }
            if !file.director.services.isEmpty {
                Log.warning("\(vrrpConfig): its virtual_server blocks are not read (the table comes from \(config ?? rules ?? "the saved table")); only vrrp_instance blocks are")
            }
            blocks = file.vrrpInstances
            globalVersion = file.vrrpVersion
            strict = file.vrrpStrict
        }
        guard !blocks.isEmpty else { return nil }
        let read = try VRRPConfigurationReader.read(blocks, globalVersion: globalVersion, strict: strict)
        for warning in read.warnings { Log.warning(warning.description) }
        // --check without --interface: every instance was checked; report the first.
        guard let interface else { return read.instances.first }
        let mine = read.instances.filter { $0.interface == interface }
        for other in read.instances where !mine.contains(other) {
            Log.warning("\(other.file):\(other.line): vrrp_instance \(other.name) is on \(other.interface), not on lvsd's --interface \(interface); not run")
        }
        guard mine.count <= 1, let first = mine.first else {
            if mine.count > 1 {
                throw ConfigurationError(file: mine[1].file, line: mine[1].line,
                                         message: "vrrp_instance \(mine[1].name): lvsd runs one VRRP instance on its interface, and \(mine[0].name) is already on \(mine[0].interface); keep one")
            }
            return nil
        }
        return first
    }
}
