import Foundation
import Testing

/// lvsd started from a keepalived.conf in the namespace bed: its health checks take a failing
/// real server out of the table while clients keep connecting, put it back once it recovers,
/// and SIGHUP applies a changed file while traffic flows.
@Suite("Health checks and reload in the namespace bed", .serialized)
struct HealthCheckTests {
    static let vip = TestBed.vip

    /// A keepalived.conf for VIP:80 (rr, DR) with `servers` (rs1..rs3), each with `check`.
    static func config(servers: [String], check: String, rise: Int = 1, extra: String = "") -> String {
        var text = """
            ! written by HealthCheckTests
            virtual_server \(vip) 80 {
                delay_loop 1
                lb_algo rr
                lb_kind DR
                protocol TCP
            \(extra)

            """
        for name in servers {
            text += """
                    real_server \(TestBed.realServers[name]!) 80 {
                        weight 1
                        rise \(rise)
                        \(check)
                    }

                """
        }
        return text + "}\n"
    }

    static let tcpCheck = "TCP_CHECK {\n connect_timeout 1\n retry 1\n delay_before_retry 0.5\n }"

    /// A bounded client load in the background: one request at a time (curl, 2 s limit), each
    /// logged as `EPOCH ANSWER` (`failed` for a failure), until `stop` exists, at most
    /// `seconds` and `count` requests.
    final class Load {
        let bed: TestBed
        let directory: String
        init(bed: TestBed, seconds: Int = 60, count: Int = 1500) throws {
            self.bed = bed
            directory = "/tmp/\(bed.prefix)load"
            try bed.check("client", "rm -rf \(directory); mkdir -p \(directory)")
            try bed.background("client", """
                end=$(( $(date +%s) + \(seconds) )); i=0
                while [ ! -e \(directory)/stop ] && [ $(date +%s) -lt $end ] && [ $i -lt \(count) ]; do
                  i=$((i+1))
                  r=$(curl -s --max-time 2 http://\(HealthCheckTests.vip)/ || echo failed)
                  echo "$(date +%s.%N) ${r:-failed}" >> \(directory)/log
                  sleep 0.05
                done
                touch \(directory)/done
                """, log: "\(directory)/loop.log")
        }

        /// Stops the loop (bounded wait) and returns (time, answer) per request.
        func finish() throws -> [(Double, String)] {
            try bed.check("client", "touch \(directory)/stop; for i in $(seq 60); do [ -e \(directory)/done ] && break; sleep 0.1; done")
            return try entries()
        }

        func entries() throws -> [(Double, String)] {
            let out = try bed.check("client", "cat \(directory)/log 2>/dev/null || true")
            return out.split(separator: "\n").compactMap { line in
                let parts = line.split(separator: " ", maxSplits: 1)
                guard parts.count == 2, let t = Double(parts[0]) else { return nil }
                return (t, String(parts[1]))
            }
        }

        deinit { _ = try? bed.sh("client", "touch \(directory)/stop") }
    }

