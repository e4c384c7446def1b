import Testing
import LVSCore
@testable import LVSHA

/// RFC 5798 §6.4 with a fake clock: each transition, the timers (skew time, master-down
/// interval), preemption, nopreempt, preempt_delay, the mayPreempt hook and priority 0.
@Suite struct VRRPStateMachineTests {
    static let me = IPv4Address(10, 200, 0, 2)
    static let lower = IPv4Address(10, 200, 0, 1)
    static let higher = IPv4Address(10, 200, 0, 3)
    static let second: UInt64 = 1_000_000_000

    static func machine(priority: UInt8 = 100, preempt: Bool = true, delay: UInt32 = 0,
                        state: VRRPInstanceConfiguration.InitialState = .backup, version: VRRPVersion = .v3,
                        advertInterval: UInt16 = 100) -> VRRPStateMachine {
        var c = VRRPInstanceConfiguration(name: "VI_1", interface: "eth0", virtualRouterID: 51)
        c.version = version
        c.advertIntervalCentiseconds = advertInterval
        c.priority = priority
        c.preempt = preempt
        c.preemptDelaySeconds = delay
        c.initialState = state
        c.virtualAddresses = [IPv4Address(10, 200, 0, 100)]
        return VRRPStateMachine(configuration: c, primaryAddress: me)
    }

    static func advert(_ priority: UInt8, from source: IPv4Address = higher, interval: UInt16 = 100) -> VRRPEvent {
        .advertisement(priority: priority, maxAdvertInterval: interval, source: source)
    }

    @Test func timersFollowTheRFC() {
        let m = Self.machine(priority: 100)
        // Skew = (256 - 100) × 100 cs / 256 = 60.9375 cs; down = 300 cs + skew.
        #expect(m.skewTime == 609_375_000)
        #expect(m.masterDownInterval == 3_609_375_000)
    }

    @Test func initToBackupThenMasterWhenNobodySpeaks() {
        var m = Self.machine()
        #expect(m.handle(.startup, now: 0) == [.enter(.backup)])
        #expect(m.state == .backup)
        #expect(m.deadline == m.masterDownInterval)
        #expect(m.handle(.timerExpired, now: m.masterDownInterval) == [.sendAdvertisement(priority: 100), .enter(.master)])
        #expect(m.state == .master)
        #expect(m.deadline == m.masterDownInterval + Self.second)
        // The advertisement timer: one advert per interval.
        #expect(m.handle(.timerExpired, now: m.masterDownInterval + Self.second) == [.sendAdvertisement(priority: 100)])
    }

    @Test func addressOwnerAndStateMasterStartAsMaster() {
        var owner = Self.machine(priority: 255)
        #expect(owner.handle(.startup, now: 0) == [.sendAdvertisement(priority: 255), .enter(.master)])
        var configured = Self.machine(state: .master)
        #expect(configured.handle(.startup, now: 0) == [.sendAdvertisement(priority: 100), .enter(.master)])
    }

    @Test func backupAcceptsAHigherOrEqualMasterAndResetsTheTimer() {
        var m = Self.machine()
        _ = m.handle(.startup, now: 0)
        #expect(m.handle(Self.advert(150, interval: 50), now: 2 * Self.second) == [])
        #expect(m.state == .backup)
        // Master_Adver_Interval is the master's: 50 cs; down = 150 cs + 156×50/256 cs.
        #expect(m.masterAdvertInterval == 50)
        #expect(m.deadline == 2 * Self.second + m.masterDownInterval)
        #expect(m.masterDownInterval == 1_500_000_000 + 304_687_500)
        #expect(m.handle(Self.advert(100), now: 3 * Self.second) == [])
        #expect(m.deadline == 3 * Self.second + m.masterDownInterval)
    }

    @Test func backupPreemptsALowerMaster() {
        var m = Self.machine(priority: 150)
        _ = m.handle(.startup, now: 0)
        let deadline = m.deadline
        #expect(m.handle(Self.advert(100), now: Self.second) == [])
        #expect(m.deadline == deadline)            // discarded: the timer runs on
        #expect(m.handle(.timerExpired, now: deadline ?? 0) == [.sendAdvertisement(priority: 150), .enter(.master)])
    }

    @Test func nopreemptKeepsALowerMaster() {
        var m = Self.machine(priority: 150, preempt: false)
        _ = m.handle(.startup, now: 0)
        #expect(m.handle(Self.advert(100), now: Self.second) == [])
        #expect(m.deadline == Self.second + m.masterDownInterval)
        #expect(m.state == .backup)
    }

    // keepalived's preempt_delay: counted from the first advert of the lower-priority master.
    @Test func preemptDelayHoldsOffThenPreempts() {
        var m = Self.machine(priority: 150, delay: 10)
        _ = m.handle(.startup, now: 0)
        _ = m.handle(Self.advert(100), now: 5 * Self.second)
        #expect(m.preemptAllowedAt == 15 * Self.second)
        #expect(m.deadline == 5 * Self.second + m.masterDownInterval)   // accepted: too early to preempt
        _ = m.handle(Self.advert(100), now: 14 * Self.second)
        #expect(m.deadline == 14 * Self.second + m.masterDownInterval)  // still accepted
        let before = m.deadline
        _ = m.handle(Self.advert(100), now: 15 * Self.second)
        #expect(m.deadline == before)                                    // now discarded
        #expect(m.handle(.timerExpired, now: before ?? 0).contains(.enter(.master)))
        #expect(m.preemptAllowedAt == nil)
    }

