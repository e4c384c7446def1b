import Foundation
import Testing

/// The real lvsadm binary against a real lvsd in the namespace bed: the table is built, changed,
/// listed, saved and restored the way an admin does it with ipvsadm, while traffic flows.
@Suite("lvsadm against a live lvsd", .serialized)
struct LvsadmTests {
    static let vip = TestBed.vip
    static let service = "10.200.0.100:80"

    /// Builds rr over the three real servers with lvsadm, starting from an empty table.
    static func buildTable(_ director: DirectorProcess, scheduler: String = "rr") throws {
        try expectSuccess(director.lvsadm(["-A", "-t", service, "-s", scheduler]))
        for rs in ["10.200.0.11", "10.200.0.12", "10.200.0.13"] {
            try expectSuccess(director.lvsadm(["-a", "-t", service, "-r", rs, "-g", "-w", "1"]))
        }
    }

    static func expectSuccess(_ r: CommandResult, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(r.status == 0, "lvsadm exited \(r.status): \(r.stderr)", sourceLocation: sourceLocation)
    }

    /// `count` sequential requests from fixed client ports; returns port → answering server.
    static func requests(_ bed: TestBed, count: Int, firstPort: Int) throws -> [Int: String] {
        let out = try bed.check("client", """
            for p in $(seq \(firstPort) \(firstPort + count - 1)); do
              echo "$p $(curl -s --max-time 3 --local-port $p http://\(vip)/ || echo failed)"
            done
            """, timeout: 120)
        var answers: [Int: String] = [:]
        for line in out.split(separator: "\n") {
            let parts = line.split(separator: " ", maxSplits: 1)
            if parts.count == 2, let port = Int(parts[0]) { answers[port] = String(parts[1]) }
        }
        return answers
    }

