import LVSCore
import Testing

/// Two engines as two workers' shards: traffic split by `FlowSteering`, and the director's
/// status as the sum of theirs.
@Suite struct WorkerTotalsTests {
    typealias Apply = ForwardingEngineApplyTests

    @Test func mergedStatusSumsCountersAndConcatenatesConnections() throws {
        let shards = [try Apply.engine(), try Apply.engine()]
        let steering = FlowSteering(workerCount: 2)
        var perShard = [0, 0]
        for port in UInt16(1000)..<1100 {
            let w = steering.worker(client: TestNetwork.client, clientPort: port)
            perShard[w] += 1
            #expect(Apply.tcp(shards[w], port: port, flags: Wire.tcpSYN, at: 0) != "-")
        }
        #expect(perShard[0] > 0 && perShard[1] > 0)
        let parts = shards.map { $0.status(now: 0, includeConnections: true) }
        let total = try #require(DirectorStatus.merging(parts))
        #expect(total.connectionTableSize == shards[0].connections.capacity + shards[1].connections.capacity)
        #expect(total.services.map(\.config.key) == parts[0].services.map(\.config.key))
        #expect(total.services[0].stats.connections == 100)
        #expect(total.services[0].stats.inPackets == 100)
        #expect(total.services[0].destinations.reduce(0) { $0 + $1.activeConnections } == 100)
        for (i, d) in total.services[0].destinations.enumerated() {
            #expect(d.activeConnections == parts[0].services[0].destinations[i].activeConnections
                    + parts[1].services[0].destinations[i].activeConnections)
            #expect(d.stats.connections == parts[0].services[0].destinations[i].stats.connections
                    + parts[1].services[0].destinations[i].stats.connections)
        }
        #expect(total.connections?.count == 100)
        #expect(Set(total.connections?.map(\.clientPort) ?? []) == Set(1000..<1100))
    }

    // rr is per worker (as IPVS's is per CPU): each shard's own rotation is exact, the sum
    // over the shards is close to even but not exactly.
    @Test func roundRobinIsExactPerWorker() throws {
        let shards = [try Apply.engine(), try Apply.engine()]
        let steering = FlowSteering(workerCount: 2)
        for port in UInt16(2000)..<2600 {
            _ = Apply.tcp(shards[steering.worker(client: TestNetwork.client, clientPort: port)], port: port,
                          flags: Wire.tcpSYN, at: 0)
        }
        for shard in shards {
            let counts = shard.status(now: 0, includeConnections: false).services[0].destinations.map(\.activeConnections)
            #expect((counts.max() ?? 0) - (counts.min() ?? 0) <= 1, "\(counts)")
        }
        let total = try #require(DirectorStatus.merging(shards.map { $0.status(now: 0, includeConnections: false) }))
        let counts = total.services[0].destinations.map(\.activeConnections)
        #expect(counts.reduce(0, +) == 600 && (counts.max() ?? 0) - (counts.min() ?? 0) <= 2, "\(counts)")
    }

    // Each 2 s tick adds 100 and 300 connections: 50/s and 150/s, 200/s together.
    @Test func rateEstimatorsAdd() {
        var a = RateEstimator()
        var b = RateEstimator()
        var sa = TrafficStats()
        var sb = TrafficStats()
        var sum = RateEstimator()
        for _ in 0..<40 {
            sa.connections += 100
            sb.connections += 300
            a.sample(sa)
            b.sample(sb)
            sum.sample(sa + sb)
        }
        // Equal up to the rounding of each part's `>> 2` (a few units of 2^-10 per second).
        #expect((a + b).connectionsPerSecond == sum.connectionsPerSecond)
        #expect((a + b).connectionsPerSecond == 200)
    }

    @Test func nothingToMerge() {
        #expect(DirectorStatus.merging([]) == nil)
    }
}

/// Worker 0 learns real servers' MACs from ARP and hands them to the other workers' engines.
@Suite struct SharedNeighborTests {
    @Test func adoptedMACsForwardWithoutCountingAgain() throws {
        let learner = try ForwardingEngine(configuration: ForwardingEngineTests.configuration(),
                                           directorMAC: TestNetwork.directorMAC, directorAddress: TestNetwork.directorIP,
                                           connectionCapacity: 64, hashSeed: 1)
        let other = try ForwardingEngine(configuration: ForwardingEngineTests.configuration(),
                                         directorMAC: TestNetwork.directorMAC, directorAddress: TestNetwork.directorIP,
                                         connectionCapacity: 64, hashSeed: 2)
        #expect(learner.learnedNeighbors.isEmpty)
        let learned = [LearnedNeighbor(address: TestNetwork.rs1, mac: TestNetwork.rs1MAC),
                       LearnedNeighbor(address: TestNetwork.rs2, mac: TestNetwork.rs2MAC),
                       LearnedNeighbor(address: TestNetwork.rs3, mac: TestNetwork.rs3MAC),
                       LearnedNeighbor(address: IPv4Address(192, 0, 2, 99), mac: TestNetwork.rs1MAC)]
        other.adoptNeighbors(learned, now: 0)
        #expect(Set(other.learnedNeighbors.map(\.address)) == [TestNetwork.rs1, TestNetwork.rs2, TestNetwork.rs3])
        #expect(other.counter(.neighborUpdates) == 0)
        // A SYN now gets a real server instead of waiting for ARP.
        #expect(ForwardingEngineApplyTests.tcp(other, port: 4000, flags: Wire.tcpSYN, at: 0) != "-")
    }
}