    /// Polls `lvsadm -L -n` until `condition` holds for its output (every 100 ms, at most `seconds`);
    /// returns the time it first held.
    static func waitForTable(_ director: DirectorProcess, seconds: Double, _ condition: (String) -> Bool) throws -> Date? {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition(try director.lvsadm(["-L", "-n"]).stdout) { return Date() }
            usleep(100_000)
        }
        return nil
    }

    static func lists(_ address: String) -> (String) -> Bool { { $0.contains("-> \(address):80 ") } }
    static func omits(_ address: String) -> (String) -> Bool { { !$0.contains("-> \(address):80 ") } }

    static func startDirector(_ bed: TestBed, config: String) throws -> DirectorProcess {
        let director = try DirectorProcess(bed: bed, rules: nil, config: config)
        let deadline = Date().addingTimeInterval(5)
        while !director.log(contains: "health: checking") && Date() < deadline { usleep(50_000) }
        #expect(director.log(contains: "health: checking"), "\(director.log)")
        return director
    }

    @Test("TCP_CHECK: rs2's server stops → out of the table within delay_loop + retry, no failure after that; back after rise")
    func tcpCheckUnderLoad() throws {
        let bed = try TestBed()
        defer { bed.tearDown() }
        let director = try Self.startDirector(bed, config: Self.config(servers: ["rs1", "rs2", "rs3"], check: Self.tcpCheck, rise: 2))
        defer { director.stop() }
        #expect(try director.lvsadm(["-L", "-n"]).stdout.contains("-> 10.200.0.12:80 "))

        let load = try Load(bed: bed)
        sleep(2)
        let stopped = Date()
        try Shell.run([Shell.testbedScript, "stop-server", bed.prefix, "rs2"])
        let removed = try Self.waitForTable(director, seconds: 8, Self.omits("10.200.0.12"))
        #expect(removed != nil, "rs2 was not removed:\n\(director.log)")
        let removalDelay = (removed ?? Date()).timeIntervalSince(stopped)
        // Next check within delay_loop (1 s), a retry 0.5 s later, then the batch; lvsadm polls every 0.1 s.
        #expect(removalDelay < 2.5, "removed \(removalDelay) s after the server stopped")
        sleep(3)
        let restarted = Date()
        try Shell.run([Shell.testbedScript, "start-server", bed.prefix, "rs2"])
        let back = try Self.waitForTable(director, seconds: 8, Self.lists("10.200.0.12"))
        #expect(back != nil, "rs2 did not come back:\n\(director.log)")
        let backDelay = (back ?? Date()).timeIntervalSince(restarted)
        #expect(backDelay >= 0.9, "rise 2: two successes a delay_loop apart (back after \(backDelay) s)")
        sleep(2)
        let entries = try load.finish()

        let removedAt = (removed ?? Date()).timeIntervalSince1970
        let failuresAfter = entries.filter { $0.0 > removedAt + 0.3 && $0.1 == "failed" }
        #expect(failuresAfter.isEmpty, "failures after rs2 left the table: \(failuresAfter)")
        let rs2WhileOut = entries.filter { $0.0 > removedAt + 0.3 && $0.0 < (back ?? Date()).timeIntervalSince1970 - 0.3 && $0.1 == "rs2" }
        #expect(rs2WhileOut.isEmpty, "rs2 answered while out of the table: \(rs2WhileOut.count)")
        #expect(entries.contains { $0.0 > (back ?? Date()).timeIntervalSince1970 + 0.3 && $0.1 == "rs2" }, "rs2 gets traffic again")
        #expect(entries.count > 50, "load: \(entries.count) requests")
        #expect(director.log(contains: "TCP connection to [10.200.0.12]:tcp:80 failed"))
        #expect(director.log(contains: "Removing service [10.200.0.12]:tcp:80 from VS [10.200.0.100]:tcp:80"))
        #expect(director.log(contains: "TCP connection to [10.200.0.12]:tcp:80 success (1 of 2 needed)."))
        #expect(director.log(contains: "Adding service [10.200.0.12]:tcp:80 to VS [10.200.0.100]:tcp:80"))
    }

    @Test("MISC_CHECK: the script's exit status (from a file) takes rs2 out and back; misc_dynamic sets its weight; no request fails")
    func miscCheck() throws {
        let bed = try TestBed()
        defer { bed.tearDown() }
        let work = "/tmp/\(bed.prefix)misc"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }
        let script = "\(work)/check.sh"
        try "#!/bin/sh\nexit $(cat \(work)/$1.code 2>/dev/null || echo 0)\n".write(toFile: script, atomically: true, encoding: .utf8)
        chmod(script, 0o755)
        var config = "virtual_server \(Self.vip) 80 {\n delay_loop 1\n lb_algo rr\n lb_kind DR\n protocol TCP\n"
        for name in ["rs1", "rs2", "rs3"] {
            config += " real_server \(TestBed.realServers[name]!) 80 {\n  weight 1\n  MISC_CHECK {\n   misc_path \"\(script) \(name)\"\n   misc_timeout 2\n   misc_dynamic\n  }\n }\n"
        }
        config += "}\n"
        let director = try Self.startDirector(bed, config: config)
        defer { director.stop() }
        let load = try Load(bed: bed)
        sleep(1)
        try "1".write(toFile: "\(work)/rs2.code", atomically: true, encoding: .utf8)
        let removed = try Self.waitForTable(director, seconds: 5, Self.omits("10.200.0.12"))
        #expect(removed != nil, "\(director.log)")
        sleep(2)
        try "0".write(toFile: "\(work)/rs2.code", atomically: true, encoding: .utf8)
        let back = try Self.waitForTable(director, seconds: 5, Self.lists("10.200.0.12"))
        #expect(back != nil, "\(director.log)")
        // misc_dynamic: exit 5 → weight 3.
        try "5".write(toFile: "\(work)/rs3.code", atomically: true, encoding: .utf8)
        let weighted = try Self.waitForTable(director, seconds: 5) { $0.contains("-> 10.200.0.13:80               Route   3 ") }
        let listing = try director.lvsadm(["-L", "-n"]).stdout
        #expect(weighted != nil, "\(listing)\n\(director.log)")
        sleep(1)
        let entries = try load.finish()
        #expect(!entries.contains { $0.1 == "failed" }, "a request failed: \(entries.filter { $0.1 == "failed" })")
        let out = entries.filter { $0.0 > (removed ?? Date()).timeIntervalSince1970 + 0.3 && $0.0 < (back ?? Date()).timeIntervalSince1970 - 0.3 }
        #expect(!out.isEmpty && !out.contains { $0.1 == "rs2" }, "rs2 answered while out: \(out.filter { $0.1 == "rs2" }.count) of \(out.count)")
        #expect(director.log(contains: "MISC_CHECK '\(script) rs2' for [10.200.0.12]:tcp:80 failed (exit status 1)."))
        #expect(director.log(contains: "Changing weight from 1 to 3 for active service [10.200.0.13]:tcp:80 of VS [10.200.0.100]:tcp:80"))
    }

    @Test("HTTP_GET with status_code: rs2 answering 503 on /status leaves the table, 200 brings it back; no request fails")
    func httpGetStatus() throws {
        let bed = try TestBed()
        defer { bed.tearDown() }
        let check = "HTTP_GET {\n url {\n path /status\n status_code 200\n }\n connect_timeout 1\n retry 1\n delay_before_retry 0.5\n }"
        let director = try Self.startDirector(bed, config: Self.config(servers: ["rs1", "rs2", "rs3"], check: check))
        defer { director.stop() }
        let statusFile = "/run/lvs-testbed/\(bed.prefix)/rs2.status"
        defer { unlink(statusFile) }
        let load = try Load(bed: bed)
        sleep(1)
        let failedAt = Date()
        try "503".write(toFile: statusFile, atomically: true, encoding: .utf8)
        let removed = try Self.waitForTable(director, seconds: 5, Self.omits("10.200.0.12"))
        #expect(removed != nil, "\(director.log)")
        #expect((removed ?? Date()).timeIntervalSince(failedAt) < 2.5)
        sleep(2)
        try "200".write(toFile: statusFile, atomically: true, encoding: .utf8)
        let back = try Self.waitForTable(director, seconds: 5, Self.lists("10.200.0.12"))
        #expect(back != nil, "\(director.log)")
        sleep(1)
        let entries = try load.finish()
        #expect(!entries.contains { $0.1 == "failed" }, "\(entries.filter { $0.1 == "failed" })")
        let out = entries.filter { $0.0 > (removed ?? Date()).timeIntervalSince1970 + 0.3 && $0.0 < (back ?? Date()).timeIntervalSince1970 - 0.3 }
        #expect(!out.isEmpty && !out.contains { $0.1 == "rs2" })
        #expect(director.log(contains: "HTTP_GET to [10.200.0.12]:tcp:80 failed (url /status: status code 503)."))
    }

    @Test("SIGHUP while traffic flows: rs1 removed and rs3 added in one batch, rs2 keeps its state, no request fails; a bad file changes nothing")
    func reloadUnderLoad() throws {
        let bed = try TestBed()
        defer { bed.tearDown() }
        let director = try Self.startDirector(bed, config: Self.config(servers: ["rs1", "rs2"], check: Self.tcpCheck))
        defer { director.stop() }
        let load = try Load(bed: bed)
        sleep(2)
        let line = try director.reload(config: Self.config(servers: ["rs2", "rs3"], check: Self.tcpCheck))
        #expect(line.contains("reloaded") && line.contains("2 table changes"), "\(line)")
        let table = try director.lvsadm(["-L", "-n"]).stdout
        #expect(Self.omits("10.200.0.11")(table) && Self.lists("10.200.0.12")(table) && Self.lists("10.200.0.13")(table), "\(table)")
        let saved = try director.lvsadm(["-S", "-n"]).stdout
        sleep(2)
        // A file with an error: logged with its line, the table stays.
        // An address that is not one is an error (a bad weight would only be a warning, as in
        // keepalived): the reload is refused with its line, and nothing changes.
        let bad = try director.reload(config: "virtual_server 10.200.0.100 80 {\n lb_kind DR\n protocol TCP\n real_server 10.200.0.300 80 {\n weight 1\n }\n}\n")
        #expect(bad.contains("keepalived.conf:4:"), "\(bad)")
        #expect(try director.lvsadm(["-S", "-n"]).stdout == saved)
        sleep(1)
        let entries = try load.finish()
        #expect(!entries.contains { $0.1 == "failed" }, "\(entries.filter { $0.1 == "failed" })")
        #expect(entries.contains { $0.1 == "rs3" })
        #expect(director.log(contains: "Removing service [10.200.0.11]:tcp:80 from VS [10.200.0.100]:tcp:80 (no longer configured)"))
        #expect(try director.lvsadm(["-S", "-n"]).stdout.contains("-a -t 10.200.0.100:80 -r 10.200.0.13:80 -g -w 1"))
        #expect(director.stop() == 0, "lvsd's exit status; log:\n\(director.log)")
    }
}

