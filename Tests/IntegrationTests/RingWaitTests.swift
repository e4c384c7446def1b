import Foundation
import Testing

/// The stats file's `ring_wait_us`: how long frames waited in lvsd's receive ring, measured from
/// the kernel's TPACKET_V2 receive stamps, in the namespace test bed.
@Suite("Ring wait in the stats file", .serialized)
struct RingWaitTests {
    static let rules = DirectRoutingTests.rules

    /// `ring_wait_us` of the stats file (or of one worker's entry) as max and bucket counts.
    struct Figure {
        var maxLastSecond: Int
        var histogram: [String: Int]
        var samples: Int { histogram.values.reduce(0, +) }

        init?(_ member: Any?) {
            guard let object = member as? [String: Any],
                  let max = (object["max_last_second"] as? NSNumber)?.intValue,
                  let buckets = object["histogram"] as? [String: Any] else { return nil }
            maxLastSecond = max
            histogram = buckets.compactMapValues { ($0 as? NSNumber)?.intValue }
        }
    }

    static let bucketNames = ["lt_16", "lt_64", "lt_256", "lt_1024", "lt_4096", "ge_4096"]

    @Test("Traffic through lvsd fills ring_wait_us: every bucket present, turns counted, the last second's max well below 1 s")
    func statsFileShowsRingWait() throws {
        let bed = try TestBed()
        defer { bed.tearDown() }
        let director = try DirectorProcess(bed: bed, rules: Self.rules)
        defer { director.stop() }
        let out = try bed.check("client", """
            for i in $(seq 30); do curl -s --max-time 3 http://10.200.0.100/ || echo failed; done
            """, timeout: 120)
        #expect(!out.contains("failed"), "answers: \(out)")

        var figure: Figure?
        let deadline = Date().addingTimeInterval(4)
        while Date() < deadline {
            figure = (try? director.stats()).flatMap { Figure($0.object["ring_wait_us"]) }
            if let figure, figure.samples > 0 { break }
            usleep(200_000)
        }
        let wait = try #require(figure, "no ring_wait_us object in the stats file:\n\(director.log)")
        #expect(Set(wait.histogram.keys) == Set(Self.bucketNames), "buckets: \(wait.histogram)")
        // 30 connections are at least 30 × 3 frames from the client, each turn counts one.
        #expect(wait.samples > 0, "histogram: \(wait.histogram)")
        #expect(wait.maxLastSecond >= 0 && wait.maxLastSecond < 1_000_000, "max_last_second: \(wait.maxLastSecond) µs")
        // Some turns in the buckets below 4 ms (a shared machine may add a few slow ones).
        #expect(wait.samples - (wait.histogram["ge_4096"] ?? 0) > 0, "histogram: \(wait.histogram)")
    }

    @Test("lvsd stopped (SIGSTOP) for 400 ms with frames in its ring: max_last_second shows ≥ 350 ms after SIGCONT, the ≥ 4 ms bucket counts it")
    func stoppedWorkerShowsTheWait() throws {
        let bed = try TestBed()
        defer { bed.tearDown() }
        let director = try DirectorProcess(bed: bed, rules: Self.rules)
        defer { director.stop() }
        let pid = director.process.processIdentifier
        // A first datagram, so lvsd has a second of ordinary turns behind it.
        try bed.check("client", "python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.sendto(b\"x\", (\"10.200.0.100\", 9000))'")
        var first: Figure?
        let firstDeadline = Date().addingTimeInterval(4)
        while Date() < firstDeadline {
            first = (try? director.stats()).flatMap { Figure($0.object["ring_wait_us"]) }
            if let first, first.samples > 0 { break }
            usleep(200_000)
        }
        let before = try #require(first, "no ring_wait_us:\n\(director.log)")
        #expect(before.samples > 0, "the first datagram's turn: \(before.histogram)")
        usleep(1_100_000)

        let stopMillis = 400
        #expect(kill(pid, SIGSTOP) == 0)
        var continued = false
        defer { if !continued { kill(pid, SIGCONT) } }
        // 20 datagrams of 5 flows into the stopped lvsd's ring (the kernel stamps each as it
        // copies it in); the clock for the stop starts after they are sent.
        try bed.check("client", """
            python3 - <<'PY'
            import socket
            for i in range(20):
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                s.bind(("10.200.0.10", 42000 + i % 5))
                s.sendto(b"queued", ("10.200.0.100", 9000))
                s.close()
            PY
            """)
        usleep(useconds_t(stopMillis * 1000))
        #expect(kill(pid, SIGCONT) == 0)
        continued = true

        // The figure is the maximum of the worker's last whole second, published once a second;
        // SIGUSR1 logs it at once (and asking every 150 ms cannot step over a one-second window).
        var seenMax = 0
        let deadline = Date().addingTimeInterval(3)
        while Date() < deadline {
            kill(pid, SIGUSR1)
            usleep(150_000)
            for line in director.log.split(separator: "\n") {
                guard let range = line.range(of: #"ring_wait_max_last_second_us=\d+"#, options: .regularExpression),
                      let value = Int(line[range].split(separator: "=").last ?? "") else { continue }
                seenMax = max(seenMax, value)
            }
            if seenMax >= (stopMillis - 50) * 1000 { break }
        }
        #expect(seenMax >= (stopMillis - 50) * 1000, "largest ring_wait_max_last_second_us logged: \(seenMax); log:\n\(director.log)")
        // Below the stop plus a generous margin for a busy machine: the stamp is the kernel's
        // receive time, not something older.
        #expect(seenMax < (stopMillis + 2000) * 1000, "largest ring_wait_max_last_second_us logged: \(seenMax)")

        // The stats file (rewritten once a second, now that SIGUSR1 stopped) counts the turn in
        // the ≥ 4 ms bucket.
        var after: Figure?
        let fileDeadline = Date().addingTimeInterval(3)
        while Date() < fileDeadline {
            after = (try? director.stats()).flatMap { Figure($0.object["ring_wait_us"]) }
            if let after, (after.histogram["ge_4096"] ?? 0) > (before.histogram["ge_4096"] ?? 0) { break }
            usleep(200_000)
        }
        let stopped = try #require(after)
        #expect((stopped.histogram["ge_4096"] ?? 0) > (before.histogram["ge_4096"] ?? 0),
                "before: \(before.histogram), after: \(stopped.histogram)")
        #expect(director.stop() == 0, "lvsd exit status; log:\n\(director.log)")
    }
}
