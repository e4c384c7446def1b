import Foundation
import Testing

/// The whole high-availability story of issue 7, from one keepalived.conf per director: VRRP
/// moves the VIP, `lvs_sync_daemon` keeps the backup's connection table warm, its role follows
/// the VRRP state, and a recovered master pulls the table before it preempts. 100 long-lived
/// keep-alive streams must all survive a `kill -9` of the master and the master's return, each
/// on the real server it started on.
@Suite("HA pair: VRRP and connection sync", .serialized)
struct PairFailoverTests {
    static let advertInterval = 0.5

    /// The bed's service in keepalived.conf: rr over the three real servers, DR (shared with
    /// VRRPReloadTests).
    static let virtualServer = """
        virtual_server 10.200.0.100 80 {
            lb_algo rr
            lb_kind DR
            protocol TCP
            real_server 10.200.0.11 80 {
                weight 1
            }
            real_server 10.200.0.12 80 {
                weight 1
            }
            real_server 10.200.0.13 80 {
                weight 1
            }
        }
        """

    /// keepalived.conf for one director of the pair: the service, the VRRP instance and the
    /// sync daemon that follows it.
    static func config(priority: Int) -> String {
        """
        global_defs {
            lvs_sync_daemon eth0 VI_1
            vrrp_version 3
        }
        vrrp_instance VI_1 {
            state BACKUP
            interface eth0
            virtual_router_id 51
            priority \(priority)
            advert_int \(advertInterval)
            virtual_ipaddress {
                10.200.0.100
            }
        }
        \(virtualServer)

        """
    }

    /// Master down interval of the backup (RFC 5798 §6.1) at `priority`, in seconds.
    static func masterDownInterval(priority: Int) -> Double {
        3 * advertInterval + Double(256 - priority) * advertInterval / 256
    }

    @Test("kill -9 of the master: the backup owns the VIP within the master down interval and 100 of 100 streams go on, each on its server; the master comes back, pulls the table, preempts, and they still go on")
    func failoverAndPreemptKeepEveryStream() throws {
        let bed = try TestBed()
        defer { bed.tearDown() }
        let first = try DirectorProcess(bed: bed, rules: nil, config: Self.config(priority: 150))
        defer { first.stop() }
        #expect(first.waitForLog("BACKUP -> MASTER", seconds: 6) != nil, "director never became master:\n\(first.log)")
        let second = try DirectorProcess(bed: bed, rules: nil, config: Self.config(priority: 100), host: "director2")
        defer { second.stop() }
        #expect(second.waitForLog("initial sync complete", seconds: 15) != nil, "backup never pulled the table:\n\(second.log)")
        #expect(!second.log.contains("-> MASTER"))
        #expect(try first.lvsadm(["-L", "--daemon"]).stdout.hasPrefix("master sync daemon (mcast=eth0, syncid=0"))
        #expect(try second.lvsadm(["-L", "--daemon"]).stdout.hasPrefix("backup sync daemon (mcast=eth0, syncid=0"))
        // The stats file says the same to a monitoring system (written once a second).
        sleep(2)
        let backupStats = try second.stats()
        #expect(backupStats.section("sync")?["role"] as? String == "backup", "\(backupStats.object)")
        #expect(backupStats.section("sync")?["initial_sync_complete"] as? Bool == true)
        #expect(backupStats.section("vrrp")?["state"] as? String == "BACKUP")
        #expect(try first.stats().section("sync")?["role"] as? String == "master")
        #expect(try first.stats().section("vrrp")?["state"] as? String == "MASTER")
        // Real servers without checkers are up from the start, as in keepalived.
        let health = backupStats.object["health"] as? [[String: Any]]
        let servers = health?.first?["real_servers"] as? [[String: Any]]
        #expect(servers?.count == 3 && servers?.allSatisfy { $0["up"] as? Bool == true } == true, "\(String(describing: health))")

        // 100 streams through the VIP, opened while the first director is master.
        let work = try SyncFailoverTests.openStreams(bed, in: first.directory, first: 50, second: 50, seconds: 120)
        defer { _ = FileManager.default.createFile(atPath: work.appendingPathComponent("stop").path, contents: nil) }
        let (onMaster, onBackup) = try SyncFailoverTests.waitForSynced(master: first, backup: second, count: 100, seconds: 10)
        #expect(onMaster.count == 100)
        #expect(onBackup.count == 100, "synced entries on the backup: \(onBackup.count)\n\(second.log)")

        // The master dies without a word: no priority-0 advert, the backup must time it out.
        let killedAt = Date()
        first.kill9()
        let takeover = second.waitForLog("BACKUP -> MASTER", seconds: 10, after: killedAt)
        let bound = Self.masterDownInterval(priority: 100)
        #expect(takeover != nil, "the backup never took over:\n\(second.log)")
        if let takeover {
            // The log line is polled every 20 ms and the adverts' last one may be up to one
            // interval old when the master dies: the bound is from the last advert heard.
            #expect(takeover <= bound + 0.25, "takeover after \(takeover) s, master down interval \(bound) s")
        }
        #expect(second.waitForLog("sync daemon switched to master", seconds: 5) != nil, "\(second.log)")
        sleep(3)

        // The first director comes back with the higher priority: it must pull the table from
        // the new master before it preempts, then take the VIP back.
        let returned = try DirectorProcess(bed: bed, rules: nil, config: Self.config(priority: 150),
                                           directory: first.directory)
        defer { returned.stop() }
        let pulledAt = returned.waitForLog("initial sync complete", seconds: 15)
        let preemptedAt = returned.waitForLog("BACKUP -> MASTER", seconds: 15)
        #expect(pulledAt != nil && preemptedAt != nil, "returned director:\n\(returned.log)")
        if let pulledAt, let preemptedAt {
            #expect(pulledAt <= preemptedAt, "preempted before the pull finished:\n\(returned.log)")
        }
        let back = try SyncFailoverTests.connections(returned)
        #expect(back.count == 100, "entries on the returned master: \(back.count)")
        #expect(second.waitForLog("MASTER -> BACKUP", seconds: 5) != nil, "\(second.log)")
        sleep(3)

        _ = FileManager.default.createFile(atPath: work.appendingPathComponent("stop").path, contents: nil)
        try SyncFailoverTests.waitFor(work.appendingPathComponent("result.json"), seconds: 30, what: "the client's result")
        let (reported, failures) = try SyncFailoverTests.streamFailures(
            work, servers: onMaster, maximumGap: SyncFailoverTests.survivableGap(outage: Self.masterDownInterval(priority: 100)))
        #expect(reported == 100)
        #expect(failures.isEmpty, "\(failures.count) of 100 streams broke:\n\(failures.prefix(20).joined(separator: "\n"))\nsecond:\n\(second.log)\nreturned:\n\(returned.log)")
        // Both takeovers really carried traffic: the second director forwarded while it was
        // master, and the returned one forwards now.
        #expect(try second.stats().counter("forwarded_frames") > 100)
        #expect(try returned.stats().counter("forwarded_frames") > 100)
        let returnedSync = try returned.stats().section("sync")
        #expect(returnedSync?["role"] as? String == "master", "\(String(describing: returnedSync))")
        #expect(((returnedSync?["tables_pulled"] as? NSNumber)?.intValue ?? 0) >= 1)
        #expect((((returnedSync?["imported"] as? [String: Any])?["added"] as? NSNumber)?.intValue ?? 0) >= 100)
    }
}
