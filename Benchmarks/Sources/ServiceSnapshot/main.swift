import LVSCore
import LVSDataPlane
#if canImport(Glibc)
import Glibc
#endif

// The worker's once-a-second snapshot of a big service table: SERVICES TCP services (VIP
// 10.0.0.100, ports 1...SERVICES) of two real servers each (2 x SERVICES server slots),
// then SNAPSHOTS `DataPlaneSnapshot(engine:)` builds. Benchmarks/run.sh counts the
// instructions of two snapshot counts under callgrind, so set-up cancels out, at two table
// sizes: a linear snapshot costs the same per service at both.
// Usage: ServiceSnapshot SERVICES SNAPSHOTS [each]
// With `each`, the services' totals are read one `stats(service:)` call a service instead (a
// sweep of all slots per service, what the snapshot did before `serviceTotals`), for the
// side-by-side figure.
let arguments = CommandLine.arguments
let serviceCount = arguments.count > 1 ? max(1, Int(arguments[1]) ?? 1000) : 1000
let snapshots = arguments.count > 2 ? max(0, Int(arguments[2]) ?? 1) : 1
let eachService = arguments.count > 3 && arguments[3] == "each"
let vip = IPv4Address(10, 0, 0, 100)
let servers = (1...2).map { IPv4Address(10, 0, 1, UInt8($0)) }
let config = DirectorConfiguration(services: (1...serviceCount).map { port in
    VirtualServiceConfig(key: VirtualServiceKey(transport: .tcp, address: vip, port: UInt16(truncatingIfNeeded: port)),
                         scheduler: "rr",
                         realServers: servers.map { RealServerConfig(address: $0, port: 80) })
})
let engine: ForwardingEngine
do {
    engine = try ForwardingEngine(
        configuration: config, directorMAC: MACAddress(value: 0x0200_0000_0001),
        directorAddress: IPv4Address(10, 0, 0, 2), connectionCapacity: 1 << 10, hashSeed: 42,
        staticNeighbors: Dictionary(uniqueKeysWithValues: servers.enumerated().map {
            ($0.element, MACAddress(value: 0x0200_0000_0100 | UInt64($0.offset + 1)))
        }),
        destinationCapacity: max(65536, 2 * serviceCount))
} catch {
    print("setup failed: \(error)")
    exit(1)
}
var packets: UInt64 = 0
var services = 0
for _ in 0..<snapshots {
    if eachService {
        // The per-service reads alone (the rest of the snapshot is the same either way).
        for s in 0..<engine.services.count { packets &+= engine.stats(service: s).inPackets }
        services &+= engine.services.count
    } else {
        let snapshot = DataPlaneSnapshot(engine: engine)
        services &+= snapshot.services.count
        packets &+= snapshot.services.reduce(0) { $0 &+ $1.stats.inPackets }
    }
}
print("services \(engine.services.count) slots \(engine.destinationCount) snapshots \(snapshots) read \(services) packets \(packets)")
