import Foundation
import Testing

/// Firewall-mark services end to end (issue 3): a persistent `-f 1` service over ports 80 and
/// 8080 of the VIP, marked by lvsd's `--fwmark-rules`, keeps each client on one real server
/// across both ports, as http+https persistence does with IPVS and an iptables MARK rule.
@Suite("Firewall-mark services through lvsd", .serialized)
struct FirewallMarkTests {
    static let vip = TestBed.vip
    static let secondClient = "10.200.0.20"

    /// An address of a network routed to the director rather than answered ARP for.
    static let routedVIP = "10.200.1.5"

    /// The mark rules: TCP 80 and 8080 of the VIP, and TCP 80 of the routed network
    /// 10.200.1.0/24, are mark 1; nothing else is marked.
    static let markRules = """
        # mark  proto  destination    ports
        1       tcp    10.200.0.100   80,8080
        1       tcp    10.200.1.0/24  80

        """

    static let rules = """
        -A -f 1 -s rr -p 300
        -a -f 1 -r 10.200.0.11 -g -w 1
        -a -f 1 -r 10.200.0.12 -g -w 1
        -a -f 1 -r 10.200.0.13 -g -w 1
        -A -u 10.200.0.100:9000 -s rr
        -a -u 10.200.0.100:9000 -r 10.200.0.11 -g -w 1

        """

    /// Starts a second HTTP listener on port 8080 on every real server (rs-server.py answers
    /// with the server's name on every port) and waits until each answers; returns the PID
    /// files, for `stopListeners`.
    static func startListeners(_ bed: TestBed) throws -> [String: String] {
        let script = Shell.projectRoot.appendingPathComponent("scripts/rs-server.py").path
        var pidFiles: [String: String] = [:]
        for host in ["rs1", "rs2", "rs3"] {
            let pidFile = "/tmp/\(bed.prefix)\(host)-8080.pid"
            pidFiles[host] = pidFile
            try bed.background(host, "echo $$ > \(pidFile); exec /usr/bin/python3 \(script) --name \(host) --http-port 8080 --udp-port 0",
                               log: "/tmp/\(bed.prefix)\(host)-8080.log")
        }
        for host in ["rs1", "rs2", "rs3"] {
            let answer = try bed.sh(host, """
                for i in $(seq 50); do a=$(curl -s --max-time 1 http://127.0.0.1:8080/) && [ -n "$a" ] && { echo "$a"; exit 0; }; sleep 0.1; done; exit 1
                """, timeout: 30)
            guard answer.status == 0, answer.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == host else {
                let log = (try? bed.sh(host, "cat /tmp/\(bed.prefix)\(host)-8080.log").stdout) ?? ""
                throw IntegrationError(description: "[\(host)] no answer on :8080: \(answer.stdout) \(answer.stderr)\n\(log)")
            }
        }
        return pidFiles
    }

    /// Stops the listeners this test started, by their PIDs only.
    static func stopListeners(_ bed: TestBed, _ pidFiles: [String: String]) {
        for (host, pidFile) in pidFiles {
            _ = try? bed.sh(host, "[ -s \(pidFile) ] && kill $(cat \(pidFile)) 2>/dev/null; sleep 0.3; rm -f \(pidFile) /tmp/\(bed.prefix)\(host)-8080.log")
        }
    }

    /// `count` requests alternating between ports 80 and 8080 from `source`; the answers in order.
    static func alternatingRequests(_ bed: TestBed, count: Int, source: String) throws -> [String] {
        let out = try bed.check("client", """
            for i in $(seq \(count)); do
              port=$(( i % 2 == 1 ? 80 : 8080 ))
              echo "$port $(curl -s --max-time 3 --interface \(source) http://\(vip):$port/ || echo failed)"
            done
            """, timeout: 120)
        return out.split(separator: "\n").map(String.init)
    }