    @Test func mayPreemptHookIsConsulted() {
        var m = Self.machine(priority: 150)
        m.mayPreempt = { false }
        _ = m.handle(.startup, now: 0)
        _ = m.handle(Self.advert(100), now: Self.second)
        #expect(m.deadline == Self.second + m.masterDownInterval)
    }

    @Test func priorityZeroMakesTheBackupTakeOverAfterSkewTime() {
        var m = Self.machine(priority: 100)
        _ = m.handle(.startup, now: 0)
        _ = m.handle(Self.advert(150), now: Self.second)
        #expect(m.handle(Self.advert(0), now: 2 * Self.second) == [])
        #expect(m.deadline == 2 * Self.second + m.skewTime)
        #expect(m.handle(.timerExpired, now: 2 * Self.second + m.skewTime).contains(.enter(.master)))
    }

    @Test func masterStepsDownForHigherPriority() {
        var m = Self.machine(state: .master)
        _ = m.handle(.startup, now: 0)
        #expect(m.handle(Self.advert(150), now: Self.second) == [.enter(.backup)])
        #expect(m.state == .backup)
        #expect(m.deadline == Self.second + m.masterDownInterval)
    }

    @Test func masterTieBreakByPrimaryAddress() {
        var m = Self.machine(state: .master)
        _ = m.handle(.startup, now: 0)
        // Equal priority from a lower address: discarded, we stay master.
        #expect(m.handle(Self.advert(100, from: Self.lower), now: Self.second) == [])
        #expect(m.state == .master)
        // Lower priority: discarded.
        #expect(m.handle(Self.advert(50, from: Self.higher), now: Self.second) == [])
        #expect(m.state == .master)
        // Equal priority from a higher address: it wins.
        #expect(m.handle(Self.advert(100, from: Self.higher), now: Self.second) == [.enter(.backup)])
    }

    @Test func masterAnswersPriorityZeroWithAnAdvert() {
        var m = Self.machine(state: .master)
        _ = m.handle(.startup, now: 0)
        #expect(m.handle(Self.advert(0), now: Self.second / 2) == [.sendAdvertisement(priority: 100)])
        #expect(m.deadline == Self.second / 2 + Self.second)
        #expect(m.state == .master)
    }

    @Test func shutdownOfAMasterSendsPriorityZero() {
        var m = Self.machine(state: .master)
        _ = m.handle(.startup, now: 0)
        #expect(m.handle(.shutdown, now: 1) == [.sendAdvertisement(priority: 0), .enter(.initialize)])
        #expect(m.state == .initialize)
        #expect(m.deadline == nil)
        var b = Self.machine()
        _ = b.handle(.startup, now: 0)
        #expect(b.handle(.shutdown, now: 1) == [.enter(.initialize)])
    }

    @Test func faultOnInterfaceDownAndBackupWhenItReturns() {
        var m = Self.machine(state: .master)
        _ = m.handle(.startup, now: 0)
        #expect(m.handle(.interfaceDown, now: 1) == [.enter(.fault)])
        #expect(m.deadline == nil)
        #expect(m.handle(Self.advert(50), now: 2) == [])
        #expect(m.handle(.timerExpired, now: 3) == [])
        #expect(m.handle(.interfaceUp, now: 4) == [.enter(.backup)])
        #expect(m.deadline == 4 + m.masterDownInterval)
        #expect(m.handle(.shutdown, now: 5) == [.enter(.initialize)])
    }

    @Test func initIgnoresEverythingButStartup() {
        var m = Self.machine()
        #expect(m.handle(Self.advert(200), now: 0) == [])
        #expect(m.handle(.timerExpired, now: 0) == [])
        #expect(m.state == .initialize)
    }

    @Test("v2: skew (256 - priority)/256 s whatever advert_int; down = 3 × advert_int + skew")
    func v2Timers() {
        let m = Self.machine(priority: 100, version: .v2, advertInterval: 300)
        // Skew = 156/256 s = 0.609375 s (v3 would scale it by the 3 s interval); down = 9 s + skew.
        #expect(m.skewTime == 609_375_000)
        #expect(m.masterDownInterval == 9_609_375_000)
        let owner = Self.machine(priority: 255, version: .v2)
        #expect(owner.skewTime == 3_906_250)
        #expect(Self.machine(priority: 100, version: .v3, advertInterval: 300).skewTime == 1_828_125_000)
    }

    @Test("v2 with a fake clock: backup → master after 3 × advert_int + skew; a master's adverts reset it; priority 0: skew only")
    func v2Transitions() {
        let second = Self.second
        var m = Self.machine(priority: 100, version: .v2, advertInterval: 100)
        #expect(m.handle(.startup, now: 0) == [.enter(.backup)])
        #expect(m.deadline == 3 * second + 609_375_000)
        // The master's advert (v2 events carry its interval, the same as ours) re-arms the timer.
        #expect(m.handle(Self.advert(150, interval: 100), now: 2 * second) == [])
        #expect(m.deadline == 5 * second + 609_375_000)
        #expect(m.masterAdvertInterval == 100)
        // The master stops: take over after the skew time alone.
        #expect(m.handle(Self.advert(0), now: 3 * second) == [])
        #expect(m.deadline == 3 * second + 609_375_000)
        #expect(m.handle(.timerExpired, now: 3 * second + 609_375_000) == [.sendAdvertisement(priority: 100), .enter(.master)])
        // As master: an advert every advert_int.
        #expect(m.deadline == 4 * second + 609_375_000)
        // A higher priority: back to backup, the down interval still from our own advert_int.
        #expect(m.handle(Self.advert(200, interval: 500), now: 4 * second) == [.enter(.backup)])
        #expect(m.masterAdvertInterval == 100)
        #expect(m.deadline == 7 * second + 609_375_000)
    }
}
