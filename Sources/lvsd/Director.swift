import ArgumentParser
import Glibc
import LVSConfig
import LVSControlProtocol
import LVSCore
import LVSDataPlane
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
    var settings: DirectorSettings
    var socketPath: String
    var savedTable: SavedTable?

    func run() throws {
        let interface: NetworkInterface
        let worker: DataPlaneWorker
        let control: ControlServer
        do {
            interface = try NetworkInterface.lookup(interfaceName)
            if interface.kernelForwardsIPv4() {
                Log.warning("IPv4 forwarding is on for \(interface.name): the kernel would route VIP frames too and real servers would get every packet twice; set net.ipv4.conf.\(interface.name).forwarding=0")
            }
            var ringOptions = RingOptions()
            ringOptions.frameCount = ringFrames
            ringOptions.batchSize = batch
            let engine = try makeEngine(interface: interface)
            let socket = try PacketSocket(interface: interface, virtualAddresses: engine.virtualAddressList,
                                          virtualNetworks: engine.virtualNetworkList, options: ringOptions)
            worker = DataPlaneWorker(socket: socket, engine: engine, options: ringOptions)
            Log.info("\(interface.name): MAC \(interface.mac), address \(interface.address), MTU \(interface.mtu); ring \(socket.frameCount) × \(socket.frameSize) B, connection table \(engine.connections.capacity) slots")
            let listener = try ControlListener(path: socketPath)
            let table = TableController(configuration: configuration, worker: worker, savedTable: savedTable)
            control = ControlServer(listener: listener, worker: worker, table: table)
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
        worker.onReady = { unresolved in
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
        do {
            try worker.start()
            try control.start()
        } catch {
            Log.error(error.description)
            throw ExitCode(1)
        }

        var timeout = timespec(tv_sec: 1, tv_nsec: 0)
        var conflictsLogged: UInt64 = 0
        loop: while true {
            let s = sigtimedwait(&signals, nil, &timeout)
            switch s {
            case SIGINT, SIGTERM:
                break loop
            case SIGUSR1:
                Log.info(summary(worker.shared.snapshot.withLock { $0 }))
            case SIGHUP:
                Log.warning("SIGHUP: reloading a rules file is not supported yet; change the table with lvsadm (it is saved and restored), or restart lvsd")
            default:
                let snapshot = worker.shared.snapshot.withLock { $0 }
                writeStats(snapshot)
                if let c = snapshot.vipConflict, c.count > conflictsLogged {
                    // At most one line a second, however fast the other host ARPs.
                    Log.warning("ARP: \(c.mac) (\(c.senderAddress)) answers for VIP \(c.vip) (\(c.count) frames so far): another host claims the VIP, usually a real server whose VIP is not on a non-ARPing device; run `lvs-realserver check --vip \(c.vip)` on it")
                    conflictsLogged = c.count
                }
            }
        }
        SystemdNotifier.notify("STOPPING=1")
        control.stop()
        worker.stop()
        let final = worker.shared.snapshot.withLock { $0 }
        writeStats(final)
        Log.info("stopped: " + summary(final))
    }

    func makeEngine(interface: NetworkInterface) throws(EngineConfigurationError) -> ForwardingEngine {
        var random = SystemRandomNumberGenerator()
        let seed = random.next()
        return try ForwardingEngine(configuration: configuration, directorMAC: interface.mac,
                                    directorAddress: interface.address, connectionCapacity: connectionCapacity,
                                    hashSeed: seed, staticNeighbors: staticNeighbors, settings: settings,
                                    mtu: interface.mtu, destinationCapacity: destinationCapacity)
    }

    /// Non-zero counters and per-server connection counts, on one line.
    func summary(_ s: DataPlaneSnapshot) -> String {
        var parts = zip(DataPlaneCounter.slotNames, s.counters).filter { $0.1 != 0 }.map { "\($0.0)=\($0.1)" }
        for service in s.services {
            let servers = service.destinations.map { "\($0.address):\($0.port)=\($0.stats.connections)" }
            parts.append("\(service.key) conns: " + servers.joined(separator: " "))
        }
        if let c = s.vipConflict { parts.append("last VIP conflict: \(c.mac) (\(c.senderAddress)) claimed \(c.vip)") }
        return parts.joined(separator: ", ")
    }

    func writeStats(_ snapshot: DataPlaneSnapshot) {
        guard let statsFile else { return }
        let temporary = statsFile + ".tmp"
        guard let f = fopen(temporary, "w") else {
            Log.warning("cannot write \(temporary): \(String(cString: strerror(errno)))")
            return
        }
        fputs(snapshot.json(), f)
        fclose(f)
        rename(temporary, statsFile)
    }
}