    @Test("A table built with lvsadm on an empty lvsd carries traffic; -L -n and -L -n -c show exactly what went through")
    func buildListAndConnections() throws {
        let bed = try TestBed()
        defer { bed.tearDown() }
        let director = try DirectorProcess(bed: bed, rules: nil)
        defer { director.stop() }

        let empty = try director.lvsadm(["-L", "-n"])
        Self.expectSuccess(empty)
        #expect(empty.stdout == """
            IP Virtual Server version 1.2.1 (size=1048576)
            Prot LocalAddress:Port Scheduler Flags
              -> RemoteAddress:Port           Forward Weight ActiveConn InActConn

            """)

        try Self.buildTable(director)
        let answers = try Self.requests(bed, count: 30, firstPort: 41001)
        let perServer = Dictionary(grouping: answers.values, by: { $0 }).mapValues(\.count)
        #expect(perServer == ["rs1": 10, "rs2": 10, "rs3": 10], "answers: \(perServer)")

        // Every connection closed by the client sits in FIN_WAIT: inactive, as IPVS counts it.
        let listing = try director.lvsadm(["-L", "-n"])
        Self.expectSuccess(listing)
        #expect(listing.stdout == """
            IP Virtual Server version 1.2.1 (size=1048576)
            Prot LocalAddress:Port Scheduler Flags
              -> RemoteAddress:Port           Forward Weight ActiveConn InActConn
            TCP  10.200.0.100:80 rr
              -> 10.200.0.11:80               Route   1      0          10        
              -> 10.200.0.12:80               Route   1      0          10        
              -> 10.200.0.13:80               Route   1      0          10        

            """)

        // -c: one line per connection, each naming the server that actually answered it.
        let connections = try director.lvsadm(["-L", "-n", "-c"])
        Self.expectSuccess(connections)
        let lines = connections.stdout.split(separator: "\n")
        #expect(lines.first == "IPVS connection entries")
        #expect(lines.dropFirst().first == "pro expire state       source             virtual            destination")
        let serverOf = ["10.200.0.11:80": "rs1", "10.200.0.12:80": "rs2", "10.200.0.13:80": "rs3"]
        var seen = 0
        for line in lines.dropFirst(2) {
            let f = line.split(separator: " ", omittingEmptySubsequences: true)
            guard f.count == 6 else {
                Issue.record("malformed -c line: \(line)")
                continue
            }
            #expect(f[0] == "TCP" && f[2] == "FIN_WAIT" && f[4] == "\(Self.vip):80", "line: \(line)")
            guard let port = Int(f[3].split(separator: ":").last ?? ""), let answered = answers[port] else { continue }
            #expect(serverOf[String(f[5])] == answered, "port \(port): listed \(f[5]), answered by \(answered)")
            seen += 1
        }
        #expect(seen == 30, "-c listed \(seen) of the 30 connections:\n\(connections.stdout)")

        let stats = try director.lvsadm(["-L", "-n", "--stats"])
        Self.expectSuccess(stats)
        let statLines = stats.stdout.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(statLines.count >= 8 && statLines[1] == "Prot LocalAddress:Port               Conns   InPkts  OutPkts  InBytes OutBytes")
        #expect(stats.stdout.contains("TCP  10.200.0.100:80                    30 "), "\(stats.stdout)")

        // The service's InPkts/InBytes are its servers' sums (lvsd derives them when read); a
        // deleted server's traffic stays in them; -Z zeroes them, and they count on from there.
        var counted = try Self.exactStats(director)
        let servers = ["10.200.0.11:80", "10.200.0.12:80", "10.200.0.13:80"]
        let total = counted["TCP  10.200.0.100:80"] ?? []
        #expect(total.count == 5 && total[1] > 0, "\(counted)")
        #expect(total[1] == servers.reduce(0) { $0 + (counted[$1]?[1] ?? 0) }, "\(counted)")
        #expect(total[3] == servers.reduce(0) { $0 + (counted[$1]?[3] ?? 0) }, "\(counted)")
        Self.expectSuccess(try director.lvsadm(["-d", "-t", Self.service, "-r", "10.200.0.13:80"]))
        counted = try Self.exactStats(director)
        #expect(counted["10.200.0.13:80"] == nil && counted["TCP  10.200.0.100:80"] == total, "\(counted)")
        Self.expectSuccess(try director.lvsadm(["-Z", "-t", Self.service]))
        counted = try Self.exactStats(director)
        #expect(counted["TCP  10.200.0.100:80"] == [0, 0, 0, 0, 0], "\(counted)")
        let more = try Self.requests(bed, count: 4, firstPort: 42001)
        #expect(more.count == 4 && !more.values.contains("failed"), "\(more)")
        counted = try Self.exactStats(director)
        let after = counted["TCP  10.200.0.100:80"] ?? []
        #expect(after.count == 5 && after[0] == 4 && after[1] > 0, "\(counted)")
        #expect(after[1] == servers.reduce(0) { $0 + (counted[$1]?[1] ?? 0) }, "\(counted)")
        // The stats file (the worker's snapshot, every second) says the same once it has the 4
        // connections: the service's inpkts and inbytes are its listed servers' sums.
        var service: [String: Any] = [:]
        for _ in 0..<40 {
            let services = try director.stats().object["services"] as? [[String: Any]] ?? []
            service = services.first { ($0["port"] as? NSNumber)?.intValue == 80 } ?? [:]
            if (service["conns"] as? NSNumber)?.intValue == 4 { break }
            usleep(100_000)
        }
        let listed = service["real_servers"] as? [[String: Any]] ?? []
        func sum(_ field: String) -> Int { listed.reduce(0) { $0 + (($1[field] as? NSNumber)?.intValue ?? 0) } }
        #expect((service["conns"] as? NSNumber)?.intValue == 4, "\(service)")
        #expect(listed.count == 2 && (service["inpkts"] as? NSNumber)?.intValue == sum("inpkts"), "\(service)")
        #expect((service["inbytes"] as? NSNumber)?.intValue == sum("inbytes"), "\(service)")
    }

    /// `-L -n --stats --exact` as numbers: per line key (service "TCP  VIP:port", or a server's
    /// "address:port"), its Conns, InPkts, OutPkts, InBytes, OutBytes.
    static func exactStats(_ director: DirectorProcess) throws -> [String: [UInt64]] {
        let r = try director.lvsadm(["-L", "-n", "--stats", "--exact"])
        expectSuccess(r)
        var result: [String: [UInt64]] = [:]
        for line in r.stdout.split(separator: "\n") {
            let f = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
            let numbers = f.suffix(5).compactMap { UInt64($0) }
            guard numbers.count == 5 else { continue }
            if f.first == "->", f.count == 7 { result[f[1]] = numbers }
            if f.first == "TCP", f.count == 7 { result["TCP  " + f[1]] = numbers }
        }
        return result
    }

    @Test("Every listing mode, byte for byte, on a fixed table restored with -R (golden files from ipvsadm's formats)")
    func listingModesByteForByte() throws {
        let bed = try TestBed()
        defer { bed.tearDown() }
        let director = try DirectorProcess(bed: bed, rules: nil)
        defer { director.stop() }
        let restore = try director.lvsadm(["-R"], stdin: """
            # services in an order the sort has to undo
            -A -u 10.200.0.100:53 -s rr
            -a -u 10.200.0.100:53 -r 10.200.0.13 -g -w 1
            -A -t 10.200.0.100:80 -s wrr -p 300
            -a -t 10.200.0.100:80 -r 10.200.0.12 -g -w 2
            -a -t 10.200.0.100:80 -r 10.200.0.11 -g -w 3 -x 100 -y 10
            -A -t 200.0.0.1:443 -s sh -b sh-port
            -a -t 200.0.0.1:443 -r 10.200.0.11 -g

            """)
        Self.expectSuccess(restore)
        let golden = Shell.projectRoot.appendingPathComponent("Tests/IntegrationTests/Golden")
        let modes: [(String, [String])] = [
            ("list", ["-L", "-n"]), ("stats", ["-L", "-n", "--stats"]), ("rate", ["-L", "-n", "--rate"]),
            ("thresholds", ["-L", "-n", "--thresholds"]), ("persistent-conn", ["-L", "-n", "--persistent-conn"]),
            ("save", ["-S", "-n"]),
        ]
        for (name, arguments) in modes {
            let expected = try String(contentsOf: golden.appendingPathComponent("lvsadm-\(name).txt"), encoding: .utf8)
            let r = try director.lvsadm(arguments)
            Self.expectSuccess(r)
            #expect(r.stdout == expected, "lvsadm \(arguments.joined(separator: " ")):\n\(r.stdout)\nexpected:\n\(expected)")
        }
        // One service, and names instead of numbers (port 80 is "http" in /etc/services).
        let one = try director.lvsadm(["-L", "-t", "10.200.0.100:80"])
        #expect(one.stdout.hasPrefix("Prot LocalAddress:Port Scheduler Flags\n"), "\(one.stdout)")
        #expect(one.stdout.contains("TCP  10.200.0.100:http wrr persistent 300\n"), "\(one.stdout)")
        let missing = try director.lvsadm(["-L", "-n", "-t", "10.200.0.100:81"])
        #expect(missing.status != 0 && missing.stderr.contains("No such service"), "\(missing.status) \(missing.stderr)")
    }

    @Test("Weight 0 drains a server: its established connection finishes, new connections go elsewhere")
    func weightZeroDrains() throws {
        let bed = try TestBed()
        defer { bed.tearDown() }
        let director = try DirectorProcess(bed: bed, rules: nil)
        defer { director.stop() }
        try Self.buildTable(director)

        // One keep-alive HTTP connection: a request now, another after the edit, on the same
        // TCP connection (the client holds it open until the file `go` appears, at most 30 s).
        let work = "/tmp/\(bed.prefix)drain"
        try bed.check("client", """
            mkdir -p \(work) && cat > \(work)/hold.py <<'PY'
            import os, socket, sys, time
            def get(s):
                s.sendall(b"GET / HTTP/1.1\\r\\nHost: vip\\r\\n\\r\\n")
                data = b""
                while b"\\r\\n\\r\\n" not in data:
                    data += s.recv(4096)
                head, body = data.split(b"\\r\\n\\r\\n", 1)
                length = int([l.split(b":")[1] for l in head.split(b"\\r\\n") if l.lower().startswith(b"content-length")][0])
                while len(body) < length:
                    body += s.recv(4096)
                return body.decode().strip()
            s = socket.create_connection(("\(Self.vip)", 80), timeout=10)
            open(sys.argv[1] + "/first", "w").write(get(s))
            deadline = time.time() + 30
            while not os.path.exists(sys.argv[1] + "/go") and time.time() < deadline:
                time.sleep(0.05)
            open(sys.argv[1] + "/second", "w").write(get(s))
            PY
            """)
        try bed.background("client", "python3 \(work)/hold.py \(work)", log: "\(work)/hold.log")
        defer { _ = try? bed.sh("client", "touch \(work)/go; sleep 0.2; rm -rf \(work)") }
        var first = ""
        for _ in 0..<50 where first.isEmpty {
            usleep(100_000)
            first = (try? bed.sh("client", "cat \(work)/first 2>/dev/null").stdout) ?? ""
        }
        let listed = try director.lvsadm(["-L", "-n", "-c"]).stdout
        guard let line = listed.split(separator: "\n").first(where: { $0.contains("ESTABLISHED") }),
              let server = line.split(separator: " ").last.map(String.init)
        else {
            let log = (try? bed.sh("client", "cat \(work)/hold.log; ls -la \(work)").stdout) ?? ""
            Issue.record("no established connection listed:\n\(listed)\nfirst answer: \(first)\n\(log)")
            return
        }
        let address = String(server.split(separator: ":")[0])
        let drained = ["10.200.0.11": "rs1", "10.200.0.12": "rs2", "10.200.0.13": "rs3"][address] ?? "?"
        #expect(first == drained, "the held connection was answered by \(first), listed on \(address)")
        Self.expectSuccess(try director.lvsadm(["-e", "-t", Self.service, "-r", address, "-g", "-w", "0"]))

        let answers = try Self.requests(bed, count: 20, firstPort: 42001)
        #expect(!answers.values.contains(drained), "a new connection went to the drained server \(drained): \(answers)")
        #expect(!answers.values.contains("failed"))

        // The established connection still works, on the drained server.
        let second = try bed.check("client", """
            touch \(work)/go; for i in $(seq 100); do [ -s \(work)/second ] && break; sleep 0.1; done; cat \(work)/second \(work)/hold.log
            """, timeout: 30)
        #expect(second == drained, "second request on the held connection: \(second)")
        let after = try director.lvsadm(["-L", "-n"]).stdout
        #expect(after.contains("  -> \(address):80               Route   0      "), "\(after)")
    }

    @Test("-S, -C, -R gives the same -S; a bad restore line changes nothing; a restart restores the table")
    func saveRestoreAndRestart() throws {
        let bed = try TestBed()
        defer { bed.tearDown() }
        var director = try DirectorProcess(bed: bed, rules: nil)
        defer { director.stop() }
        try Self.buildTable(director, scheduler: "wrr")
        Self.expectSuccess(try director.lvsadm(["-A", "-u", "10.200.0.100:53", "-s", "sh", "-b", "sh-port", "-o"]))
        Self.expectSuccess(try director.lvsadm(["-a", "-u", "10.200.0.100:53", "-r", "10.200.0.12", "-w", "5", "-x", "100", "-y", "10"]))
        Self.expectSuccess(try director.lvsadm(["-A", "-t", "10.200.0.100:0", "-s", "lc", "-p", "600", "-M", "255.255.255.0"]))
        Self.expectSuccess(try director.lvsadm(["-E", "-t", Self.service, "-s", "wlc", "-p"]))

        let saved = try director.lvsadm(["-S", "-n"])
        Self.expectSuccess(saved)
        #expect(saved.stdout.contains("-A -t 10.200.0.100:80 -s wlc -p 360\n"), "\(saved.stdout)")
        #expect(saved.stdout.contains("-A -u 10.200.0.100:53 -s sh -o -b sh-port\n") || saved.stdout.contains("-A -u 10.200.0.100:53 -s sh -b sh-port -o\n"), "\(saved.stdout)")
        #expect(saved.stdout.contains("-a -u 10.200.0.100:53 -r 10.200.0.12:53 -g -w 5\n"), "\(saved.stdout)")

        Self.expectSuccess(try director.lvsadm(["-C"]))
        #expect(try director.lvsadm(["-S", "-n"]).stdout == "")
        Self.expectSuccess(try director.lvsadm(["-R"], stdin: "# saved by lvsadm -S\n" + saved.stdout))
        #expect(try director.lvsadm(["-S", "-n"]).stdout == saved.stdout)

        // All or nothing: line 3 is bad, so lines 1-2 are not applied either.
        let bad = try director.lvsadm(["-R"], stdin: "-A -t 10.200.0.100:8080 -s rr\n-a -t 10.200.0.100:8080 -r 10.200.0.11\n-a -t 10.200.0.100:8080 -r 10.200.0.12 -w lots\n")
        #expect(bad.status == 2)
        #expect(bad.stderr.contains("3") && bad.stderr.contains("illegal weight specified"), "\(bad.stderr)")
        #expect(try director.lvsadm(["-S", "-n"]).stdout == saved.stdout)

        // kill -9: the table was saved at each change, not at exit.
        kill(director.process.processIdentifier, SIGKILL)
        director.process.waitUntilExit()
        let directory = director.directory
        director.stop()
        director = try DirectorProcess(bed: bed, rules: nil, directory: directory)
        #expect(try director.lvsadm(["-S", "-n"]).stdout == saved.stdout)
        let answers = try Self.requests(bed, count: 3, firstPort: 43001)
        #expect(!answers.values.contains("failed"), "\(answers)")
    }

    @Test("Errors: ipvsadm's messages and exit statuses, and nothing changes")
    func errors() throws {
        let bed = try TestBed()
        defer { bed.tearDown() }
        let director = try DirectorProcess(bed: bed, rules: nil)
        defer { director.stop() }
        try Self.buildTable(director)
        let before = try director.lvsadm(["-S", "-n"]).stdout

        let cases: [([String], Int32, String)] = [
            (["-A", "-t", Self.service, "-s", "rr"], 255, "Service already exists"),
            (["-a", "-t", Self.service, "-r", "10.200.0.11"], 255, "Destination already exists"),
            (["-a", "-t", "10.200.0.100:81", "-r", "10.200.0.11"], 255, "Service not defined"),
            (["-d", "-t", Self.service, "-r", "10.200.0.14"], 255, "No such destination"),
            (["-e", "-t", Self.service, "-r", "10.200.0.14", "-w", "2"], 255, "No such destination"),
            (["-D", "-t", "10.200.0.100:81"], 255, "No such service"),
            (["-E", "-t", "10.200.0.100:81", "-s", "rr"], 255, "No such service"),
            (["-Z", "-t", "10.200.0.100:81"], 255, "No such service"),
            (["-a", "-t", Self.service, "-r", "10.200.0.14", "-w", "heavy"], 2, "illegal weight specified"),
            (["-A", "-t", "10.200.0.100:81", "-s", "rr", "-r", "10.200.0.11"], 2, "Illegal 'real-server' option with the 'add-service' command"),
            (["-A", "-t", "10.200.0.100", "-s", "rr"], 2, "Zero port specified for non-persistent service"),
            (["--set", "1", "2"], 2, "--set option requires 3 timeout values"),
            (["-a", "-t", Self.service, "-r", "10.200.0.14", "-m"], 2, "direct routing"),
        ]
        for (arguments, status, message) in cases {
            let r = try director.lvsadm(arguments)
            #expect(r.status == status, "\(arguments): exit \(r.status), stderr \(r.stderr)")
            #expect(r.stderr.contains(message), "\(arguments): stderr \(r.stderr)")
        }
        #expect(try director.lvsadm(["-S", "-n"]).stdout == before)

        let away = try Shell.run(["env", "LVSD_SOCKET=/nonexistent/lvsd.sock", Shell.lvsadmPath, "-L", "-n"])
        #expect(away.status != 0 && away.stderr.contains("is lvsd running?"), "\(away.stderr)")

        // --set and --timeout; -Z.
        Self.expectSuccess(try director.lvsadm(["--set", "100", "0", "30"]))
        #expect(try director.lvsadm(["-L", "--timeout"]).stdout == "Timeout (tcp tcpfin udp): 100 120 30\n")
        var info = stat()
        #expect(stat(director.socketPath, &info) == 0 && info.st_mode & 0o777 == 0o600)
    }
}
