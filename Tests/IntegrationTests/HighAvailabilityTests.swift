import Foundation
import Testing

/// Director high availability with VRRPv3 in the namespace test bed: two lvsd (director and
/// director2) as a pair, and lvsd paired with a real keepalived. Who owns the VIP is checked
/// from the client, by ARP (arping and its neighbour table) and by curl through the VIP.
@Suite("VRRP director pairs", .serialized)
struct HighAvailabilityTests {
    static let rules = """
        -A -t 10.200.0.100:80 -s rr
        -a -t 10.200.0.100:80 -r 10.200.0.11:80 -g -w 1
        -a -t 10.200.0.100:80 -r 10.200.0.12:80 -g -w 1
        -a -t 10.200.0.100:80 -r 10.200.0.13:80 -g -w 1

        """
    /// 0.5 s adverts: master down interval 3 × 0.5 s + skew (≈ 0.3 s at priority 100).
    static let advertInterval = 0.5

    /// A vrrp_instance block; `notify` adds `notify` and `notify_master` scripts, `extra` more
    /// settings (unicast, track_interface).
    /// `version` nil writes no version line (keepalived's default, 2); `advertInterval` nil
    /// this suite's 0.5 s.
    static func vrrpConfig(priority: Int, preempt: Bool = true, notify: String? = nil, extra: String = "",
                           version: Int? = 3, advertInterval: Double? = nil) -> String {
        // VRRPv3 explicitly by default: 0.5 s needs it (version 2, keepalived's default, is whole seconds).
        var lines = ["vrrp_instance VI_1 {"] + (version.map { ["    version \($0)"] } ?? [])
            + ["    state BACKUP", "    interface eth0", "    virtual_router_id 51",
               "    priority \(priority)", "    advert_int \(advertInterval ?? Self.advertInterval)"]
        if !preempt { lines.append("    nopreempt") }
        if let notify {
            lines.append("    notify \(notify)")
            lines.append("    notify_master \"\(notify) specific\"")
        }
        if !extra.isEmpty { lines.append(extra) }
        lines += ["    virtual_ipaddress {", "        10.200.0.100", "    }", "}", ""]
        return lines.joined(separator: "\n")
    }

    /// lvsd in `host` with the test rules and a --vrrp-config file.
    static func director(_ bed: TestBed, host: String, priority: Int, preempt: Bool = true,
                         notify: String? = nil, extra: String = "", version: Int? = 3,
                         advertInterval: Double? = nil) throws -> DirectorProcess {
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("vrrp-\(bed.prefix)\(host)-\(UUID().uuidString.prefix(6)).conf")
        try vrrpConfig(priority: priority, preempt: preempt, notify: notify, extra: extra, version: version,
                       advertInterval: advertInterval)
            .write(to: file, atomically: true, encoding: .utf8)
        return try DirectorProcess(bed: bed, rules: rules, extraArguments: ["--vrrp-config", file.path], host: host)
    }

    /// Master down interval of a backup of `priority` (RFC 5798 §6.1), in seconds.
    static func masterDownInterval(priority: Int) -> Double {
        3 * advertInterval + Double(256 - priority) * advertInterval / 256
    }

    /// The MACs that answer ARP for the VIP from the client (arping, lower case).
    static func arpAnswerers(_ bed: TestBed) throws -> Set<String> {
        let out = try bed.sh("client", "arping -c 3 -w 4 -I eth0 10.200.0.100").stdout.lowercased()
        var macs: Set<String> = []
        for line in out.split(separator: "\n") where line.contains("reply from") {
            if let open = line.firstIndex(of: "["), let close = line.firstIndex(of: "]") {
                macs.insert(String(line[line.index(after: open)..<close]))
            }
        }
        return macs
    }

    /// The client's neighbour entry for the VIP ("" if none).
    static func clientNeighbor(_ bed: TestBed) throws -> String {
        try bed.check("client", "ip neigh show 10.200.0.100").lowercased()
    }

    /// curl through the VIP, a few tries (a takeover's ARP may still be on its way): the answer.
    static func curlVIP(_ bed: TestBed) throws -> String {
        try bed.sh("client", """
            for i in 1 2 3 4 5; do r=$(curl -s --max-time 2 http://10.200.0.100/) && [ -n "$r" ] && { echo "$r"; exit 0; }; sleep 0.3; done; echo failed
            """, timeout: 30).stdout.trimmingCharacters(in: .whitespacesAndNewlines)
    }

