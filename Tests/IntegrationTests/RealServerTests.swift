import Foundation
import Testing

/// lvs-realserver on real servers left bare by the bed (`LVS_TESTBED_RS_SETUP=none`): it must
/// make direct routing through lvsd work, keep every real server silent about the VIP, pass its
/// own check, and leave the host exactly as it found it on revert. Real `ip`, /proc/sys,
/// arptables and iptables (nftables backend on Debian) in the bed's namespaces.
@Suite("lvs-realserver in the test bed", .serialized)
struct RealServerTests {
    static let vip = TestBed.vip
    static let realServers = TestBed.realServers.keys.sorted()
    static let rules = """
        -A -t 10.200.0.100:80 -s rr
        -a -t 10.200.0.100:80 -r 10.200.0.11:80 -g -w 1
        -a -t 10.200.0.100:80 -r 10.200.0.12:80 -g -w 1
        -a -t 10.200.0.100:80 -r 10.200.0.13:80 -g -w 1

        """

    /// A scratch directory per test for state dirs and persistence roots; removed by `remove()`.
    final class Scratch {
        let url: URL

        init(_ tag: String) throws {
            url = FileManager.default.temporaryDirectory.appendingPathComponent("lvs-rs-\(tag)-\(UUID().uuidString.prefix(8))")
            try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        }

        func path(_ name: String) -> String { url.appendingPathComponent(name).path }

        func remove() { try? FileManager.default.removeItem(at: url) }
    }

    /// Runs lvs-realserver in `host`'s namespace with that host's own state directory.
    @discardableResult
    static func realserver(_ bed: TestBed, _ host: String, _ scratch: Scratch, _ arguments: [String],
                           environment: [String] = []) throws -> CommandResult {
        try Shell.run(["ip", "netns", "exec", bed.namespace(host)] + environment
                      + [Shell.realServerPath] + arguments + ["--state-dir", scratch.path("state-\(host)")], timeout: 60)
    }

    /// What apply may change and revert must restore: addresses, the IPv4 settings of every
    /// device, both rule dumps (comment lines, with their timestamps, and counters dropped) and
    /// the whole nftables ruleset (the tables the nftables-backed tools create).
    static func snapshot(_ bed: TestBed, _ host: String) throws -> String {
        try bed.check(host, """
            ip addr show
            for d in all default lo eth0; do for k in arp_ignore arp_announce rp_filter proxy_arp arp_filter; do
              echo "$d.$k=$(cat /proc/sys/net/ipv4/conf/$d/$k)"; done; done
            echo '--- arptables-save'; arptables-save | grep -v '^#'
            echo '--- iptables-save'; iptables-save | grep -v '^#' | sed 's/\\[[0-9]*:[0-9]*\\]//'
            echo '--- nft'; nft list ruleset | sed 's/packets [0-9]* bytes [0-9]*//'
            """)
    }

    /// Counts ARP replies a real server sends with the VIP as sender (DirectRoutingTests' tap).
    static func tapARPReplies(_ bed: TestBed, _ host: String) throws {
        try bed.check(host, """
            nft add table arp rstest && \
            nft add counter arp rstest vip_replies && \
            nft add chain arp rstest out '{ type filter hook output priority 0; }' && \
            nft add rule arp rstest out arp operation reply arp saddr ip \(vip) counter name vip_replies
            """)
    }

    static func removeTap(_ bed: TestBed, _ host: String) throws {
        try bed.check(host, "nft delete table arp rstest")
    }

    static func arpReplies(_ bed: TestBed, _ host: String) throws -> Int {
        try DirectRoutingTests.nftCounter(bed, host, family: "arp", table: "rstest", name: "vip_replies")
    }

    /// The MACs that answer an ARP request for the VIP from the client (arping, 3 requests).
    static func arpResponders(_ bed: TestBed) throws -> Set<String> {
        let out = try bed.sh("client", "arping -c 3 -I eth0 \(vip)", timeout: 20).stdout
        var macs = Set<String>()
        for line in out.split(separator: "\n") where line.contains("reply from") {
            if let open = line.firstIndex(of: "["), let close = line.firstIndex(of: "]") {
                macs.insert(line[line.index(after: open)..<close].lowercased())
            }
        }
        return macs
    }