    @Test("A persistent fwmark service over ports 80 and 8080 keeps each client on one server across both; lvsadm lists FWM 1")
    func persistenceSpansThePortsOfAMark() throws {
        let bed = try TestBed()
        defer { bed.tearDown() }
        let listeners = try Self.startListeners(bed)
        defer { Self.stopListeners(bed, listeners) }
        let marks = try DaemonErrorTests.writeTemporary(Self.markRules, name: "marks")
        defer { try? FileManager.default.removeItem(atPath: marks) }
        let director = try DirectorProcess(bed: bed, rules: Self.rules, extraArguments: ["--fwmark-rules", marks])
        defer { director.stop() }
        // A second client address, so that rr has a second client to place.
        try bed.check("client", "ip addr add \(Self.secondClient)/24 dev eth0")

        let first = try Self.alternatingRequests(bed, count: 12, source: TestBed.clientIP)
        let second = try Self.alternatingRequests(bed, count: 12, source: Self.secondClient)
        for (name, answers) in [("client", first), ("second client", second)] {
            #expect(answers.count == 12, "\(name): \(answers)")
            let ports = Set(answers.map { $0.split(separator: " ").first.map(String.init) ?? "" })
            let servers = Set(answers.map { $0.split(separator: " ").last.map(String.init) ?? "" })
            #expect(ports == ["80", "8080"], "\(name): \(answers)")
            #expect(servers.count == 1 && servers.first?.hasPrefix("rs") == true, "\(name) was not kept on one server: \(answers)")
        }
        let firstServer = first.first?.split(separator: " ").last.map(String.init) ?? ""
        let secondServer = second.first?.split(separator: " ").last.map(String.init) ?? ""
        #expect(firstServer != secondServer, "rr placed both clients on \(firstServer)")

        // UDP 9000 is not marked: the -u service takes it (rs1's echo answers).
        let udp = try bed.check("client", "echo ping | socat -t 2 - UDP4:\(Self.vip):9000", timeout: 20)
        #expect(udp.trimmingCharacters(in: .whitespacesAndNewlines) == "rs1 ping", "UDP answer: \(udp)")

        // -L -n: the mark's service line and its servers (port 0: added without one).
        let listing = try director.lvsadm(["-L", "-n"])
        #expect(listing.status == 0, "\(listing.stderr)")
        let lines = listing.stdout.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        #expect(Array(lines.prefix(3)) == [
            "IP Virtual Server version 1.2.1 (size=1048576)", "Prot LocalAddress:Port Scheduler Flags",
            "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn",
        ])
        #expect(lines.dropFirst(3).first == "UDP  10.200.0.100:9000 rr", "\(listing.stdout)")
        #expect(lines.contains("FWM  1 rr persistent 300"), "\(listing.stdout)")
        for rs in ["10.200.0.11", "10.200.0.12", "10.200.0.13"] {
            #expect(lines.contains { $0.hasPrefix("  -> \(rs):0                Route   1      ") }, "\(rs): \(listing.stdout)")
        }
        // One fwmark line only, after the -u service: ipvsadm sorts on the mark first.
        #expect(lines.firstIndex(of: "FWM  1 rr persistent 300") ?? 0 > lines.firstIndex(of: "UDP  10.200.0.100:9000 rr") ?? 99)
        let single = try director.lvsadm(["-L", "-n", "-f", "1"])
        #expect(single.status == 0 && single.stdout.hasPrefix("Prot LocalAddress:Port Scheduler Flags\n"), "\(single.stdout)")
        #expect(single.stdout.contains("\nFWM  1 rr persistent 300\n"))

        // -c: one IP template per client (the mark as its address), connections to both ports.
        let connections = try director.lvsadm(["-L", "-n", "-c"]).stdout
        let rows = connections.split(separator: "\n").dropFirst(2).map { $0.split(separator: " ").map(String.init) }
        let templates = rows.filter { $0.first == "IP" }
        #expect(Set(templates.map { $0[3] }) == ["\(TestBed.clientIP):0", "\(Self.secondClient):0"], "\(connections)")
        #expect(templates.allSatisfy { $0[2] == "NONE" && $0[4] == "0.0.0.1:0" && $0[5].hasSuffix(":0") }, "\(connections)")
        let tcp = rows.filter { $0.first == "TCP" }
        #expect(Set(tcp.map { $0[4] }) == ["\(Self.vip):80", "\(Self.vip):8080"], "\(connections)")
        // A connection's server is listed with the port the client used (the server has none).
        #expect(tcp.allSatisfy { $0[4].split(separator: ":").last == $0[5].split(separator: ":").last }, "\(connections)")
        // 24 requests; two of one client could share a source port (and so one entry), rarely.
        #expect(tcp.count >= 20 && tcp.count <= 24, "\(connections)")

        // -S -n writes the -f lines back.
        let saved = try director.lvsadm(["-S", "-n"]).stdout
        #expect(saved.hasPrefix("-A -u 10.200.0.100:9000 -s rr\n-a -u 10.200.0.100:9000 -r 10.200.0.11:9000 -g -w 1\n-A -f 1 -s rr -p 300\n-a -f 1 -r 10.200.0.11:0 -g -w 1\n"),
                "\(saved)")

        // The routed network of the same mark: the client routes it via the director (which
        // does not answer ARP for it), the servers hold the address on lo. The director's
        // receive filter takes it, and the mark's template sends the client to its server.
        #expect(director.log(contains: "ready: forwarding 10.200.0.100, 10.200.1.0/24 (routed, no ARP)"), "\(director.log)")
        for host in ["rs1", "rs2", "rs3"] { try bed.check(host, "ip addr add \(Self.routedVIP)/32 dev lo") }
        try bed.check("client", "ip route add 10.200.1.0/24 via \(TestBed.directorIP)")
        let routed = try bed.check("client", """
            for i in 1 2 3; do curl -s --max-time 3 http://\(Self.routedVIP)/ || echo failed; done
            """, timeout: 30)
        #expect(routed.split(separator: "\n").map(String.init) == [firstServer, firstServer, firstServer], "routed: \(routed)")
        let neighbours = try bed.check("client", "ip neigh show \(Self.routedVIP)")
        #expect(neighbours.isEmpty, "the client has a neighbour entry for the routed address: \(neighbours)")

        // A mark service added at run time that no rule feeds is accepted, with a warning.
        let added = try director.lvsadm(["-A", "-f", "2", "-s", "wlc"])
        #expect(added.status == 0, "\(added.stderr)")
        #expect(director.log(contains: "FWM 2 gets no traffic: no --fwmark-rules rule gives mark 2"), "\(director.log)")
    }

    @Test("lvsd --check reads --fwmark-rules: counts and notes, or FILE:LINE and exit status 2")
    func checkValidatesTheMarkRules() throws {
        try Shell.requireRoot()
        let rules = try DaemonErrorTests.writeTemporary("-A -f 1 -s rr\n-A -f 3 -s rr\n", name: "rules")
        let good = try DaemonErrorTests.writeTemporary("1 tcp 10.200.0.100 80,443\n2 udp 10.200.0.0/24 53\n", name: "marks")
        let bad = try DaemonErrorTests.writeTemporary("1 tcp 10.200.0.100 80\n1 tcp 10.200.0.5/24 80\n", name: "badmarks")
        defer { for path in [rules, good, bad] { try? FileManager.default.removeItem(atPath: path) } }
        let ok = try Shell.run([Shell.lvsdPath, "--rules", rules, "--fwmark-rules", good, "--check", "--no-save"])
        #expect(ok.status == 0, "\(ok.stderr)")
        #expect(ok.stdout.contains(": OK: 2 virtual services, 0 real servers; \(good): OK: 2 firewall-mark rules"), "\(ok.stdout)")
        #expect(ok.stdout.contains("note: FWM 3 gets no traffic: no --fwmark-rules rule gives mark 3"), "\(ok.stdout)")
        #expect(ok.stdout.contains("note: mark 2 is taken by no -f service"), "\(ok.stdout)")
        let refused = try Shell.run([Shell.lvsdPath, "--rules", rules, "--fwmark-rules", bad, "--check", "--no-save"])
        #expect(refused.status == 2)
        #expect(refused.stderr.contains("\(bad):2: 10.200.0.5/24 has bits set past the /24 prefix"), "\(refused.stderr)")
    }
}
