import Testing
import LVSCore
@testable import LVSHA

/// SIGHUP's in-place reload of a running instance: the state is kept, a master announces a
/// new priority at once, a backup with a raised priority preempts at the next advert of a
/// lower master, and a different instance is refused.
@Suite struct VRRPStateMachineReconfigureTests {
    typealias T = VRRPStateMachineTests

    @Test("a master with a new priority stays master and advertises it at once")
    func masterAnnouncesNewPriority() {
        var m = T.machine(priority: 150, state: .master)
        _ = m.handle(.startup, now: 0)
        #expect(m.state == .master)
        var next = m.configuration
        next.priority = 120
        #expect(m.canReconfigure(to: next))
        #expect(m.reconfigure(next, now: 5 * T.second) == [.sendAdvertisement(priority: 120)])
        #expect(m.state == .master)
        #expect(m.deadline == 6 * T.second)
        // Unchanged priority and interval: nothing to announce.
        var same = next
        same.notify.any = ["/bin/true"]
        #expect(m.reconfigure(same, now: 5 * T.second).isEmpty)
    }

    @Test("a backup raised above the master preempts it at its next advert; the timer is kept until then")
    func backupRaisedPreempts() {
        var m = T.machine(priority: 100)
        _ = m.handle(.startup, now: 0)
        _ = m.handle(T.advert(150), now: T.second)
        let deadline = m.deadline
        var next = m.configuration
        next.priority = 200
        #expect(m.reconfigure(next, now: 2 * T.second).isEmpty)
        #expect(m.state == .backup)
        #expect(m.deadline == deadline)
        // The master's next advert is lower now: discarded, the timer runs out, 200 takes over.
        _ = m.handle(T.advert(150), now: 3 * T.second)
        #expect(m.deadline == deadline)
        if let d = m.deadline {
            #expect(m.handle(.timerExpired, now: d) == [.sendAdvertisement(priority: 200), .enter(.master)])
        }
    }

    @Test("another router id, interface, name, version or peers is another instance: refused",
          arguments: ["vrid", "interface", "name", "version", "peers"])
    func identityChangesAreRefused(_ field: String) {
        let m = T.machine()
        var next = m.configuration
        switch field {
        case "vrid": next.virtualRouterID = 52
        case "interface": next.interface = "eth1"
        case "name": next.name = "VI_2"
        case "version": next.version = .v2
        default: next.unicastPeers = [IPv4Address(10, 200, 0, 3)]
        }
        #expect(!m.canReconfigure(to: next))
    }

    @Test("a v2 backup takes its new advert_int for the master down interval")
    func v2BackupNewInterval() {
        var m = T.machine(priority: 100, version: .v2, advertInterval: 100)
        _ = m.handle(.startup, now: 0)
        var next = m.configuration
        next.advertIntervalCentiseconds = 200
        _ = m.reconfigure(next, now: T.second)
        #expect(m.masterAdvertInterval == 200)
    }
}