extension HealthCheckTests {
    @Test("Sorry server: with rs1 and rs2 down (inhibit_on_failure: weight 0), rs3 serves and quorum_down ran; rs1 back → the sorry server goes")
    func sorryServerAndInhibit() throws {
        let bed = try TestBed()
        defer { bed.tearDown() }
        let work = "/tmp/\(bed.prefix)sorry"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }
        let script = "\(work)/quorum.sh"
        try "#!/bin/sh\necho \"$1\" >> \(work)/quorum.log\n".write(toFile: script, atomically: true, encoding: .utf8)
        chmod(script, 0o755)
        let extra = """
                inhibit_on_failure
                sorry_server 10.200.0.13 80
                quorum_up "\(script) up"
                quorum_down "\(script) down"
            """
        let director = try Self.startDirector(bed, config: Self.config(servers: ["rs1", "rs2"], check: Self.tcpCheck, extra: extra))
        defer { director.stop() }
        #expect(try director.lvsadm(["-L", "-n"]).stdout.contains("-> 10.200.0.11:80               Route   1 "))
        #expect(Self.omits("10.200.0.13")(try director.lvsadm(["-L", "-n"]).stdout))

        try Shell.run([Shell.testbedScript, "stop-server", bed.prefix, "rs1"])
        try Shell.run([Shell.testbedScript, "stop-server", bed.prefix, "rs2"])
        let sorry = try Self.waitForTable(director, seconds: 8) {
            $0.contains("-> 10.200.0.13:80 ") && $0.contains("-> 10.200.0.11:80               Route   0 ")
                && $0.contains("-> 10.200.0.12:80               Route   0 ")
        }
        let listing = try director.lvsadm(["-L", "-n"]).stdout
        #expect(sorry != nil, "\(listing)\n\(director.log)")
        let answers = try bed.check("client", "for i in 1 2 3 4 5 6; do curl -s --max-time 2 http://\(Self.vip)/ || echo failed; done")
        #expect(answers == String(repeating: "rs3\n", count: 6), "\(answers)")
        #expect(director.log(contains: "Lost quorum 1-0=1 > 0 for VS [10.200.0.100]:tcp:80"))
        #expect(director.log(contains: "Adding sorry server [10.200.0.13]:tcp:80 to VS [10.200.0.100]:tcp:80"))
        #expect(director.log(contains: "Disabling service [10.200.0.11]:tcp:80 of VS [10.200.0.100]:tcp:80"))

