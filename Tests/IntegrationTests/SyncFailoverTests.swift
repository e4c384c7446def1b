import Foundation
import Testing

/// Connection sync between two lvsd in the test bed, and a failover that keeps every stream.
///
/// The VIP's move is simulated without VRRP: the client's neighbour entry for the VIP is
/// pinned to the master's MAC, and at failover the master is killed (SIGKILL, no goodbye) and
/// the entry re-pointed to the backup's MAC. Both lvsd answer ARP for the VIP and warn about
/// each other; the pinned entry makes that irrelevant here.
@Suite("Connection sync and failover", .serialized)
struct SyncFailoverTests {
    static let rules = """
        -A -t 10.200.0.100:80 -s rr
        -a -t 10.200.0.100:80 -r 10.200.0.11:80 -g -w 1
        -a -t 10.200.0.100:80 -r 10.200.0.12:80 -g -w 1
        -a -t 10.200.0.100:80 -r 10.200.0.13:80 -g -w 1

        """

    static let streamsScript = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .appendingPathComponent("Scripts/streams.py")

    /// `lvsadm -L -c -n`'s TCP entries: client port -> (state, real server address).
    static func connections(_ director: DirectorProcess) throws -> [Int: (state: String, server: String)] {
        let out = try director.lvsadm(["-L", "-c", "-n"])
        var result: [Int: (String, String)] = [:]
        for line in out.stdout.split(separator: "\n") where line.hasPrefix("TCP") {
            let f = line.split(separator: " ", omittingEmptySubsequences: true)
            guard f.count >= 6, let port = f[3].split(separator: ":").last.flatMap({ Int($0) }) else { continue }
            result[port] = (String(f[2]), String(f[5].split(separator: ":").first ?? ""))
        }
        return result
    }

    /// Opens `first` + `second` keep-alive streams (streams.py) from the client through the VIP
    /// in `directory`/streams, started at once ("go"), bounded by `seconds`, and waits until
    /// they are all open. Returns the streams' directory; the caller creates its "stop" file
    /// (in a defer) to end them. On failure the streams are stopped here.
    static func openStreams(_ bed: TestBed, in directory: URL, first: Int, second: Int, seconds: Int) throws -> URL {
        let work = directory.appendingPathComponent("streams")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        _ = FileManager.default.createFile(atPath: work.appendingPathComponent("go").path, contents: nil)
        do {
            try bed.background("client", "python3 \(streamsScript.path) \(TestBed.vip) \(first) \(second) \(work.path) \(seconds)",
                               log: work.appendingPathComponent("client.log").path)
            try waitFor(work.appendingPathComponent("ready"), seconds: 30, what: "\(first + second) streams")
        } catch {
            _ = FileManager.default.createFile(atPath: work.appendingPathComponent("stop").path, contents: nil)
            throw error
        }
        return work
    }

    static func waitFor(_ file: URL, seconds: Double, what: String) throws {
        let deadline = Date().addingTimeInterval(seconds)
        while !FileManager.default.fileExists(atPath: file.path) {
            guard Date() < deadline else { throw IntegrationError(description: "\(what) did not happen within \(seconds) s") }
            usleep(50_000)
        }
    }

    static func waitForLog(_ d: DirectorProcess, _ text: String, seconds: Double) throws {
        let deadline = Date().addingTimeInterval(seconds)
        while !d.log(contains: text) {
            guard Date() < deadline else {
                throw IntegrationError(description: "no '\(text)' in the log within \(seconds) s:\n\(d.log)")
            }
            usleep(50_000)
        }
    }

    /// Polls both directors' `-L -c -n` until the backup lists `count` entries (or `seconds`
    /// pass); both tables as last read.
    static func waitForSynced(master: DirectorProcess, backup: DirectorProcess, count: Int, seconds: Double) throws
        -> (onMaster: [Int: (state: String, server: String)], onBackup: [Int: (state: String, server: String)]) {
        var onMaster: [Int: (state: String, server: String)] = [:]
        var onBackup: [Int: (state: String, server: String)] = [:]
        let deadline = Date().addingTimeInterval(seconds)
        repeat {
            usleep(200_000)
            onMaster = try connections(master)
            onBackup = try connections(backup)
        } while onBackup.count < count && Date() < deadline
        return (onMaster, onBackup)
    }