    static func waitForNeighbor(_ bed: TestBed, mac: String, seconds: Double) throws -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        repeat {
            // A packet to the VIP makes the client use (and, if stale, re-resolve) its entry.
            _ = try? bed.sh("client", "curl -s --max-time 1 http://10.200.0.100/ >/dev/null", timeout: 5)
            if try clientNeighbor(bed).contains(mac) { return true }
            usleep(200_000)
        } while Date() < deadline
        return false
    }

    static func occurrences(_ text: String, in log: String) -> Int { log.components(separatedBy: text).count - 1 }

    /// Waits until `text` is in `director`'s log `count` times; the seconds since `start`, or nil.
    static func waitForOccurrence(_ director: DirectorProcess, _ text: String, count: Int, seconds: Double,
                                  after start: Date) -> Double? {
        let deadline = start.addingTimeInterval(seconds)
        repeat {
            if occurrences(text, in: director.log) >= count { return Date().timeIntervalSince(start) }
            usleep(20_000)
        } while Date() < deadline
        return nil
    }

    @Test("two lvsd: the master answers ARP and forwards, the backup is silent; kill -9 fails over within 3 × advert_int + skew; preempt takes back")
    func lvsdPairFailoverAndPreempt() throws {
        let bed = try TestBed()
        defer { bed.tearDown() }
        // A notify script that records its arguments (keepalived's: INSTANCE NAME STATE PRIORITY).
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("vrrp-notify-\(bed.prefix)\(UUID().uuidString.prefix(6))")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }
        let script = scratch.appendingPathComponent("notify.sh")
        let record = scratch.appendingPathComponent("calls")
        try "#!/bin/sh\necho \"$*\" >> \(record.path)\n".write(to: script, atomically: true, encoding: .utf8)
        chmod(script.path, 0o755)
        let calls = { (try? String(contentsOf: record, encoding: .utf8)) ?? "" }
        let first = try Self.director(bed, host: "director", priority: 150, notify: script.path)
        defer { first.stop() }
        #expect(first.waitForLog("BACKUP -> MASTER", seconds: 5) != nil, "director never became master:\n\(first.log)")
        let second = try Self.director(bed, host: "director2", priority: 100)
        defer { second.stop() }
        #expect(second.waitForLog("INIT -> BACKUP", seconds: 5) != nil)

        #expect(try Self.arpAnswerers(bed) == [TestBed.directorMAC])
        #expect(try Self.curlVIP(bed).hasPrefix("rs"))
        // The backup stays silent through another advert interval or two and a stats write.
        sleep(2)
        #expect(!second.log.contains("-> MASTER"), "\(second.log)")
        let quiet = try second.stats()
        #expect(quiet.counter("arp_replies_sent") == 0)
        #expect(quiet.counter("forwarded_frames") == 0)
        #expect(quiet.counter("vip_conflicts") == 0)
        #expect(quiet.counter("gratuitous_arps_sent") == 0)
        #expect(try first.stats().counter("gratuitous_arps_sent") >= 5)
        // The stats file tells a monitoring system which director is which, and why.
        let masterVRRP = try first.stats().object["vrrp"] as? [String: Any]
        #expect(masterVRRP?["state"] as? String == "MASTER", "\(String(describing: masterVRRP))")
        #expect(masterVRRP?["instance"] as? String == "VI_1")
        #expect(((masterVRRP?["advertisements_sent"] as? NSNumber)?.intValue ?? 0) > 0)
        let backupVRRP = quiet.object["vrrp"] as? [String: Any]
        #expect(backupVRRP?["state"] as? String == "BACKUP", "\(String(describing: backupVRRP))")
        #expect(((backupVRRP?["advertisements_received"] as? NSNumber)?.intValue ?? 0) > 0)
        #expect(((backupVRRP?["became_master"] as? NSNumber)?.intValue ?? -1) == 0)

        // Crash of the master: the backup takes over after its master down interval.
        #expect(calls().contains("INSTANCE VI_1 BACKUP 150"), "notify calls: \(calls())")
        #expect(calls().contains("INSTANCE VI_1 MASTER 150"), "notify calls: \(calls())")
        #expect(calls().contains("specific"), "notify_master did not run: \(calls())")
        let killedAt = Date()
        first.kill9()
        let took = second.waitForLog("BACKUP -> MASTER", seconds: 10, after: killedAt)
        let limit = Self.masterDownInterval(priority: 100) + 1.0   // + the detection's polling slack
        #expect(took != nil && (took ?? 99) <= limit, "takeover after \(took ?? -1) s, limit \(limit) s")
        print("HA: takeover after kill -9 of the master: \(took ?? -1) s (master down interval \(Self.masterDownInterval(priority: 100)) s)")
        #expect(try Self.waitForNeighbor(bed, mac: TestBed.director2MAC, seconds: 5), "\((try? Self.clientNeighbor(bed)) ?? "")")
        #expect(try Self.curlVIP(bed).hasPrefix("rs"))
        #expect(try Self.arpAnswerers(bed) == [TestBed.director2MAC])

        // The old master returns with a higher priority and preempt: it takes over again.
        let back = try Self.director(bed, host: "director", priority: 150, notify: script.path)
        defer { back.stop() }
        #expect(back.waitForLog("BACKUP -> MASTER", seconds: 10) != nil, "\(back.log)")
        #expect(second.waitForLog("MASTER -> BACKUP", seconds: 5) != nil, "\(second.log)")
        #expect(try Self.waitForNeighbor(bed, mac: TestBed.directorMAC, seconds: 5), "\((try? Self.clientNeighbor(bed)) ?? "")")
        #expect(try Self.curlVIP(bed).hasPrefix("rs"))
        #expect(try Self.arpAnswerers(bed) == [TestBed.directorMAC])

        // A clean stop (SIGTERM) sends priority 0: the backup takes over after its skew time.
        let stoppedAt = Date()
        back.stop()
        let afterStop = Self.waitForOccurrence(second, "BACKUP -> MASTER", count: 2, seconds: 5, after: stoppedAt)
        #expect(afterStop != nil && (afterStop ?? 99) < Self.masterDownInterval(priority: 100),
                "takeover after a clean stop took \(afterStop ?? -1) s")
        print("HA: takeover after SIGTERM of the master (priority 0): \(afterStop ?? -1) s")
        #expect(back.log.contains("MASTER -> STOP"))
        usleep(300_000)
        #expect(calls().contains("INSTANCE VI_1 STOP 150"), "notify on stop: \(calls())")
    }

    @Test("two lvsd with nopreempt: the returning higher-priority director stays backup")
    func lvsdPairNopreempt() throws {
        let bed = try TestBed()
        defer { bed.tearDown() }
        let first = try Self.director(bed, host: "director", priority: 150, preempt: false)
        defer { first.stop() }
        #expect(first.waitForLog("BACKUP -> MASTER", seconds: 5) != nil)
        let second = try Self.director(bed, host: "director2", priority: 100, preempt: false)
        defer { second.stop() }
        #expect(second.waitForLog("INIT -> BACKUP", seconds: 5) != nil)
        first.kill9()
        #expect(second.waitForLog("BACKUP -> MASTER", seconds: 10) != nil)

        let back = try Self.director(bed, host: "director", priority: 150, preempt: false)
        defer { back.stop() }
        // Longer than its master down interval: it would have taken over by now if it could.
        sleep(4)
        #expect(!back.log.contains("-> MASTER"), "\(back.log)")
        #expect(!second.log.contains("MASTER -> BACKUP"))
        #expect(try Self.arpAnswerers(bed) == [TestBed.director2MAC])
        #expect(try back.stats().counter("arp_replies_sent") == 0)
        #expect(try Self.curlVIP(bed).hasPrefix("rs"))
    }

    @Test("two lvsd over unicast: a tracked interface going down puts the master in FAULT and the peer takes over; back up, it preempts again")
    func lvsdPairUnicastAndTrackedInterface() throws {
        let bed = try TestBed()
        defer { bed.tearDown() }
        try bed.check("director", "ip link add trk0 type veth peer name trk1 && ip link set trk1 up && ip link set trk0 up")
        let first = try Self.director(bed, host: "director", priority: 150, extra: [
            "    unicast_src_ip 10.200.0.2", "    unicast_peer {", "        10.200.0.3", "    }",
            "    track_interface {", "        trk0", "    }",
        ].joined(separator: "\n"))
        defer { first.stop() }
        #expect(first.waitForLog("BACKUP -> MASTER", seconds: 5) != nil, "\(first.log)")
        let second = try Self.director(bed, host: "director2", priority: 100, extra: [
            "    unicast_src_ip 10.200.0.3", "    unicast_peer {", "        10.200.0.2", "    }",
        ].joined(separator: "\n"))
        defer { second.stop() }
        #expect(second.waitForLog("INIT -> BACKUP", seconds: 5) != nil)
        sleep(2)
        #expect(!second.log.contains("-> MASTER"), "the unicast backup did not hear the master:\n\(second.log)")
        #expect(try Self.arpAnswerers(bed) == [TestBed.directorMAC])

        let downAt = Date()
        try bed.check("director", "ip link set trk0 down")
        #expect(first.waitForLog("MASTER -> FAULT", seconds: 3) != nil, "\(first.log)")
        let took = second.waitForLog("BACKUP -> MASTER", seconds: 10, after: downAt)
        #expect(took != nil && (took ?? 99) <= Self.masterDownInterval(priority: 100) + 1.0, "took \(took ?? -1) s")
        #expect(try Self.waitForNeighbor(bed, mac: TestBed.director2MAC, seconds: 5), "\((try? Self.clientNeighbor(bed)) ?? "")")
        #expect(try Self.arpAnswerers(bed) == [TestBed.director2MAC])

        let upAt = Date()
        try bed.check("director", "ip link set trk0 up")
        #expect(first.waitForLog("FAULT -> BACKUP", seconds: 3) != nil, "\(first.log)")
        #expect(Self.waitForOccurrence(first, "BACKUP -> MASTER", count: 2, seconds: 8, after: upAt) != nil, "\(first.log)")
        #expect(second.waitForLog("MASTER -> BACKUP", seconds: 5) != nil, "\(second.log)")
        #expect(try Self.waitForNeighbor(bed, mac: TestBed.directorMAC, seconds: 5), "\((try? Self.clientNeighbor(bed)) ?? "")")
        #expect(try Self.curlVIP(bed).hasPrefix("rs"))
    }

    @Test("lvsd and keepalived: keepalived → lvsd on keepalived's stop, lvsd → keepalived on its return; the client's ARP follows the master")
    func lvsdWithKeepalived() throws {
        let bed = try TestBed()
        defer { bed.tearDown() }
        let keepalived = try KeepalivedProcess(bed: bed, host: "director2", priority: 150)
        defer { keepalived.stop() }
        #expect(keepalived.waitForVIP(present: true, seconds: 8), "keepalived never took the VIP:\n\(keepalived.log)")
        #expect(try Self.waitForNeighbor(bed, mac: TestBed.director2MAC, seconds: 5))

        let lvsd = try Self.director(bed, host: "director", priority: 100)
        defer { lvsd.stop() }
        #expect(lvsd.waitForLog("INIT -> BACKUP", seconds: 5) != nil)
        sleep(2)
        #expect(!lvsd.log.contains("-> MASTER"), "lvsd took over from a higher-priority keepalived:\n\(lvsd.log)")
        #expect(try Self.arpAnswerers(bed) == [TestBed.director2MAC])
        #expect(try lvsd.stats().counter("vip_conflicts") == 0)

        // keepalived stops (priority 0 advert): lvsd takes over after its skew time.
        keepalived.stop()
        #expect(lvsd.waitForLog("BACKUP -> MASTER", seconds: 5) != nil, "\(lvsd.log)")
        #expect(try Self.waitForNeighbor(bed, mac: TestBed.directorMAC, seconds: 5), "\((try? Self.clientNeighbor(bed)) ?? "")")
        #expect(try Self.arpAnswerers(bed) == [TestBed.directorMAC])
        #expect(try Self.curlVIP(bed).hasPrefix("rs"))

        // keepalived returns with the higher priority and preempts: lvsd releases the VIP.
        let again = try KeepalivedProcess(bed: bed, host: "director2", priority: 150)
        defer { again.stop() }
        #expect(again.waitForVIP(present: true, seconds: 8), "\(again.log)")
        #expect(lvsd.waitForLog("MASTER -> BACKUP", seconds: 5) != nil, "\(lvsd.log)")
        #expect(try Self.waitForNeighbor(bed, mac: TestBed.director2MAC, seconds: 5), "\((try? Self.clientNeighbor(bed)) ?? "")")
        #expect(try Self.arpAnswerers(bed) == [TestBed.director2MAC])
    }

    @Test("lvsd master, keepalived backup: keepalived stays backup, takes over when lvsd stops")
    func keepalivedBackupOfLvsd() throws {
        let bed = try TestBed()
        defer { bed.tearDown() }
        let lvsd = try Self.director(bed, host: "director", priority: 150)
        defer { lvsd.stop() }
        #expect(lvsd.waitForLog("BACKUP -> MASTER", seconds: 5) != nil)
        let keepalived = try KeepalivedProcess(bed: bed, host: "director2", priority: 100)
        defer { keepalived.stop() }
        sleep(3)
        #expect(!keepalived.hasVIP(), "keepalived took the VIP from a higher-priority lvsd:\n\(keepalived.log)")
        #expect(try Self.arpAnswerers(bed) == [TestBed.directorMAC])
        #expect(try Self.curlVIP(bed).hasPrefix("rs"))
        lvsd.stop()
        #expect(keepalived.waitForVIP(present: true, seconds: 5), "\(keepalived.log)")
        #expect(try Self.waitForNeighbor(bed, mac: TestBed.director2MAC, seconds: 5), "\((try? Self.clientNeighbor(bed)) ?? "")")
        #expect(try Self.arpAnswerers(bed) == [TestBed.director2MAC])
    }
}
