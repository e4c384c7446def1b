import Foundation
import Testing

/// SIGHUP on a director of a VRRP pair applies a changed vrrp_instance in place, as
/// keepalived's reload does: raising the backup's priority makes it preempt without a
/// restart, and a change that makes it another instance is refused with a warning.
@Suite("VRRP reload (SIGHUP)", .serialized)
struct VRRPReloadTests {
    static func config(priority: Int, routerID: Int = 61) -> String {
        """
        vrrp_instance VI_1 {
            state BACKUP
            interface eth0
            virtual_router_id \(routerID)
            version 3
            priority \(priority)
            advert_int 0.5
            virtual_ipaddress {
                10.200.0.100
            }
        }
        \(PairFailoverTests.virtualServer)

        """
    }

    @Test("the backup reloaded with a higher priority preempts without a restart; the first one reloaded higher still takes back; another router id is refused")
    func priorityChangeByReload() throws {
        let bed = try TestBed()
        defer { bed.tearDown() }
        let first = try DirectorProcess(bed: bed, rules: nil, config: Self.config(priority: 150))
        defer { first.stop() }
        #expect(first.waitForLog("BACKUP -> MASTER", seconds: 6) != nil, "\(first.log)")
        let second = try DirectorProcess(bed: bed, rules: nil, config: Self.config(priority: 100), host: "director2")
        defer { second.stop() }
        #expect(second.waitForLog("INIT -> BACKUP", seconds: 6) != nil, "\(second.log)")
        sleep(1)
        #expect(!second.log.contains("-> MASTER"))

        // Raise the backup above the master: it preempts at the master's next advert.
        let reloadedAt = Date()
        let outcome = try second.reload(config: Self.config(priority: 200))
        #expect(outcome.contains("reloaded"), "\(outcome)")
        #expect(second.waitForLog("reloaded in state BACKUP: priority 100 -> 200", seconds: 3, after: reloadedAt) != nil, "\(second.log)")
        #expect(second.waitForLog("BACKUP -> MASTER", seconds: 5, after: reloadedAt) != nil, "\(second.log)")
        #expect(first.waitForLog("MASTER -> BACKUP", seconds: 5, after: reloadedAt) != nil, "\(first.log)")
        #expect(try HighAvailabilityTests.arpAnswerers(bed) == [TestBed.director2MAC])
        #expect(try HighAvailabilityTests.curlVIP(bed).hasPrefix("rs"))
        // The same process: one start line, no restart.
        #expect(second.log.components(separatedBy: "VRRP VI_1: VRRPv3").count == 2, "\(second.log)")

        // The first director, reloaded above that, takes the VIP back.
        let againAt = Date()
        try first.reload(config: Self.config(priority: 250))
        #expect(first.waitForLog("reloaded in state BACKUP: priority 150 -> 250", seconds: 3, after: againAt) != nil, "\(first.log)")
        #expect(HighAvailabilityTests.waitForOccurrence(first, "BACKUP -> MASTER", count: 2, seconds: 5, after: againAt) != nil, "\(first.log)")
        #expect(try HighAvailabilityTests.arpAnswerers(bed) == [TestBed.directorMAC])

        // Another virtual_router_id is another instance: refused, the state stays.
        let refusedAt = Date()
        try first.reload(config: Self.config(priority: 250, routerID: 62))
        #expect(first.waitForLog("a different instance", seconds: 3, after: refusedAt) != nil, "\(first.log)")
        sleep(1)
        #expect(try first.stats().section("vrrp")?["state"] as? String == "MASTER")
        #expect(try second.stats().section("vrrp")?["state"] as? String == "BACKUP")
    }
}