    /// Reads streams.py's result.json: how many streams reported, and each broken one (an
    /// error, more than one server, a gap over `maximumGap` seconds, or a server other than
    /// `servers` says).
    /// The longest pause a TCP stream may see when the VIP moves after `outage` seconds without
    /// a director: a request lost in the outage is retransmitted with exponential backoff (each
    /// wait twice the last, from an RTO of at least 200 ms), so the first retransmission after
    /// the takeover comes at most about one more outage later: 2 × outage, plus the stream's
    /// 100 ms cadence and 0.3 s of round trips and scheduling. With advert_int 0.5 (master down
    /// interval 1.8 s) that is 3.9 s; a takeover just after the kill is answered within ~1.8 s,
    /// one just before the master down interval ends at the next retransmission, about 3.4 s.
    static func survivableGap(outage: Double) -> Double { 2 * outage + 0.4 }

    static func streamFailures(_ work: URL, servers: [Int: (state: String, server: String)],
                               maximumGap: Double = 2.0) throws -> (reported: Int, failures: [String]) {
        let data = try Data(contentsOf: work.appendingPathComponent("result.json"))
        let results = try JSONSerialization.jsonObject(with: data) as? [[String: Any]] ?? []
        var failures: [String] = []
        for r in results {
            let port = (r["port"] as? NSNumber)?.intValue ?? -1
            let seen = r["servers"] as? [String] ?? []
            let gap = (r["gap"] as? NSNumber)?.doubleValue ?? 99
            if let error = r["error"] as? String { failures.append("port \(port): \(error)") }
            if seen.count != 1 { failures.append("port \(port): servers \(seen)") }
            if gap > maximumGap { failures.append("port \(port): stalled \(gap) s (at most \(maximumGap) s expected)") }
            if let expected = servers[port]?.server, let name = seen.first, TestBed.realServers[name] != expected {
                failures.append("port \(port): answered by \(name), the master had \(expected)")
            }
        }
        return (results.count, failures)
    }

    @Test("100 streams: the backup pulls 50, is sent 50 more, takes over after kill -9 and keeps all 100 on their servers; the recovered master pulls them back")
    func failoverKeepsEveryStream() throws {
        let bed = try TestBed()
        defer { bed.tearDown() }
        let master = try DirectorProcess(bed: bed, rules: Self.rules)
        defer { master.stop() }
        let start = try master.lvsadm(["--start-daemon", "master", "--mcast-interface", "eth0"])
        #expect(start.status == 0, "start-daemon: \(start.stderr)")
        let listing = try master.lvsadm(["-L", "--daemon"])
        #expect(listing.stdout == "master sync daemon (mcast=eth0, syncid=0, maxlen=1472, group=224.0.0.81, port=8848, ttl=1)\n")
        // The same role twice is refused, as the kernel refuses it.
        #expect(try master.lvsadm(["--start-daemon", "master", "--mcast-interface", "eth0"]).status != 0)

        try bed.check("client", "ip neigh replace \(TestBed.vip) lladdr \(TestBed.directorMAC) dev eth0 nud permanent")
        let work = master.directory.appendingPathComponent("streams")
        try FileManager.default.createDirectory(at: work, withIntermediateDirectories: true)
        defer { _ = FileManager.default.createFile(atPath: work.appendingPathComponent("stop").path, contents: nil) }
        try bed.background("client", "python3 \(Self.streamsScript.path) \(TestBed.vip) 50 50 \(work.path) 90",
                           log: work.appendingPathComponent("client.log").path)
        try Self.waitFor(work.appendingPathComponent("phase1"), seconds: 20, what: "the first 50 streams")

        // The backup starts after the first 50 streams exist: it gets them by pulling the table.
        let backup = try DirectorProcess(bed: bed, rules: Self.rules, host: "director2")
        defer { backup.stop() }
        #expect(try backup.lvsadm(["--start-daemon", "backup", "--mcast-interface", "eth0"]).status == 0)
        try Self.waitForLog(backup, "initial sync complete", seconds: 15)
        let pulled = try Self.connections(backup)
        #expect(pulled.count >= 50, "entries after the pull: \(pulled.count)\n\(backup.log)")
        #expect(try backup.lvsadm(["-L", "--daemon"]).stdout
            == "backup sync daemon (mcast=eth0, syncid=0, maxlen=1472, group=224.0.0.81, port=8848, ttl=1)\n")

