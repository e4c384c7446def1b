import Foundation
import Testing

/// lvsd and a stock keepalived speaking keepalived's DEFAULT protocol, VRRPv2 (no
/// `vrrp_version` on either side), with `auth_type PASS`: the migration of a keepalived pair
/// one director at a time, from the same keepalived.conf. One master, failover both ways, the
/// client's ARP follows; a wrong password is dropped and counted.
@Suite("VRRPv2 with keepalived", .serialized)
struct KeepalivedVRRPv2Tests {
    typealias HA = HighAvailabilityTests
    static let password = "s3cret"
    /// The v2 advert keepalived sends with priority 150, vrid 51, 1 s, VIP 10.200.0.100 and
    /// `auth_pass s3cret`, worked out by hand from RFC 3768 §5.3 (the same bytes as
    /// LVSHATests.VRRPv2AdvertisementTests.withPasswordBytes).
    static let keepalivedAdvert: [UInt8] = [0x21, 0x33, 0x96, 0x01, 0x01, 0x01, 0x00, 0x84,
                                            0x0A, 0xC8, 0x00, 0x64,
                                            0x73, 0x33, 0x63, 0x72, 0x65, 0x74, 0x00, 0x00]

    /// lvsd in `host` from a vrrp_instance in keepalived's default version (no version line),
    /// 1 s adverts, with `auth_pass`.
    static func lvsd(_ bed: TestBed, host: String, priority: Int, password: String) throws -> DirectorProcess {
        let authentication = "    authentication {\n        auth_type PASS\n        auth_pass \(password)\n    }"
        return try HA.director(bed, host: host, priority: priority, extra: authentication, version: nil, advertInterval: 1)
    }