        try Shell.run([Shell.testbedScript, "start-server", bed.prefix, "rs1"])
        let back = try Self.waitForTable(director, seconds: 8) {
            Self.omits("10.200.0.13")($0) && $0.contains("-> 10.200.0.11:80               Route   1 ")
        }
        #expect(back != nil, "\(director.log)")
        let after = try bed.check("client", "for i in 1 2 3 4; do curl -s --max-time 2 http://\(Self.vip)/ || echo failed; done")
        #expect(after == String(repeating: "rs1\n", count: 4), "rs2 has weight 0, rs1 takes everything: \(after)")
        var log = ""
        for _ in 0..<20 where !log.contains("up") {
            usleep(100_000)
            log = (try? String(contentsOfFile: "\(work)/quorum.log", encoding: .utf8)) ?? ""
        }
        #expect(log == "down\nup\n", "quorum scripts: \(log)")
    }
}

/// lvsd's `--config` refusals, before it touches the network.
@Suite("lvsd --config start-up")
struct KeepalivedConfigStartupTests {
    static func write(_ text: String) throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("lvsd-test-\(UUID().uuidString.prefix(8))-keepalived.conf")
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    @Test("A bad keepalived.conf: FILE:LINE and exit status 2; warnings as FILE:LINE; --check; not with --rules")
    func errorsAndWarnings() throws {
        try Shell.requireRoot()
        let bad = try Self.write("virtual_server 10.200.0.100 80 {\n  lb_kind DR\n  protocol TCP\n  real_server 10.200.0.300 80 {\n    weight 1\n  }\n}\n")
        defer { try? FileManager.default.removeItem(atPath: bad) }
        let r = try Shell.run([Shell.lvsdPath, "--interface", "lo", "--config", bad])
        #expect(r.status == 2)
        #expect(r.stderr.contains("\(bad):4:") && r.stderr.contains("10.200.0.300"), "\(r.stderr)")

        let good = try Self.write("global_defs {\n  router_id x\n}\nvirtual_server 10.200.0.100 80 {\n  lb_kind DR\n  real_server 10.200.0.11 80 {\n    TCP_CHECK {\n    }\n  }\n}\n")
        defer { try? FileManager.default.removeItem(atPath: good) }
        let c = try Shell.run([Shell.lvsdPath, "--config", good, "--check"])
        #expect(c.status == 0, "\(c.stderr)")
        #expect(c.stdout.contains("1 virtual services, 1 real servers"), "\(c.stdout)")
        // No `protocol` line: keepalived's default (UDP) is used, with a warning naming the line.
        #expect(c.stderr.contains("\(good):4: ") && c.stderr.contains("protocol"), "warnings name file and line: \(c.stderr)")

        let both = try Shell.run([Shell.lvsdPath, "--config", good, "--rules", good, "--check"])
        #expect(both.status != 0 && both.stderr.contains("mutually exclusive"), "\(both.stderr)")
    }
}

