import Foundation
import LVSCore
import Testing

/// `lvsd --workers 2`: two workers in one PACKET_FANOUT group, each with its own connection
/// shard, in the namespace test bed.
@Suite("Several data-plane workers", .serialized)
struct MultiWorkerTests {
    static let rules = DirectRoutingTests.rules

    /// Per-worker connection counts from the stats file (its "workers" array).
    static func workerConnections(_ stats: DirectorProcess.Stats) -> [Int] {
        (stats.object["workers"] as? [[String: Any]] ?? []).map { ($0["connections"] as? NSNumber)?.intValue ?? -1 }
    }

    /// Waits (at most 5 s) until the stats file (written once a second) shows `total`
    /// connections, and returns it as it then is.
    static func statsWhen(_ director: DirectorProcess, connections total: Int) throws -> DirectorProcess.Stats {
        let deadline = Date().addingTimeInterval(5)
        while Date() < deadline {
            if let stats = try? director.stats(), (stats.object["connections"] as? NSNumber)?.intValue == total {
                return stats
            }
            usleep(200_000)
        }
        return try director.stats()
    }

    @Test("The kernel's fanout choice is FlowSteering's: UDP from 48 chosen client ports lands 36/12 on the two workers")
    func kernelSteeringMatchesTheFlowFunction() throws {
        let bed = try TestBed()
        defer { bed.tearDown() }
        let director = try DirectorProcess(bed: bed, rules: Self.rules, extraArguments: ["--workers", "2"])
        defer { director.stop() }
        // Ports chosen so the split is lopsided: an even or random steering would not give it.
        let steering = FlowSteering(workerCount: 2)
        let client = IPv4Address(10, 200, 0, 10)
        let candidates = Array(UInt16(40000)..<UInt16(41000))
        let toZero = candidates.filter { steering.worker(client: client, clientPort: $0) == 0 }.prefix(36)
        let toOne = candidates.filter { steering.worker(client: client, clientPort: $0) == 1 }.prefix(12)
        let ports = (toZero + toOne).map(String.init).joined(separator: ",")
        try bed.check("client", """
            python3 - <<'PY'
            import socket, time
            for p in [\(ports)]:
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                s.bind(("10.200.0.10", p))
                s.sendto(b"steer", ("10.200.0.100", 9000))
                s.close()
                time.sleep(0.005)
            PY
            """, timeout: 30)
        let stats = try Self.statsWhen(director, connections: 48)
        #expect(Self.workerConnections(stats) == [36, 12], "per worker: \(Self.workerConnections(stats)); log:\n\(director.log)")
    }

