import Testing
import LVSCore
@testable import LVSHA

/// The receive checks' log: one line per kind, sender and difference; again only when it
/// changes or goes away; a bounded number of lines however many strangers there are.
@Suite struct VRRPCheckLogTests {
    static let peer = IPv4Address(10, 200, 0, 3)
    static let vip = IPv4Address(10, 200, 0, 100)
    static let vip2 = IPv4Address(10, 200, 0, 101)

    static func accepted(from source: IPv4Address = peer, mismatch: VRRPAddressListMismatch? = nil) -> VRRPReceiveOutcome {
        .accepted(.advertisement(priority: 150, maxAdvertInterval: 100, source: source), addressMismatch: mismatch)
    }

    static let interval = VRRPReceiveOutcome.dropped(VRRPDrop(.advertIntervalMismatch, source: peer, detail: "advert_int 2 s, ours 1 s"))

    @Test("a drop is logged once, with the instance, vrid, sender, reason and difference; again after the sender was accepted")
    func dropOncePerChange() {
        var log = VRRPCheckLog(instance: "VI_1", virtualRouterID: 51)
        let first = log.lines(for: Self.interval)
        #expect(first == ["VRRP VI_1 (vrid 51): advert from 10.200.0.3 dropped (advert_interval_mismatch: advert_int 2 s, ours 1 s); more like it are counted in the stats file's vrrp.dropped, not logged"])
        for _ in 0..<10 { #expect(log.lines(for: Self.interval).isEmpty) }
        // Another difference from the same sender is a change.
        let three = VRRPReceiveOutcome.dropped(VRRPDrop(.advertIntervalMismatch, source: Self.peer, detail: "advert_int 3 s, ours 1 s"))
        #expect(log.lines(for: three).count == 1)
        // The peer was fixed: one line says so, and a relapse is logged again.
        #expect(log.lines(for: Self.accepted()) == ["VRRP VI_1 (vrid 51): adverts from 10.200.0.3 are accepted again (were dropped as advert_interval_mismatch)"])
        #expect(log.lines(for: Self.accepted()).isEmpty)
        #expect(log.lines(for: Self.interval) == first)
    }

    @Test("an accepted advert with another address list: one line per difference and sender, one when it matches again")
    func addressMismatchOncePerChange() {
        var log = VRRPCheckLog(instance: "VI_1", virtualRouterID: 51)
        let extra = VRRPAddressListMismatch(missing: [], extra: [Self.vip2], receivedCount: 2, expectedCount: 1)
        let lines = log.lines(for: Self.accepted(mismatch: extra))
        #expect(lines == ["VRRP VI_1 (vrid 51): adverts from 10.200.0.3 list other addresses than virtual_ipaddress (2 addresses, virtual_ipaddress has 1; extra 10.200.0.101); accepted (vrrp_strict would drop them); give both directors the same virtual_ipaddress"])
        #expect(log.lines(for: Self.accepted(mismatch: extra)).isEmpty)
        let missing = VRRPAddressListMismatch(missing: [Self.vip], extra: [], receivedCount: 0, expectedCount: 1)
        #expect(log.lines(for: Self.accepted(mismatch: missing)).count == 1)
        #expect(log.lines(for: Self.accepted(mismatch: missing)).isEmpty)
        #expect(log.lines(for: Self.accepted()) == ["VRRP VI_1 (vrid 51): adverts from 10.200.0.3 list the same addresses as virtual_ipaddress again"])
        #expect(log.lines(for: Self.accepted()).isEmpty)
    }

    @Test("many strangers: at most a bounded number of lines per kind, then one saying the rest are only counted")
    func boundedPerKind() {
        var log = VRRPCheckLog(instance: "VI_1", virtualRouterID: 51)
        var lines: [String] = []
        for host in 1...50 {
            let drop = VRRPDrop(.notFromPeer, source: IPv4Address(10, 200, 1, UInt8(host)), detail: "not in unicast_peer")
            for _ in 0..<3 { lines += log.lines(for: .dropped(drop)) }
        }
        #expect(lines.count == VRRPCheckLog.maxLoggedPerReason + 1)
        #expect(lines.last?.contains("not_from_peer from other senders") == true)
        // Another kind still gets its line.
        #expect(log.lines(for: Self.interval).count == 1)
    }

    @Test("v3: the master's interval learned by a backup is logged when it differs from the last one logged")
    func learnedInterval() {
        var log = VRRPCheckLog(instance: "VI_1", virtualRouterID: 51)
        #expect(log.masterIntervalLine(100, from: Self.peer, own: 100, masterDownNanoseconds: 3_600_000_000) == nil)
        #expect(log.masterIntervalLine(50, from: Self.peer, own: 100, masterDownNanoseconds: 1_805_000_000)
                == "VRRP VI_1 (vrid 51): master 10.200.0.3 advertises every 0.5 s (own advert_int 1 s); master down interval now 1.8 s")
        #expect(log.masterIntervalLine(50, from: Self.peer, own: 100, masterDownNanoseconds: 1_805_000_000) == nil)
        #expect(log.masterIntervalLine(100, from: Self.peer, own: 100, masterDownNanoseconds: 3_610_000_000)?.contains("every 1 s") == true)
        #expect(VRRPCheckLog.seconds(361) == "3.61")
        #expect(VRRPCheckLog.seconds(5) == "0.05")
    }
}