        // 50 more streams while the backup listens: each is synced when it becomes ESTABLISHED.
        _ = FileManager.default.createFile(atPath: work.appendingPathComponent("go").path, contents: nil)
        try Self.waitFor(work.appendingPathComponent("ready"), seconds: 20, what: "the next 50 streams")
        let (onMaster, onBackup) = try Self.waitForSynced(master: master, backup: backup, count: 100, seconds: 5)
        #expect(onMaster.count == 100)
        #expect(onBackup.count == 100, "backup entries: \(onBackup.count)")
        for (port, entry) in onMaster {
            #expect(onBackup[port]?.server == entry.server, "port \(port): master \(entry.server), backup \(onBackup[port]?.server ?? "none")")
            #expect(onBackup[port]?.state == "ESTABLISHED")
        }
        // The kernel's counts for synced connections: ActiveConn as on the master.
        let masterTable = try master.lvsadm(["-L", "-n"]).stdout
        let backupTable = try backup.lvsadm(["-L", "-n"]).stdout
        #expect(masterTable == backupTable, "master:\n\(masterTable)\nbackup:\n\(backupTable)")

        // Failover: the master dies without a word; the VIP "moves" to the backup.
        usleep(500_000)
        master.crash()
        try bed.check("client", "ip neigh replace \(TestBed.vip) lladdr \(TestBed.director2MAC) dev eth0 nud permanent")
        sleep(2)

        // The old master comes back: the new active director becomes sync master (what VRRP's
        // state hook does), and the recovered one starts as backup and pulls all 100 entries
        // before it could take the VIP back.
        let switched = try backup.lvsadm(["--sync-role", "master"])
        #expect(switched.status == 0, "sync-role: \(switched.stderr)")
        #expect(try backup.lvsadm(["-L", "--daemon"]).stdout
            == "master sync daemon (mcast=eth0, syncid=0, maxlen=1472, group=224.0.0.81, port=8848, ttl=1)\n")
        let recovered = try DirectorProcess(bed: bed, rules: Self.rules, extraArguments: ["--sync-daemon", "backup"])
        defer { recovered.stop() }
        try Self.waitForLog(recovered, "initial sync complete", seconds: 15)
        let back = try Self.connections(recovered)
        #expect(back.count == 100, "entries on the recovered director: \(back.count)\n\(recovered.log)")
        for (port, entry) in onMaster {
            #expect(back[port]?.server == entry.server)
        }
        sleep(2)
        _ = FileManager.default.createFile(atPath: work.appendingPathComponent("stop").path, contents: nil)
        try Self.waitFor(work.appendingPathComponent("result.json"), seconds: 20, what: "the client's result")

        let (reported, failures) = try Self.streamFailures(work, servers: onMaster)
        #expect(reported == 100)
        #expect(failures.isEmpty, "\(failures.count) of 100 streams broke:\n\(failures.prefix(20).joined(separator: "\n"))\nbackup log:\n\(backup.log)")
        // And the backup did forward them: its counters moved after the takeover.
        let forwarded = try backup.stats().counter("forwarded_frames")
        #expect(forwarded > 100, "backup forwarded \(forwarded) frames")
    }
}

extension SyncFailoverTests {
    @Test("Unicast sync started by lvsd options: the backup gets the master's entries; --stop-daemon and -L --daemon")
    func unicastPeersStartedFromTheCommandLine() throws {
        let bed = try TestBed()
        defer { bed.tearDown() }
        let master = try DirectorProcess(bed: bed, rules: Self.rules,
                                         extraArguments: ["--sync-daemon", "master", "--sync-peer", TestBed.director2IP, "--sync-id", "7"])
        defer { master.stop() }
        let backup = try DirectorProcess(bed: bed, rules: Self.rules,
                                         extraArguments: ["--sync-daemon", "backup", "--sync-peer", TestBed.directorIP, "--sync-id", "7"],
                                         host: "director2")
        defer { backup.stop() }
        try Self.waitForLog(backup, "initial sync complete: 0 entries", seconds: 15)
        #expect(try master.lvsadm(["-L", "--daemon"]).stdout
            == "master sync daemon (mcast=eth0, syncid=7, maxlen=1472, group=10.200.0.3, port=8848, ttl=1)\n")