    /// Requests through the VIP, answers per real server.
    static func curlThroughVIP(_ bed: TestBed, count: Int) throws -> [String: Int] {
        let out = try bed.check("client", """
            for i in $(seq \(count)); do curl -s --max-time 3 http://\(vip)/ || echo failed; done
            """, timeout: 120)
        var answers: [String: Int] = [:]
        for line in out.split(separator: "\n") { answers[String(line), default: 0] += 1 }
        return answers
    }

    static func failLines(_ output: String) -> [String] {
        output.split(separator: "\n").filter { $0.hasPrefix("FAIL") }.map(String.init)
    }

    // MARK: - the three methods

    @Test("apply on bare real servers makes DR work with no ARP leak, check passes, revert restores everything",
          arguments: ["sysctl", "arptables", "iptables"])
    func applyCheckTrafficRevert(method: String) throws {
        try Shell.requireRealServerTool()
        let bed = try TestBed(bareRealServers: true)
        defer { bed.tearDown() }
        let scratch = try Scratch(method)
        defer { scratch.remove() }
        let persistRoot = scratch.path("root")
        try FileManager.default.createDirectory(atPath: persistRoot, withIntermediateDirectories: true)

        var before: [String: String] = [:]
        for rs in Self.realServers {
            before[rs] = try Self.snapshot(bed, rs)
            // Bare: check must fail, and say why.
            let bare = try Self.realserver(bed, rs, scratch, ["check", "--vip", Self.vip, "--method", method, "--interface", "eth0", "--ports", "80"])
            #expect(bare.status == 1, "[\(rs)] check on a bare server exited \(bare.status):\n\(bare.stdout)\(bare.stderr)")
            if method == "sysctl" {
                #expect(bare.stdout.contains("FAIL vip: \(Self.vip) is not configured"), "[\(rs)] \(bare.stdout)")
                #expect(bare.stdout.contains("FAIL arp_ignore"), "[\(rs)] \(bare.stdout)")
                #expect(bare.stdout.contains("FAIL arp_announce"), "[\(rs)] \(bare.stdout)")
            } else if method == "arptables" {
                #expect(bare.stdout.contains("FAIL arptables: no rule that drops ARP requests for \(Self.vip)"), "[\(rs)] \(bare.stdout)")
            } else {
                #expect(bare.stdout.contains("FAIL iptables: no nat rule redirects \(Self.vip):80/tcp"), "[\(rs)] \(bare.stdout)")
            }
        }

        // Apply everywhere; rs1 also persists.
        for rs in Self.realServers {
            let persist = rs == "rs1" ? ["--persist", "--persist-root", persistRoot] : []
            let r = try Self.realserver(bed, rs, scratch, ["apply", "--vip", Self.vip, "--method", method, "--ports", "80"] + persist)
            #expect(r.status == 0, "[\(rs)] apply exited \(r.status):\n\(r.stdout)\(r.stderr)")
        }
        // The same apply again changes nothing; a different one is refused and changes nothing.
        let applied = try Self.snapshot(bed, "rs2")
        let again = try Self.realserver(bed, "rs2", scratch, ["apply", "--vip", Self.vip, "--method", method, "--ports", "80"])
        #expect(again.status == 0 && again.stdout.contains("already applied"), "second apply: \(again.stdout)\(again.stderr)")
        let other = try Self.realserver(bed, "rs2", scratch, ["apply", "--vip", "10.200.0.101", "--method", method, "--ports", "80"])
        #expect(other.status != 0 && other.stderr.contains("another setup is applied"), "different apply: \(other.stdout)\(other.stderr)")
        #expect(try Self.snapshot(bed, "rs2") == applied, "a repeated or refused apply changed the host")

        // The persisted files of rs1.
        let unit = persistRoot + "/etc/systemd/system/lvs-realserver.service"
        let methodFile = ["sysctl": "/etc/sysctl.d/90-lvs-realserver.conf",
                          "arptables": "/etc/lvs-realserver/arptables.rules",
                          "iptables": "/etc/lvs-realserver/iptables.rules"][method]!
        #expect(FileManager.default.fileExists(atPath: persistRoot + methodFile), "no \(methodFile) under the persistence root")
        #expect(FileManager.default.fileExists(atPath: unit), "no systemd unit under the persistence root")
        #expect((try? FileManager.default.destinationOfSymbolicLink(atPath: persistRoot + "/etc/systemd/system/multi-user.target.wants/lvs-realserver.service"))
                == "/etc/systemd/system/lvs-realserver.service", "the unit is not enabled")
        if method == "iptables" {
            // The saved rules are what iptables-restore takes.
            let test = try bed.sh("rs1", "iptables-restore --test --noflush < \(persistRoot)\(methodFile)")
            #expect(test.status == 0, "iptables-restore rejects the saved rules: \(test.stderr)")
        }

