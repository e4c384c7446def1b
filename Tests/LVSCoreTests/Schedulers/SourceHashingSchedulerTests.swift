import Testing
import LVSCore

/// §2 sh. Buckets come from `hash_32(port + addr, 8) = (v · 0x61C88647 mod 2³²) >> 24`, computed
/// with Python (`((v * 0x61C88647) & 0xffffffff) >> 24`). The fixture adds server k as
/// 10.0.1.k:80 and the list is the reverse of the add order.
///
/// Clients 192.0.2.1 … 192.0.2.8 (port ignored) hash to buckets
/// 50, 148, 246, 88, 185, 27, 125, 223.
@Suite struct SourceHashingSchedulerTests {
    static func client(_ k: UInt8, port: UInt16 = 1000) -> SchedulingContext {
        DestinationFixture.context(client: IPv4Address(192, 0, 2, k), port: port)
    }

    func picks(_ f: DestinationFixture, _ sh: inout SourceHashingScheduler, clients: ClosedRange<UInt8> = 1...8) -> [String] {
        clients.map { f.name(at: sh.schedule(f.list, context: Self.client($0))) }
    }

    @Test func bucketsMatchPython() {
        let buckets = (1...8).map { SourceHashingScheduler.bucket(address: IPv4Address(192, 0, 2, UInt8($0)), port: 0) }
        #expect(buckets == [50, 148, 246, 88, 185, 27, 125, 223])
        #expect(GoldenRatioHash.hash32(0xc000_0201, bits: 8) == 50)
    }

    // A, B, C weight 1 → list C B A; bucket i → position i mod 3:
    // 50→2 A, 148→1 B, 246→0 C, 88→1 B, 185→2 A, 27→0 C, 125→2 A, 223→1 B.
    @Test func goldenEqualWeights() {
        let f = DestinationFixture(["A": 1, "B": 1, "C": 1])
        var sh = SourceHashingScheduler(destinations: f.list)
        #expect(picks(f, &sh) == seq("A B C B A C A B"))
        // Same input, same server, every time.
        #expect(picks(f, &sh) == seq("A B C B A C A B"))
    }

    // A=3, B=1 → list B1 A3; the fill is B A A A, repeated: bucket i is B iff i mod 4 == 0.
    @Test func goldenWeightedFill() {
        let f = DestinationFixture(["A": 3, "B": 1])
        var sh = SourceHashingScheduler(destinations: f.list)
        #expect(sh.buckets.prefix(12).map { f.name(at: Int($0)) } == seq("B A A A B A A A B A A A"))
        #expect(sh.buckets.filter { $0 == 0 }.count == 64)
        // 148 and 88 are multiples of 4.
        #expect(picks(f, &sh) == seq("A B A B A A A A"))
    }

    // A=1, B=0, C=1 → list C1 B0 A1. B still takes one bucket per round (assigned before
    // ++count >= 0 is tested), so the table is C B A repeated and B owns 85 buckets; clients
    // landing there (148, 88, 223) get no server.
    @Test func weightZeroStillGetsBuckets() {
        let f = DestinationFixture(["A": 1, "B": 0, "C": 1])
        var sh = SourceHashingScheduler(destinations: f.list)
        #expect(sh.buckets.prefix(6).map { f.name(at: Int($0)) } == seq("C B A C B A"))
        #expect(sh.buckets.filter { $0 == 1 }.count == 85)
        #expect(picks(f, &sh) == seq("A - C - A C A -"))
    }

    // sh-fallback: client 2 (bucket 148 → B, weight 0) probes roffset = 148, 149, …:
    //   offset 0: (148 + 148) & 255 = 40 → B again; offset 1: (149 + 148) & 255 = 41 → A.
    // Python gives A for clients 2, 4 and 8; the others keep their first choice.
    @Test func fallbackSkipsUnavailable() {
        let f = DestinationFixture(["A": 1, "B": 0, "C": 1])
        var sh = SourceHashingScheduler(destinations: f.list, flags: .fallback)
        #expect(picks(f, &sh) == seq("A A C A A C A A"))
        // Overloaded is unavailable too: with A and B out, everything probes to C.
        f.setOverloaded("A", true)
        #expect(picks(f, &sh) == seq("C C C C C C C C"))
        f.setOverloaded("C", true)
        #expect(picks(f, &sh) == seq("- - - - - - - -"))
    }

    // Without fallback an overloaded server means no server, and only for its own clients.
    @Test func overloadedWithoutFallback() {
        let f = DestinationFixture(["A": 1, "B": 1, "C": 1])
        var sh = SourceHashingScheduler(destinations: f.list)
        f.setOverloaded("B", true)
        #expect(picks(f, &sh) == seq("A - C - A C A -"))
    }

    // sh-port: 192.0.2.1 from ports 1000, 1001, 1002, 40000 hashes to 42, 139, 237, 214
    // (positions 0, 1, 0, 1 → C, B, C, B); without the flag the port is 0 and all go to A.
    @Test func portFlag() {
        let f = DestinationFixture(["A": 1, "B": 1, "C": 1])
        var withPort = SourceHashingScheduler(destinations: f.list, flags: .port)
        var withoutPort = SourceHashingScheduler(destinations: f.list)
        let ports: [UInt16] = [1000, 1001, 1002, 40000]
        #expect(ports.map { f.name(at: withPort.schedule(f.list, context: Self.client(1, port: $0))) } == seq("C B C B"))
        #expect(ports.map { f.name(at: withoutPort.schedule(f.list, context: Self.client(1, port: $0))) } == seq("A A A A"))
    }

    @Test func noServers() {
        let f = DestinationFixture()
        var sh = SourceHashingScheduler(destinations: f.list, flags: .fallback)
        #expect(sh.buckets.allSatisfy { $0 == -1 })
        #expect(sh.schedule(f.list, context: Self.client(1)) == nil)
    }

    // sh is not consistent hashing: adding a fourth equal server to C B A re-deals the table
    // (bucket i: position i mod 3 → i mod 4 of a list one longer), and Python counts 193 of 256
    // buckets whose server changes. Rebuilding without a change moves nothing.
    @Test func addingAServerRedealsTheTable() {
        let f = DestinationFixture(["A": 1, "B": 1, "C": 1])
        var sh = SourceHashingScheduler(destinations: f.list)
        let before = sh.buckets.map { f.list.slot(at: Int($0)) }
        sh.destinationUpdated(f.list)
        #expect(sh.buckets.map { f.list.slot(at: Int($0)) } == before)
        f.add("D", weight: 1)
        sh.destinationAdded(f.list)
        let after = sh.buckets.map { f.list.slot(at: Int($0)) }
        #expect(zip(before, after).filter { $0 != $1 }.count == 193)
        // Removing D again restores the old table exactly.
        let position = f.remove("D")
        sh.destinationRemoved(at: position, f.list)
        #expect(sh.buckets.map { f.list.slot(at: Int($0)) } == before)
    }

    // Registered by name, with its flags.
    @Test func registry() {
        let f = DestinationFixture(["A": 1])
        #expect(SchedulerRegistry.implemented.contains("sh"))
        var instance = SchedulerRegistry.make("sh", destinations: f.list, flags: .port)
        #expect(instance?.name == "sh")
        #expect(instance?.schedule(f.list, context: Self.client(1)) == 0)
    }
}
