import Foundation
import Testing

/// lvsd's checks of received adverts against a real, misconfigured keepalived peer (VRRPv2,
/// keepalived's default): what lvsd logs (once, naming the instance, vrid, sender and the
/// difference), whether it accepts the advert, and the stats file's counters.
@Suite("VRRP advert checks with keepalived", .serialized)
struct VRRPAdvertCheckTests {
    typealias HA = HighAvailabilityTests

    /// Waits until the stats file's `vrrp` member satisfies `condition` (written every second).
    static func waitForVRRPStats(_ director: DirectorProcess, seconds: Double,
                                 _ condition: ([String: Any]) -> Bool) -> [String: Any] {
        let deadline = Date().addingTimeInterval(seconds)
        var last: [String: Any] = [:]
        while Date() < deadline {
            if let vrrp = try? director.stats().section("vrrp") {
                last = vrrp
                if condition(vrrp) { return vrrp }
            }
            usleep(100_000)
        }
        return last
    }

    static func number(_ vrrp: [String: Any], _ name: String) -> Int { (vrrp[name] as? NSNumber)?.intValue ?? -1 }
    static func dropped(_ vrrp: [String: Any], _ reason: String) -> Int {
        ((vrrp["dropped"] as? [String: NSNumber])?[reason])?.intValue ?? -1
    }

    static func occurrences(of text: String, in log: String) -> Int { log.components(separatedBy: text).count - 1 }

    @Test("a keepalived master with another virtual_ipaddress list, then with another advert_int: lvsd logs each once; it accepts the first (stays BACKUP) unless strict_mode, drops the second; the counters move")
    func misconfiguredKeepalivedPeer() throws {
        let bed = try TestBed()
        defer { bed.tearDown() }
        // keepalived (priority 150, VRRPv2, 1 s) owns 10.200.0.100 and 10.200.0.101; lvsd's
        // virtual_ipaddress has 10.200.0.100 only.
        let keepalived = try KeepalivedProcess(bed: bed, host: "director2", priority: 150, advertInterval: 1, vrrpVersion: nil,
                                               initialState: "MASTER", virtualAddresses: ["10.200.0.100", "10.200.0.101"])
        defer { keepalived.stop() }
        #expect(keepalived.waitForVIP(present: true, seconds: 6), "keepalived never took the VIP:\n\(keepalived.log)")

        // 1. Another address list: logged once, accepted; lvsd stays BACKUP.
        let mismatchLine = "VRRP VI_1 (vrid 51): adverts from 10.200.0.3 list other addresses than virtual_ipaddress (2 addresses, virtual_ipaddress has 1; extra 10.200.0.101); accepted"
        let lenient = try HA.director(bed, host: "director", priority: 100, version: nil, advertInterval: 1)
        defer { lenient.stop() }
        #expect(lenient.waitForLog(mismatchLine, seconds: 4) != nil, "\(lenient.log)")
        let accepted = Self.waitForVRRPStats(lenient, seconds: 4) { Self.number($0, "address_list_mismatch_accepted") >= 2 }
        #expect(Self.number(accepted, "address_list_mismatch_accepted") >= 2, "\(accepted)")
        #expect(Self.number(accepted, "advertisements_received") >= 2, "\(accepted)")
        #expect((accepted["dropped"] as? [String: NSNumber] ?? [:]).values.allSatisfy { $0.intValue == 0 }, "\(accepted)")
        #expect(Self.occurrences(of: "list other addresses", in: lenient.log) == 1, "\(lenient.log)")
        #expect(lenient.log.contains("INIT -> BACKUP") && !lenient.log.contains("-> MASTER"), "\(lenient.log)")
        lenient.stop()

        // 2. The same with strict_mode: dropped as address_list_mismatch (keepalived's way), logged once.
        let strict = try HA.director(bed, host: "director", priority: 100, extra: "    strict_mode", version: nil, advertInterval: 1)
        defer { strict.stop() }
        #expect(strict.waitForLog("VRRP VI_1 (vrid 51): advert from 10.200.0.3 dropped (address_list_mismatch: 2 addresses, virtual_ipaddress has 1; extra 10.200.0.101)",
                                  seconds: 4) != nil, "\(strict.log)")
        let strictStats = Self.waitForVRRPStats(strict, seconds: 4) { Self.dropped($0, "address_list_mismatch") >= 2 }
        #expect(Self.dropped(strictStats, "address_list_mismatch") >= 2, "\(strictStats)")
        #expect(Self.number(strictStats, "advertisements_received") == 0, "\(strictStats)")
        #expect(Self.occurrences(of: "address_list_mismatch", in: strict.log) == 1, "\(strict.log)")
        strict.stop()

        // 3. Another advert_int (lvsd 2 s, keepalived 1 s): RFC 3768 §7.1 and keepalived drop it.
        let slow = try HA.director(bed, host: "director", priority: 100, version: nil, advertInterval: 2)
        defer { slow.stop() }
        #expect(slow.waitForLog("VRRP VI_1 (vrid 51): advert from 10.200.0.3 dropped (advert_interval_mismatch: advert_int 1 s, ours 2 s",
                                seconds: 4) != nil, "\(slow.log)")
        let slowStats = Self.waitForVRRPStats(slow, seconds: 4) { Self.dropped($0, "advert_interval_mismatch") >= 2 }
        #expect(Self.dropped(slowStats, "advert_interval_mismatch") >= 2, "\(slowStats)")
        #expect(Self.number(slowStats, "advertisements_received") == 0, "\(slowStats)")
        #expect(Self.occurrences(of: "advert_interval_mismatch", in: slow.log) == 1, "\(slow.log)")
    }
}