        for rs in Self.realServers {
            let r = try Self.realserver(bed, rs, scratch, ["check", "--director", TestBed.directorIP])
            #expect(r.status == 0, "[\(rs)] check after apply exited \(r.status):\n\(r.stdout)\(r.stderr)")
            #expect(Self.failLines(r.stdout).isEmpty, "[\(rs)] \(r.stdout)")
            try Self.tapARPReplies(bed, rs)
        }

        // Traffic through lvsd reaches every real server; only the director answers ARP.
        let director = try DirectorProcess(bed: bed, rules: Self.rules)
        defer { director.stop() }
        for _ in 0..<3 {
            try bed.check("client", "ip neigh flush dev eth0 && curl -s --max-time 3 -o /dev/null http://\(Self.vip)/")
        }
        let answers = try Self.curlThroughVIP(bed, count: 30)
        #expect(answers == ["rs1": 10, "rs2": 10, "rs3": 10], "answers per real server: \(answers)")
        let responders = try Self.arpResponders(bed)
        #expect(responders == [TestBed.directorMAC], "MACs answering ARP for the VIP: \(responders)")
        let neighbour = try bed.check("client", "ip neigh show \(Self.vip) dev eth0")
        #expect(neighbour.contains("lladdr \(TestBed.directorMAC)"), "client neighbour entry for the VIP: \(neighbour)")
        for rs in Self.realServers {
            #expect(try Self.arpReplies(bed, rs) == 0, "\(rs) answered ARP for the VIP")
            try Self.removeTap(bed, rs)
        }
        #expect(director.stop() == 0, "lvsd exit status; log:\n\(director.log)")
        let stats = try director.stats()
        let conflict = String(describing: stats.object["last_vip_conflict"])
        #expect(stats.counter("vip_conflicts") == 0, "the director saw a real server claim the VIP: \(conflict)")

