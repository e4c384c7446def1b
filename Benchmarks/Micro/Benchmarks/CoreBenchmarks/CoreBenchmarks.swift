import Benchmark
import BenchmarkFixtures
import LVSCore

// Every benchmark builds its fixture first and measures only between startMeasurement and
// stopMeasurement, so "Malloc (total)" counts the measured operations' allocations alone (the
// framework's own, 16 a sample here, fall outside). A sample is `scalingFactor` operations;
// the figures are per operation.

/// Established connections in the hit-path fixture: more than the caches hold in frames.
let flows = 4096
/// The worker's default ring batch (RingOptions.batchSize).
let batchSize = 64

// The fixtures are built once, outside any measurement; a sample only reads and rewrites
// them. nonisolated(unsafe): the framework runs one benchmark at a time on one thread.
nonisolated(unsafe) var established: EstablishedFlows?

func establishedFlows() -> EstablishedFlows {
    if let established { return established }
    do {
        let made = try EstablishedFlows(flows: flows)
        established = made
        return made
    } catch {
        preconditionFailure("benchmark fixture: \(error)")  // a configuration bug in this file
    }
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.wallClock, .throughput, .mallocCountTotal],
        timeUnits: .nanoseconds,
        scalingFactor: .kilo,
        maxDuration: .seconds(2),
        maxIterations: 100_000
    )

    Benchmark("Hit path: processBatch, 64 frames of established flows a call (per frame)") { benchmark in
        let fixture = establishedFlows()
        var next = 0
        benchmark.startMeasurement()
        var remaining = benchmark.scaledIterations.count
        while remaining > 0 {
            let count = min(batchSize, remaining, fixture.flows - next)
            var done = 0
            while done < count {
                done &+= fixture.engine.processBatch(fixture.frames + (next + done), count: count - done,
                                                     verdicts: fixture.verdicts + (next + done), now: 2)
            }
            for i in next..<(next + count) { fixture.restore(i) }
            next = (next + count) % fixture.flows
            remaining -= count
        }
        benchmark.stopMeasurement()
        blackHole(fixture.verdicts[0])
    }

    Benchmark("Hit path: process, one frame of an established flow a call (per frame)") { benchmark in
        let fixture = establishedFlows()
        var next = 0
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            blackHole(fixture.engine.process(fixture.frames[next], now: 2))
            fixture.restore(next)
            next = (next + 1) % fixture.flows
        }
        benchmark.stopMeasurement()
    }

    Benchmark("Connection table: find, 65536 connections in 2^20 slots (per lookup)") { benchmark in
        let (table, keys) = connectionTable(filled: true)
        var next = 0
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            blackHole(table.find(keys[next]))
            next = (next + 1) & (keys.count - 1)
        }
        benchmark.stopMeasurement()
    }

    Benchmark("Connection table: insert and remove, 65536 keys in 2^20 slots (per key)") { benchmark in
        let (table, keys) = connectionTable(filled: false)
        var next = 0
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            table.remove(table.insert(keys[next]))
            next = (next + 1) & (keys.count - 1)
        }
        benchmark.stopMeasurement()
    }

    Benchmark("Maglev (mh) table: 65537 slots for 1000 real servers (per build)",
              configuration: .init(scalingFactor: .one, maxDuration: .seconds(3), maxIterations: 200)) { benchmark in
        let servers = 1000
        let destinations = UnsafeMutablePointer<Destination>.allocate(capacity: servers)
        defer { destinations.deallocate() }
        for i in 0..<servers {
            (destinations + i).initialize(to: Destination(address: IPv4Address(UInt32(0x0A00_0000) + UInt32(i + 1)),
                                                          port: 80, weight: Int32(1 + i % 3)))
        }
        let list = DestinationList(slots: destinations, order: (0..<Int32(servers)).reversed().map { $0 })
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            blackHole(MaglevHashScheduler(destinations: list, flags: [], tableSize: 65537))
        }
        benchmark.stopMeasurement()
    }
}

/// A 2^20-slot table (lvsd's default) and 65536 distinct client keys for one VIP:80, inserted
/// or not.
func connectionTable(filled: Bool) -> (ConnectionTable, [ConnectionKey]) {
    let table = ConnectionTable(capacity: 1 << 20, seed: 7)
    let keys = (0..<65536).map { i in
        ConnectionKey(transport: 6, clientAddress: 0xC000_0200 &+ UInt32(i >> 10), clientPort: UInt16(1024 + i & 1023),
                      virtualAddress: EstablishedFlows.vip.value, virtualPort: 80)
    }
    if filled { for key in keys { _ = table.insert(key) } }
    return (table, keys)
}
