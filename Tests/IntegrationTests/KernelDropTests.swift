import Foundation
import Testing

/// `lvsd --kernel-drop`: lvsd's packet tap sees VIP frames before the nftables netdev ingress
/// hook, so a drop there keeps the director's own IP stack out of them without stopping lvsd.
@Suite("lvsd --kernel-drop", .serialized)
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

    @Test("Without --kernel-drop the director's IP stack counts every VIP packet; with it lvsd still forwards and the stack sees none; the table follows lvsadm and goes at exit")
    func kernelDropKeepsTheStackOutOfVIPFrames() throws {
        let bed = try TestBed()
        defer { bed.tearDown() }

        // The control: plain lvsd, the stack receives each VIP packet too.
        let plain = try DirectorProcess(bed: bed, rules: Self.rules)
        let plainBefore = try Self.addressErrors(bed)
        let plainAnswers = try Self.fetch(bed, count: 10)
        let plainAfter = try Self.addressErrors(bed)
        _ = plain.stop()
        #expect(plainAnswers.allSatisfy { $0.hasPrefix("rs") }, "answers: \(plainAnswers)")
        #expect(plainAfter - plainBefore >= 10 * 3, "IpInAddrErrors grew by \(plainAfter - plainBefore) only")

        let director = try DirectorProcess(bed: bed, rules: Self.rules, extraArguments: ["--kernel-drop"])
        defer { director.stop() }
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