        // Revert restores each host exactly, and removes the persisted files.
        for rs in Self.realServers {
            let r = try Self.realserver(bed, rs, scratch, ["revert"])
            #expect(r.status == 0, "[\(rs)] revert exited \(r.status):\n\(r.stdout)\(r.stderr)")
            let after = try Self.snapshot(bed, rs)
            #expect(after == before[rs], "[\(rs)] the host differs after revert:\nbefore:\n\(before[rs] ?? "")\nafter:\n\(after)")
        }
        let left = (try? FileManager.default.contentsOfDirectory(atPath: persistRoot)) ?? ["(unreadable)"]
        #expect(left.isEmpty, "files left under the persistence root after revert: \(left)")
        let twice = try Self.realserver(bed, "rs1", scratch, ["revert"])
        #expect(twice.status == 0 && twice.stdout.contains("nothing to revert"), "second revert: \(twice.stdout)\(twice.stderr)")
    }

    // MARK: - faults

    @Test("arp_announce=0 on rs2: check names the fault; the leak hijacks the client and lvsd's VIP-conflict alarm names rs2's MAC; apply again fixes it")
    func announceLeakIsReported() throws {
        try Shell.requireRealServerTool()
        let bed = try TestBed(bareRealServers: true)
        defer { bed.tearDown() }
        let scratch = try Scratch("announce")
        defer { scratch.remove() }
        let before = try Self.snapshot(bed, "rs2")
        for rs in Self.realServers {
            let r = try Self.realserver(bed, rs, scratch, ["apply", "--vip", Self.vip, "--ports", "80"])
            #expect(r.status == 0, "[\(rs)] apply: \(r.stdout)\(r.stderr)")
        }
        try bed.check("rs2", "sysctl -qw net.ipv4.conf.all.arp_announce=0 net.ipv4.conf.eth0.arp_announce=0")

        let r = try Self.realserver(bed, "rs2", scratch, ["check"])
        #expect(r.status == 1, "check with arp_announce=0 exited \(r.status):\n\(r.stdout)")
        let fails = Self.failLines(r.stdout)
        #expect(fails.count == 2, "FAIL lines: \(fails)")
        #expect(fails.contains { $0.hasPrefix("FAIL arp_announce: effective arp_announce on eth0 is 0")
                && $0.hasSuffix("fix: sysctl -w net.ipv4.conf.all.arp_announce=2 net.ipv4.conf.eth0.arp_announce=2") }, "\(fails)")
        #expect(fails.contains { $0.hasPrefix("FAIL arp-announce: this host may send ARP requests with \(Self.vip) as sender") }, "\(fails)")
        for rs in ["rs1", "rs3"] {
            #expect(try Self.realserver(bed, rs, scratch, ["check"]).status == 0, "\(rs) check")
        }

        // rs2 must resolve the client afresh while answering from the VIP: its ARP request
        // then says "10.200.0.10? tell VIP", broadcast. The director hears it and raises its
        // alarm; the client believes it and sends the VIP's traffic straight to rs2.
        let director = try DirectorProcess(bed: bed, rules: Self.rules)
        defer { director.stop() }
        try bed.check("rs2", "ip neigh flush all")
        let answers = try Self.curlThroughVIP(bed, count: 6)
        #expect(answers["failed"] == nil && answers.values.reduce(0, +) == 6, "answers: \(answers)")
        #expect((answers["rs2"] ?? 0) >= 1, "answers: \(answers)")
        let hijacked = try bed.check("client", "ip neigh show \(Self.vip) dev eth0")
        #expect(hijacked.contains("lladdr \(TestBed.realServerMACs["rs2"]!)"), "client neighbour entry for the VIP after the leak: \(hijacked)")
        // The alarm names the leaking host by MAC and by its own address: in lvsadm's listing
        // (on stderr, so the listing itself stays ipvsadm's) and in lvsd's log.
        let rs2MAC = TestBed.realServerMACs["rs2"] ?? "?"
        let listing = try director.lvsadm(["-L", "-n"])
        #expect(listing.status == 0 && listing.stderr.contains("\(rs2MAC) (10.200.0.12) answered ARP for VIP \(Self.vip)"),
                "lvsadm -L -n stderr: \(listing.stderr)")
        var logged = false
        for _ in 0..<30 where !logged {
            logged = director.log.contains("ARP: \(rs2MAC) (10.200.0.12) answers for VIP \(Self.vip)")
            if !logged { usleep(100_000) }
        }
        #expect(logged, "lvsd log:\n\(director.log)")

        // The same apply again puts back what was undone behind its back; with the client's
        // cache cleared, traffic goes through the director to every server again.
        let fix = try Self.realserver(bed, "rs2", scratch, ["apply", "--vip", Self.vip, "--ports", "80"])
        #expect(fix.status == 0 && fix.stdout.contains("arp_announce=2"), "re-apply: \(fix.stdout)\(fix.stderr)")
        #expect(try Self.realserver(bed, "rs2", scratch, ["check"]).status == 0, "check after re-apply")
        try bed.check("client", "ip neigh flush dev eth0")
        try bed.check("rs2", "ip neigh flush all")
        let healed = try Self.curlThroughVIP(bed, count: 3)
        #expect(healed == ["rs1": 1, "rs2": 1, "rs3": 1], "answers after the fix: \(healed)")
        let neighbour = try bed.check("client", "ip neigh show \(Self.vip) dev eth0")
        #expect(neighbour.contains("lladdr \(TestBed.directorMAC)"), "client neighbour entry for the VIP after the fix: \(neighbour)")

        #expect(director.stop() == 0, "lvsd exit status; log:\n\(director.log)")
        let stats = try director.stats()
        #expect(stats.counter("vip_conflicts") >= 1)
        let conflict = stats.object["last_vip_conflict"] as? [String: Any]
        #expect(conflict?["vip"] as? String == Self.vip, "last_vip_conflict: \(String(describing: conflict))")
        #expect((conflict?["mac"] as? String)?.lowercased() == TestBed.realServerMACs["rs2"], "last_vip_conflict: \(String(describing: conflict))")
        #expect(conflict?["sender"] as? String == "10.200.0.12", "last_vip_conflict: \(String(describing: conflict))")

        let revert = try Self.realserver(bed, "rs2", scratch, ["revert"])
        #expect(revert.status == 0, "revert: \(revert.stdout)\(revert.stderr)")
        #expect(try Self.snapshot(bed, "rs2") == before, "rs2 differs after revert")
    }

    @Test("arp_ignore=0 on rs3: check names the fault, and the client really hears rs3 answer for the VIP")
    func ignoreLeakIsReported() throws {
        try Shell.requireRealServerTool()
        let bed = try TestBed(bareRealServers: true)
        defer { bed.tearDown() }
        let scratch = try Scratch("ignore")
        defer { scratch.remove() }
        for rs in Self.realServers {
            let r = try Self.realserver(bed, rs, scratch, ["apply", "--vip", Self.vip, "--ports", "80"])
            #expect(r.status == 0, "[\(rs)] apply: \(r.stdout)\(r.stderr)")
        }
        try bed.check("rs3", "sysctl -qw net.ipv4.conf.all.arp_ignore=0 net.ipv4.conf.eth0.arp_ignore=0")

        let r = try Self.realserver(bed, "rs3", scratch, ["check", "--vip", Self.vip, "--interface", "eth0", "--ports", "80"])
        #expect(r.status == 1, "check with arp_ignore=0 exited \(r.status):\n\(r.stdout)")
        let fails = Self.failLines(r.stdout)
        #expect(fails.count == 2, "FAIL lines: \(fails)")
        #expect(fails.contains { $0.hasPrefix("FAIL arp_ignore: effective arp_ignore on eth0 is 0")
                && $0.hasSuffix("fix: sysctl -w net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.eth0.arp_ignore=1") }, "\(fails)")
        #expect(fails.contains { $0.hasPrefix("FAIL arp-reply: this host ANSWERS ARP for \(Self.vip) on eth0") }, "\(fails)")

        // What check reasoned, seen on the wire: rs3 answers the client's ARP for the VIP.
        let director = try DirectorProcess(bed: bed, rules: Self.rules)
        defer { director.stop() }
        let responders = try Self.arpResponders(bed)
        #expect(responders == [TestBed.directorMAC, TestBed.realServerMACs["rs3"]!], "MACs answering ARP for the VIP: \(responders)")

        try bed.check("rs3", "sysctl -qw net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.eth0.arp_ignore=1")
        #expect(try Self.realserver(bed, "rs3", scratch, ["check"]).status == 0, "check after the fix")
        #expect(try Self.arpResponders(bed) == [TestBed.directorMAC], "rs3 still answers after the fix")
    }

    // MARK: - firewalld

    @Test("apply --method firewalld without a running firewalld fails clearly and changes nothing")
    func firewalldNotRunning() throws {
        try Shell.requireRealServerTool()
        let bed = try TestBed(bareRealServers: true)
        defer { bed.tearDown() }
        let scratch = try Scratch("firewalld")
        defer { scratch.remove() }
        let before = try Self.snapshot(bed, "rs1")
        let args = ["apply", "--vip", Self.vip, "--method", "firewalld", "--ports", "80"]

        // As the machine is: firewalld is not running here (installed or not).
        let plain = try Self.realserver(bed, "rs1", scratch, args)
        #expect(plain.status != 0, "apply --method firewalld exited 0:\n\(plain.stdout)")
        #expect(plain.stderr.contains("firewalld") && plain.stderr.contains("nothing was changed"), "stderr: \(plain.stderr)")

        // Installed but stopped: a firewall-cmd that answers --state as firewalld's does when
        // the daemon is down ("not running", exit 252) and logs any other call.
        let stub = scratch.path("bin")
        try FileManager.default.createDirectory(atPath: stub, withIntermediateDirectories: true)
        let calls = scratch.path("calls")
        try """
            #!/bin/sh
            echo "$*" >> \(calls)
            if [ "$1" = "--state" ]; then echo "not running"; exit 252; fi
            exit 0

            """.write(toFile: stub + "/firewall-cmd", atomically: true, encoding: .utf8)
        chmod(stub + "/firewall-cmd", 0o755)
        let stopped = try Self.realserver(bed, "rs1", scratch, args,
                                          environment: ["env", "PATH=\(stub):/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"])
        #expect(stopped.status != 0, "apply with firewalld stopped exited 0:\n\(stopped.stdout)")
        #expect(stopped.stderr.contains("needs a running firewalld") && stopped.stderr.contains("not running")
                && stopped.stderr.contains("nothing was changed"), "stderr: \(stopped.stderr)")
        let called = (try? String(contentsOfFile: calls, encoding: .utf8)) ?? ""
        #expect(!called.isEmpty && called.split(separator: "\n").allSatisfy { $0 == "--state" },
                "firewall-cmd was asked more than its state: \(called)")

        #expect(try Self.snapshot(bed, "rs1") == before, "a failed firewalld apply changed the host")
        #expect(!FileManager.default.fileExists(atPath: scratch.path("state-rs1") + "/state.json"), "a failed apply left a state file")
    }
}