extension HealthCheckTests {
    @Test("PING_CHECK from the director's namespace (raw ICMP there): rs2 dropping echo requests leaves the table, and comes back")
    func pingCheck() throws {
        let bed = try TestBed()
        defer { bed.tearDown() }
        let check = "PING_CHECK {\n connect_timeout 0.5\n retry 0\n }"
        let director = try Self.startDirector(bed, config: Self.config(servers: ["rs1", "rs2"], check: check))
        defer { director.stop() }
        sleep(1)
        #expect(Self.lists("10.200.0.12")(try director.lvsadm(["-L", "-n"]).stdout))
        try bed.check("rs2", "nft add table inet pingtest && nft add chain inet pingtest in '{ type filter hook input priority 0; }' && nft add rule inet pingtest in icmp type echo-request drop")
        let removed = try Self.waitForTable(director, seconds: 5, Self.omits("10.200.0.12"))
        #expect(removed != nil, "\(director.log)")
        #expect(director.log(contains: "PING_CHECK to [10.200.0.12] failed (timeout)."))
        #expect(Self.lists("10.200.0.11")(try director.lvsadm(["-L", "-n"]).stdout))
        try bed.check("rs2", "nft delete table inet pingtest")
        let back = try Self.waitForTable(director, seconds: 5, Self.lists("10.200.0.12"))
        #expect(back != nil, "\(director.log)")
    }
}
