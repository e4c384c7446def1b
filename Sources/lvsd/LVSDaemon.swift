import ArgumentParser
import Glibc
import LVSConfig
import LVSCore
import LVSDataPlane

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
            Signals: SIGTERM/SIGINT stop, SIGUSR1 logs the counters.
            """)

    @Option(name: .long, help: "The interface on the real servers' segment (e.g. eth0).")
    var interface: String?

    @Option(name: .long, help: "Rules file in the ipvsadm -S format.")
    var rules: String

    @Option(name: .long, help: "Static real-server MACs, /etc/ethers format: `MAC IPv4` per line.")
    var neighbors: String?

    @Option(name: .long, help: "Write counters and per-server statistics as JSON here, every second and at exit.")
    var statsFile: String?

    @Option(name: .long, help: "Connection table slots, allocated at start.")
    var connections: Int = 1 << 20

    @Option(name: .long, help: "Frames in the receive ring.")
    var ringFrames: Int = 4096

    @Option(name: .long, help: "Frames handled (and sent with one sendmmsg) per loop turn.")
    var batch: Int = 64

    @Flag(name: .long, help: "Check the rules file and exit without forwarding.")
    var check = false

    func validate() throws {
        guard connections >= 64, connections <= 1 << 28 else {
            throw ValidationError("--connections must be between 64 and \(1 << 28)")
        }
        guard ringFrames >= 64, ringFrames <= 1 << 20 else {
            throw ValidationError("--ring-frames must be between 64 and \(1 << 20)")
        }
        guard batch >= 1, batch <= 1024 else { throw ValidationError("--batch must be between 1 and 1024") }
        if !check && interface == nil { throw ValidationError("--interface is required (unless --check)") }
    }

    func run() throws {
        let configuration: DirectorConfiguration
        do {
            configuration = try IpvsadmRules().load(path: rules)
        } catch {
            Log.error(error.description)
            throw ExitCode(2)
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
        if check {
            let servers = configuration.services.reduce(0) { $0 + $1.realServers.count }
            print("\(rules): OK: \(configuration.services.count) virtual services, \(servers) real servers")
            return
        }
        guard let interfaceName = interface else { throw ExitCode(2) }
        try Director(configuration: configuration, staticNeighbors: staticNeighbors, interfaceName: interfaceName,
                     statsFile: statsFile, connectionCapacity: connections, ringFrames: ringFrames, batch: batch).run()
    }
}
