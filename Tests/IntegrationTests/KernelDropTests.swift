import Foundation
import Testing

/// The kernel drop (lvsd's default; `--kernel-drop` insists, `--no-kernel-drop` leaves it out):
/// lvsd's packet tap sees VIP frames before the nftables netdev ingress hook, so a drop there
/// keeps the director's own IP stack out of them without stopping lvsd.
@Suite("lvsd kernel drop", .serialized)
struct KernelDropTests {
    static let rules = """
        -A -t 10.200.0.100:80 -s rr
        -a -t 10.200.0.100:80 -r 10.200.0.11:80 -g -w 1
        -a -t 10.200.0.100:80 -r 10.200.0.12:80 -g -w 1

        """

    /// The director stack's count of IPv4 packets addressed to none of its addresses: what it
    /// counts for every VIP frame it receives (ip_forward=0, the VIP not assigned there).
    static func addressErrors(_ bed: TestBed) throws -> Int {
        let out = try bed.check("director", "nstat -asz IpInAddrErrors")
        let line = out.split(separator: "\n").first { $0.hasPrefix("IpInAddrErrors") }
        guard let value = line?.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first,
              let n = Int(value) else {
            throw IntegrationError(description: "no IpInAddrErrors in nstat's output: \(out)")
        }
        return n
    }

    static func fetch(_ bed: TestBed, count: Int) throws -> [String] {
        let out = try bed.check("client", """
            for i in $(seq \(count)); do curl -s --max-time 3 http://10.200.0.100/ || echo failed; done
            """, timeout: 120)
        return out.split(separator: "\n").map(String.init)
    }

    @Test("With --no-kernel-drop the director's IP stack counts every VIP packet; by default lvsd still forwards and the stack sees none; the table follows lvsadm and goes at exit")
    func kernelDropKeepsTheStackOutOfVIPFrames() throws {
        let bed = try TestBed()
        defer { bed.tearDown() }

        // The control: without the drop the stack receives each VIP packet too.
        let plain = try DirectorProcess(bed: bed, rules: Self.rules, extraArguments: ["--no-kernel-drop"])
        let plainBefore = try Self.addressErrors(bed)
        let plainAnswers = try Self.fetch(bed, count: 10)
        let plainAfter = try Self.addressErrors(bed)
        _ = plain.stop()
        #expect(plainAnswers.allSatisfy { $0.hasPrefix("rs") }, "answers: \(plainAnswers)")
        #expect(plainAfter - plainBefore >= 10 * 3, "IpInAddrErrors grew by \(plainAfter - plainBefore) only")

        let director = try DirectorProcess(bed: bed, rules: Self.rules)
        defer { director.stop() }
        #expect(director.log(contains: "kernel drop: table netdev lvsd"), "log: \(director.log)")
        let table = try bed.check("director", "nft list table netdev lvsd")
        #expect(table.contains("10.200.0.100") && table.contains("drop") && table.contains("eth0"), "table: \(table)")
        let before = try Self.addressErrors(bed)
        let answers = try Self.fetch(bed, count: 10)
        let after = try Self.addressErrors(bed)
        #expect(answers.allSatisfy { $0.hasPrefix("rs") }, "answers: \(answers)")
        #expect(Set(answers).count == 2, "answers: \(answers)")
        #expect(after == before, "IpInAddrErrors grew by \(after - before) with the drop in place")

        // A VIP added with lvsadm reaches the rule within the 1-second housekeeping turn.
        try director.lvsadm(["-A", "-t", "10.200.0.101:80", "-s", "rr"])
        var updated = ""
        for _ in 0..<30 {
            updated = try bed.check("director", "nft list table netdev lvsd")
            if updated.contains("10.200.0.101") { break }
            usleep(100_000)
        }
        #expect(updated.contains("10.200.0.101") && updated.contains("10.200.0.100"), "table: \(updated)")

        #expect(director.stop() == 0)
        let gone = try bed.sh("director", "nft list table netdev lvsd")
        #expect(gone.status != 0, "table still there after exit: \(gone.stdout)")
    }

    /// The director stack's counters of what it does with a frame it forwards.
    static func forwardingCounters(_ bed: TestBed) throws -> [String: Int] {
        let names = ["IpForwDatagrams", "IcmpOutRedirects", "IcmpOutDestUnreachs"]
        let out = try bed.check("director", "nstat -asz \(names.joined(separator: " "))")
        var counters: [String: Int] = [:]
        for line in out.split(separator: "\n") {
            let f = line.split(separator: " ", omittingEmptySubsequences: true)
            if f.count >= 2, names.contains(String(f[0])), let n = Int(f[1]) { counters[String(f[0])] = n }
        }
        guard counters.count == names.count else {
            throw IntegrationError(description: "nstat did not give \(names): \(out)")
        }
        return counters
    }