        try bed.check("client", "ip neigh replace \(TestBed.vip) lladdr \(TestBed.directorMAC) dev eth0 nud permanent")
        let work = try Self.openStreams(bed, in: master.directory, first: 10, second: 10, seconds: 60)
        defer { _ = FileManager.default.createFile(atPath: work.appendingPathComponent("stop").path, contents: nil) }
        let (onMaster, onBackup) = try Self.waitForSynced(master: master, backup: backup, count: 20, seconds: 5)
        #expect(onMaster.count == 20)
        #expect(onBackup.count == 20, "backup entries: \(onBackup.count)\n\(backup.log)")
        for (port, entry) in onMaster {
            #expect(onBackup[port]?.server == entry.server)
        }

        // Malformed datagrams on the sync port are counted and dropped; the daemon goes on.
        try bed.check("client", """
            python3 -c 'import socket; s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            for b in (b"\\x00", b"\\x00\\x07\\x00\\x30garbage", bytes(range(200))): s.sendto(b, ("\(TestBed.director2IP)", 8848))'
            """)
        usleep(500_000)
        kill(backup.process.processIdentifier, SIGUSR1)
        try Self.waitForLog(backup, "(3 malformed", seconds: 5)
        #expect(try Self.connections(backup).count == 20)

        // Stopping: the wrong role is refused, the right one stops, and the listing is empty.
        let wrong = try backup.lvsadm(["--stop-daemon", "master"])
        #expect(wrong.status != 0)
        #expect(wrong.stderr.contains("no master sync daemon is running"))
        #expect(try backup.lvsadm(["--stop-daemon", "backup"]).status == 0)
        #expect(try backup.lvsadm(["-L", "--daemon"]).stdout == "")
    }
}

extension SyncFailoverTests {
    @Test("A backup started late pulls a table of 10 000 UDP connections whole")
    func largeTablePull() throws {
        let rules = Self.rules + """
            -A -u 10.200.0.100:9000 -s rr
            -a -u 10.200.0.100:9000 -r 10.200.0.11:9000 -g -w 1
            -a -u 10.200.0.100:9000 -r 10.200.0.12:9000 -g -w 1
            -a -u 10.200.0.100:9000 -r 10.200.0.13:9000 -g -w 1

            """
        let bed = try TestBed()
        defer { bed.tearDown() }
        let master = try DirectorProcess(bed: bed, rules: rules, extraArguments: ["--sync-daemon", "master"])
        defer { master.stop() }
        try bed.check("client", "ip neigh replace \(TestBed.vip) lladdr \(TestBed.directorMAC) dev eth0 nud permanent")
        // 10 000 datagrams from 10 000 source ports: 10 000 UDP connections on the master.
        try bed.check("client", """
            python3 -c 'import socket
            for p in range(20000, 30000):
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.bind(("\(TestBed.clientIP)", p)); s.sendto(b"x", ("\(TestBed.vip)", 9000)); s.close()'
            """, timeout: 120)
        func udpEntries(_ d: DirectorProcess) throws -> Int {
            try d.lvsadm(["-L", "-c", "-n"]).stdout.split(separator: "\n").filter { $0.hasPrefix("UDP") }.count
        }
        let deadline = Date().addingTimeInterval(10)
        var onMaster = 0
        repeat {
            usleep(200_000)
            onMaster = try udpEntries(master)
        } while onMaster < 10000 && Date() < deadline
        #expect(onMaster == 10000)
        let backup = try DirectorProcess(bed: bed, rules: rules, extraArguments: ["--sync-daemon", "backup"], host: "director2")
        defer { backup.stop() }
        try Self.waitForLog(backup, "initial sync complete: 10000 entries", seconds: 30)
        #expect(try udpEntries(backup) == 10000)
        let masterTable = try master.lvsadm(["-L", "-n"]).stdout
        let backupTable = try backup.lvsadm(["-L", "-n"]).stdout
        #expect(masterTable == backupTable, "master:\n\(masterTable)\nbackup:\n\(backupTable)")
    }
}
