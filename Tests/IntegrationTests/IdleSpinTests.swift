import Foundation
import Testing

/// `lvsd --idle-spin`: an idle worker looks at its ring a while longer before it sleeps, so
/// frames a few microseconds apart find it awake; and it does sleep once traffic pauses.
@Suite("lvsd --idle-spin", .serialized)
struct IdleSpinTests {
    static let rules = """
        -A -t 10.200.0.100:80 -s rr
        -a -t 10.200.0.100:80 -r 10.200.0.11:80 -g -w 1
        -a -t 10.200.0.100:80 -r 10.200.0.12:80 -g -w 1

        """

    /// The worker thread's voluntary context switches (its sleeps in poll()) and CPU time in
    /// clock ticks, from /proc: the thread named `lvsd-worker-0`.
    static func worker(_ director: DirectorProcess) throws -> (sleeps: Int, ticks: Int) {
        let pid = director.process.processIdentifier
        let tasks = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")
        for tid in tasks {
            let comm = (try? String(contentsOfFile: "/proc/\(pid)/task/\(tid)/comm", encoding: .utf8)) ?? ""
            guard comm.hasPrefix("lvsd-worker-0") else { continue }
            let status = try String(contentsOfFile: "/proc/\(pid)/task/\(tid)/status", encoding: .utf8)
            let line = status.split(separator: "\n").first { $0.hasPrefix("voluntary_ctxt_switches:") }
            let stat = try String(contentsOfFile: "/proc/\(pid)/task/\(tid)/stat", encoding: .utf8)
            // Fields after the ")" that ends the name: state is field 3, utime 14, stime 15.
            let fields = stat[(stat.lastIndex(of: ")") ?? stat.startIndex)...].split(separator: " ")
            guard let line, let sleeps = Int(line.split(separator: "\t").last ?? ""),
                  fields.count > 13, let user = Int(fields[12]), let system = Int(fields[13]) else {
                throw IntegrationError(description: "cannot read the worker's /proc entries: \(status) \(stat)")
            }
            return (sleeps, user + system)
        }
        throw IntegrationError(description: "no thread lvsd-worker-0 in /proc/\(pid)/task")
    }

    /// Sleeps of the worker while the client fetches `count` pages, one connection each.
    static func sleepsDuring(_ bed: TestBed, _ director: DirectorProcess, count: Int) throws -> Int {
        let before = try worker(director).sleeps
        let out = try bed.check("client", """
            for i in $(seq \(count)); do curl -s --max-time 3 http://10.200.0.100/ || echo failed; done
            """, timeout: 120)
        let answers = out.split(separator: "\n")
        #expect(answers.count == count && answers.allSatisfy { $0.hasPrefix("rs") }, "answers: \(answers)")
        return try worker(director).sleeps - before
    }

    @Test("With --idle-spin 20000 the worker sleeps at least three times less than without; idle for 2 s it uses under a fifth of its CPU")
    func spinSavesWakeUpsAndStillSleeps() throws {
        let bed = try TestBed()
        defer { bed.tearDown() }
        let requests = 40

        let plain = try DirectorProcess(bed: bed, rules: Self.rules)
        _ = try Self.sleepsDuring(bed, plain, count: 2)  // ARP and first-use warm-up
        let plainSleeps = try Self.sleepsDuring(bed, plain, count: requests)
        #expect(plain.stop() == 0)

        let spinning = try DirectorProcess(bed: bed, rules: Self.rules, extraArguments: ["--idle-spin", "20000"])
        defer { spinning.stop() }
        _ = try Self.sleepsDuring(bed, spinning, count: 2)
        let spinSleeps = try Self.sleepsDuring(bed, spinning, count: requests)
        // A curl connection is 5-6 frames to the director, tens of microseconds apart
        // (handshake, request, ACKs, FIN), and the next curl starts a few milliseconds later:
        // without a spin the worker sleeps between most frames, with 20 ms it hardly sleeps.
        #expect(plainSleeps >= requests * 3, "without a spin the worker slept only \(plainSleeps) times for \(requests) connections")
        #expect(spinSleeps * 3 <= plainSleeps, "with the spin: \(spinSleeps) sleeps, without: \(plainSleeps)")

        // Idle: the spin ends and the worker sleeps (poll wakes it every 100 ms at most).
        let ticksPerSecond = Int(sysconf(Int32(_SC_CLK_TCK)))
        let before = try Self.worker(spinning).ticks
        usleep(2_000_000)
        let idleTicks = try Self.worker(spinning).ticks - before
        #expect(idleTicks * 5 < 2 * ticksPerSecond, "idle for 2 s, the worker used \(idleTicks) ticks of \(ticksPerSecond)/s")
        #expect(spinning.stop() == 0, "lvsd exit status; log:\n\(spinning.log)")
    }

    @Test("--idle-spin above 100000 microseconds is refused, naming the bound")
    func tooLongASpinIsRefused() throws {
        let r = try Shell.run([Shell.lvsdPath, "--interface", "lo", "--idle-spin", "100001", "--check"], timeout: 20)
        #expect(r.status != 0)
        #expect(r.stderr.contains("--idle-spin must be between 0 and 100000"), "stderr: \(r.stderr)")
    }
}