    @Test("200 HTTP requests through two workers: all answered, both workers hold connections, lvsadm shows the sums, a weight-0 edit reaches both")
    func twoWorkersShareTheLoad() throws {
        let bed = try TestBed()
        defer { bed.tearDown() }
        let director = try DirectorProcess(bed: bed, rules: Self.rules, extraArguments: ["--workers", "2"])
        defer { director.stop() }
        #expect(director.log(contains: "2 workers in one fanout group"))

        let out = try bed.check("client", """
            for i in $(seq 200); do curl -s --max-time 3 http://10.200.0.100/ || echo failed; done
            """, timeout: 240)
        var answers: [String: Int] = [:]
        for line in out.split(separator: "\n") { answers[String(line), default: 0] += 1 }
        #expect(answers["failed"] == nil, "answers: \(answers)")
        #expect(answers.values.reduce(0, +) == 200 && answers.keys.allSatisfy { $0.hasPrefix("rs") }, "answers: \(answers)")

        let stats = try Self.statsWhen(director, connections: 200)
        let perWorker = Self.workerConnections(stats)
        #expect(perWorker.count == 2 && perWorker.allSatisfy { $0 > 20 } && perWorker.reduce(0, +) == 200,
                "per worker: \(perWorker)")
        // Each server's count is the sum over the workers; lvsadm's listing shows the same sums.
        let perServer = stats.connectionsPerServer(port: 80)
        #expect(perServer.values.reduce(0, +) == 200, "\(perServer)")
        for (server, count) in answers {
            let address = "10.200.0.1\(server.dropFirst(2))"
            #expect(perServer[address] == count, "\(server): \(perServer)")
        }
        let listing = try director.lvsadm(["-L", "-n", "--stats"])
        #expect(listing.status == 0)
        for (address, count) in perServer {
            let line = listing.stdout.split(separator: "\n").first { $0.contains("\(address):80") }
            let conns = line.flatMap { $0.split(separator: " ", omittingEmptySubsequences: true).dropFirst(2).first }
            #expect(conns.map(String.init) == String(count), "\(address): \(listing.stdout)")
        }
        let connections = try director.lvsadm(["-L", "-n", "-c"])
        let entries = connections.stdout.split(separator: "\n").filter { $0.hasPrefix("TCP") }
        #expect(entries.count == 200, "lvsadm -L -c lists \(entries.count) entries")
        let active = try director.lvsadm(["-L", "-n"])
        let inactiveSum = active.stdout.split(separator: "\n").filter { $0.contains("-> 10.200.0.1") }
            .compactMap { Int($0.split(separator: " ", omittingEmptySubsequences: true).last ?? "") }.reduce(0, +)
        #expect(inactiveSum == 200, "InActConn summed over workers: \(active.stdout)")

        // A table change goes to both workers: rs1 at weight 0 gets nothing new.
        #expect(try director.lvsadm(["-e", "-t", "10.200.0.100:80", "-r", "10.200.0.11:80", "-g", "-w", "0"]).status == 0)
        let after = try bed.check("client", """
            for i in $(seq 40); do curl -s --max-time 3 http://10.200.0.100/ || echo failed; done
            """, timeout: 120)
        var later: [String: Int] = [:]
        for line in after.split(separator: "\n") { later[String(line), default: 0] += 1 }
        #expect(later["rs1"] == nil && later["failed"] == nil && later.values.reduce(0, +) == 40, "after -w 0: \(later)")
        let perWorkerAfter = Self.workerConnections(try Self.statsWhen(director, connections: 240))
        #expect(perWorkerAfter.count == 2 && zip(perWorkerAfter, perWorker).allSatisfy { $0 > $1 },
                "both workers took new connections: \(perWorker) → \(perWorkerAfter)")
        #expect(director.stop() == 0, "lvsd exit status; log:\n\(director.log)")
    }

    @Test("--busy-poll with two workers pinned: 50 requests answered, both workers took some")
    func busyPollForwards() throws {
        let bed = try TestBed()
        defer { bed.tearDown() }
        let director = try DirectorProcess(bed: bed, rules: Self.rules,
                                           extraArguments: ["--workers", "2", "--cpu-list", "0,1", "--busy-poll"])
        defer { director.stop() }
        #expect(director.log(contains: "2 workers in one fanout group (on CPUs 0,1)"))
        // Two workers spinning on both CPUs of a 2-CPU machine share them with every other
        // suite running in parallel: generous time-outs, this checks forwarding, not latency.
        let out = try bed.check("client", """
            for i in $(seq 50); do curl -s --max-time 15 http://10.200.0.100/ || echo failed; done
            """, timeout: 400)
        let answers = out.split(separator: "\n")
        #expect(answers.count == 50 && answers.allSatisfy { $0.hasPrefix("rs") }, "answers: \(answers)")
        let perWorker = Self.workerConnections(try Self.statsWhen(director, connections: 50))
        #expect(perWorker.count == 2 && perWorker.allSatisfy { $0 > 0 } && perWorker.reduce(0, +) == 50,
                "per worker: \(perWorker)")
        #expect(director.stop() == 0, "lvsd exit status; log:\n\(director.log)")
    }
}