    /// The VRRP message (after the IPv4 header) of one advert from `source`, captured on the
    /// client's link with tcpdump.
    static func captureAdvert(_ bed: TestBed, from source: String) throws -> [UInt8] {
        let out = try bed.check("client", "timeout 6 tcpdump -i eth0 -n -c 1 -x --immediate-mode 'ip proto 112 and src \(source)' 2>/dev/null", timeout: 10)
        var bytes: [UInt8] = []
        for line in out.split(separator: "\n") where line.contains("0x") && line.contains(":") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            for word in line[line.index(after: colon)...].split(separator: " ") {
                var text = Substring(word)
                while text.count >= 2, let b = UInt8(text.prefix(2), radix: 16) {
                    bytes.append(b)
                    text = text.dropFirst(2)
                }
            }
        }
        guard let first = bytes.first, first >> 4 == 4 else { return [] }
        let headerLength = Int(first & 0x0F) * 4
        return bytes.count > headerLength ? Array(bytes[headerLength...]) : []
    }

    @Test("keepalived's default VRRPv2 with auth_type PASS: its advert is the hand-worked golden bytes; one master; failover both ways; the client's ARP follows")
    func electsAndFailsOverWithKeepalived() throws {
        let bed = try TestBed()
        defer { bed.tearDown() }
        let keepalived = try KeepalivedProcess(bed: bed, host: "director2", priority: 150, advertInterval: 1,
                                               vrrpVersion: nil, authPass: Self.password)
        defer { keepalived.stop() }
        #expect(keepalived.waitForVIP(present: true, seconds: 8), "keepalived never took the VIP:\n\(keepalived.log)")
        let captured = try Self.captureAdvert(bed, from: "10.200.0.3")
        #expect(captured == Self.keepalivedAdvert, "keepalived's advert: \(captured.map { String(format: "%02x", $0) }.joined(separator: " "))")

        let lvsd = try Self.lvsd(bed, host: "director", priority: 100, password: Self.password)
        defer { lvsd.stop() }
        #expect(lvsd.waitForLog("INIT -> BACKUP", seconds: 5) != nil, "\(lvsd.log)")
        #expect(lvsd.log.contains("VRRPv2 with auth_type PASS"), "\(lvsd.log)")
        sleep(5)   // more than lvsd's master-down interval (3 s + skew)
        #expect(!lvsd.log.contains("-> MASTER"), "lvsd took over from a higher-priority keepalived:\n\(lvsd.log)")
        #expect(keepalived.hasVIP())
        #expect(try HA.arpAnswerers(bed) == [TestBed.director2MAC])
        let vrrp = try #require(try lvsd.stats().section("vrrp"))
        #expect((vrrp["advertisements_received"] as? NSNumber)?.intValue ?? 0 >= 3, "\(vrrp)")
        let dropped = vrrp["dropped"] as? [String: NSNumber] ?? [:]
        #expect(dropped.values.allSatisfy { $0.intValue == 0 }, "\(dropped)")

        // keepalived stops (priority 0 advert): lvsd takes over after its skew time.
        keepalived.stop()
        #expect(lvsd.waitForLog("BACKUP -> MASTER", seconds: 4) != nil, "\(lvsd.log)")
        #expect(try HA.waitForNeighbor(bed, mac: TestBed.directorMAC, seconds: 5), "\((try? HA.clientNeighbor(bed)) ?? "")")
        #expect(try HA.arpAnswerers(bed) == [TestBed.directorMAC])
        #expect(try HA.curlVIP(bed).hasPrefix("rs"))

        // keepalived returns with the higher priority and preempts: lvsd releases the VIP.
        let again = try KeepalivedProcess(bed: bed, host: "director2", priority: 150, advertInterval: 1,
                                          vrrpVersion: nil, authPass: Self.password)
        defer { again.stop() }
        #expect(again.waitForVIP(present: true, seconds: 8), "\(again.log)")
        #expect(lvsd.waitForLog("MASTER -> BACKUP", seconds: 5) != nil, "\(lvsd.log)")
        #expect(try HA.waitForNeighbor(bed, mac: TestBed.director2MAC, seconds: 5), "\((try? HA.clientNeighbor(bed)) ?? "")")
        #expect(try HA.arpAnswerers(bed) == [TestBed.director2MAC])

        // lvsd as the higher priority (the migrated master): keepalived stays backup, takes over on lvsd's stop.
        again.stop()
        lvsd.stop()
        let master = try Self.lvsd(bed, host: "director", priority: 200, password: Self.password)
        defer { master.stop() }
        #expect(master.waitForLog("BACKUP -> MASTER", seconds: 6) != nil, "\(master.log)")
        // lvsd's own advert, by hand: priority 200 (0xc8) instead of 150; the checksum words
        // sum to 0x1_ff7a − 0x9601 + 0xc801 = 0x2_317a → 0x317c → ~ 0xce83.
        var lvsdAdvert = Self.keepalivedAdvert
        lvsdAdvert[2] = 0xC8
        lvsdAdvert[6] = 0xCE
        lvsdAdvert[7] = 0x83
        let sent = try Self.captureAdvert(bed, from: "10.200.0.2")
        #expect(sent == lvsdAdvert, "lvsd's advert: \(sent.map { String(format: "%02x", $0) }.joined(separator: " "))")
        let backup = try KeepalivedProcess(bed: bed, host: "director2", priority: 100, advertInterval: 1,
                                           vrrpVersion: nil, authPass: Self.password)
        defer { backup.stop() }
        sleep(5)
        #expect(!backup.hasVIP(), "keepalived took the VIP from a higher-priority lvsd:\n\(backup.log)")
        #expect(try HA.arpAnswerers(bed) == [TestBed.directorMAC])
        master.stop()
        #expect(backup.waitForVIP(present: true, seconds: 5), "\(backup.log)")
        #expect(try HA.waitForNeighbor(bed, mac: TestBed.director2MAC, seconds: 5), "\((try? HA.clientNeighbor(bed)) ?? "")")
    }

    @Test("a wrong auth_pass on one side: each drops the other's adverts (lvsd counts auth_failure) and both become master")
    func wrongPasswordIsDroppedAndCounted() throws {
        let bed = try TestBed()
        defer { bed.tearDown() }
        let keepalived = try KeepalivedProcess(bed: bed, host: "director2", priority: 150, advertInterval: 1,
                                               vrrpVersion: nil, authPass: Self.password)
        defer { keepalived.stop() }
        #expect(keepalived.waitForVIP(present: true, seconds: 8), "\(keepalived.log)")
        let lvsd = try Self.lvsd(bed, host: "director", priority: 100, password: "other")
        defer { lvsd.stop() }
        #expect(lvsd.waitForLog("BACKUP -> MASTER", seconds: 8) != nil, "lvsd heard keepalived despite the wrong password:\n\(lvsd.log)")
        sleep(2)   // the stats file is written every second
        let vrrp = try #require(try lvsd.stats().section("vrrp"))
        let dropped = vrrp["dropped"] as? [String: NSNumber] ?? [:]
        #expect((dropped["auth_failure"]?.intValue ?? 0) >= 3, "\(dropped)")
        #expect((vrrp["advertisements_received"] as? NSNumber)?.intValue == 0, "\(vrrp)")
        // keepalived drops lvsd's adverts too (its log says why) and stays master: split brain, as configured.
        #expect(keepalived.hasVIP())
        #expect(keepalived.log.contains("invalid passwd"), "\(keepalived.log)")
    }
}