    @Test("IP forwarding on in the director: with --no-kernel-drop its stack forwards VIP frames and sends the client ICMP redirects (and lvsd warns); by default it never sees them")
    func forwardingDirectorSendsNoRedirectsByDefault() throws {
        let bed = try TestBed()
        defer { bed.tearDown() }
        try bed.check("director", "sysctl -qw net.ipv4.conf.all.forwarding=1 net.ipv4.conf.eth0.forwarding=1")

        // The hazard the default removes: the stack routes each VIP frame back out of eth0.
        let exposed = try DirectorProcess(bed: bed, rules: Self.rules, extraArguments: ["--no-kernel-drop"])
        #expect(exposed.log(contains: "IP forwarding is on for eth0 and no kernel drop is in place"), "log: \(exposed.log)")
        #expect(exposed.log(contains: "start lvsd without --no-kernel-drop"), "log: \(exposed.log)")
        let exposedBefore = try Self.forwardingCounters(bed)
        let exposedAnswers = try Self.fetch(bed, count: 5)
        let exposedAfter = try Self.forwardingCounters(bed)
        _ = exposed.stop()
        #expect(exposedAnswers.allSatisfy { $0.hasPrefix("rs") }, "answers: \(exposedAnswers)")
        #expect(exposedAfter["IpForwDatagrams", default: 0] - exposedBefore["IpForwDatagrams", default: 0] >= 5,
                "the stack forwarded \(exposedAfter["IpForwDatagrams", default: 0] - exposedBefore["IpForwDatagrams", default: 0]) VIP packets only")
        #expect(exposedAfter["IcmpOutRedirects", default: 0] > exposedBefore["IcmpOutRedirects", default: 0],
                "no ICMP redirect: \(exposedBefore) -> \(exposedAfter)")

        let director = try DirectorProcess(bed: bed, rules: Self.rules)
        defer { director.stop() }
        #expect(!director.log(contains: "IP forwarding is on"), "log: \(director.log)")
        let before = try Self.forwardingCounters(bed)
        let answers = try Self.fetch(bed, count: 10)
        let after = try Self.forwardingCounters(bed)
        #expect(answers.allSatisfy { $0.hasPrefix("rs") }, "answers: \(answers)")
        #expect(after == before, "the stack still handled VIP frames: \(before) -> \(after)")
        #expect(director.stop() == 0)
    }

    @Test("No nft in PATH and no --kernel-drop: lvsd starts, forwards, and warns that the stack sees the VIP frames")
    func missingNftByDefaultIsAWarning() throws {
        let bed = try TestBed()
        defer { bed.tearDown() }
        try bed.check("director", "sysctl -qw net.ipv4.conf.eth0.forwarding=1")
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("lvsd-nonft-default-\(bed.prefix)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let rules = dir.appendingPathComponent("rules")
        try Self.rules.write(to: rules, atomically: true, encoding: .utf8)
        // lvsd runs 4 s, then SIGTERM (a clean stop); meanwhile the client fetches through it.
        let script = dir.appendingPathComponent("run.sh")
        try """
            ip netns exec \(bed.namespace("director")) timeout -s TERM 4 env PATH=/nonexistent \(Shell.lvsdPath) --interface eth0 \
                --rules \(rules.path) --no-save --socket \(dir.appendingPathComponent("s").path) 2>\(dir.appendingPathComponent("log").path) &
            sleep 1.5
            ip netns exec \(bed.namespace("client")) curl -s --max-time 2 http://10.200.0.100/ || echo failed
            wait
            """.write(to: script, atomically: true, encoding: .utf8)
        let r = try Shell.run(["bash", script.path], timeout: 20)
        let log = (try? String(contentsOf: dir.appendingPathComponent("log"), encoding: .utf8)) ?? ""
        #expect(r.stdout.hasPrefix("rs"), "answer: \(r.stdout) \(r.stderr); log: \(log)")
        #expect(log.contains("the kernel drop needs nft") && log.contains("the director's own IP stack receives the VIP frames too"), "log: \(log)")
        #expect(log.contains("install nftables"), "log: \(log)")
        #expect(log.contains("lvsd: ready"), "log: \(log)")
    }

    @Test("--kernel-drop without nft in PATH: lvsd refuses to start and says to install nftables")
    func missingNftIsAClearError() throws {
        let bed = try TestBed()
        defer { bed.tearDown() }
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("lvsd-nonft-\(bed.prefix)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let rules = dir.appendingPathComponent("rules")
        try Self.rules.write(to: rules, atomically: true, encoding: .utf8)
        // PATH without nft (lvsd itself is started by its full path).
        let r = try Shell.run(["ip", "netns", "exec", bed.namespace("director"), "env", "PATH=/nonexistent",
                               Shell.lvsdPath, "--interface", "eth0", "--rules", rules.path, "--no-save",
                               "--socket", dir.appendingPathComponent("s").path, "--kernel-drop"], timeout: 20)
        #expect(r.status != 0)
        #expect(r.stderr.contains("nft") && r.stderr.contains("nftables"), "stderr: \(r.stderr)")
        let table = try bed.sh("director", "nft list table netdev lvsd")
        #expect(table.status != 0, "a table was left behind: \(table.stdout)")
    }
}
