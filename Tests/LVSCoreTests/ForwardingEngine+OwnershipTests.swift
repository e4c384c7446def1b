import Testing
import LVSCore

/// The VRRP ownership gate (`ownsVirtualAddresses`): a backup answers no ARP for a VIP, raises
/// no conflict about the master's announcements, forwards nothing to a VIP, and keeps its
/// connection table.
@Suite struct ForwardingEngineOwnershipTests {
    typealias T = ForwardingEngineTests

    @discardableResult
    static func send(_ e: ForwardingEngine, _ frame: [UInt8], at now: UInt64) -> (verdict: Verdict, frame: [UInt8]) {
        var bytes = frame
        let verdict = withFrame(&bytes) { e.processWithoutOwnership($0, now: now) }
        return (verdict, bytes)
    }

    static let whoHasVIP = FrameBuilder.arp(operation: Wire.arpRequest, ethernetDestination: .broadcast,
                                            ethernetSource: TestNetwork.routerMAC, senderMAC: TestNetwork.routerMAC,
                                            senderIP: IPv4Address(10, 0, 0, 1), targetMAC: .zero, targetIP: TestNetwork.vip)

    @Test func backupAnswersNoARPForTheVIP() throws {
        let e = try T.engine(learnRS3: false)
        e.ownsVirtualAddresses = false
        let (verdict, out) = Self.send(e, Self.whoHasVIP, at: 0)
        #expect(verdict == .pass)
        #expect(out == Self.whoHasVIP)
        #expect(e.counter(.arpRepliesSent) == 0)
        // Owner again: the same request is answered.
        e.ownsVirtualAddresses = true
        #expect(T.send(e, Self.whoHasVIP, at: 0).verdict == .transmit)
        #expect(e.counter(.arpRepliesSent) == 1)
    }

    @Test func backupRaisesNoConflictForTheMastersGratuitousARP() throws {
        let e = try T.engine(learnRS3: false)
        e.ownsVirtualAddresses = false
        let gratuitous = FrameBuilder.arp(operation: Wire.arpRequest, ethernetDestination: .broadcast,
                                          ethernetSource: TestNetwork.otherHostMAC, senderMAC: TestNetwork.otherHostMAC,
                                          senderIP: TestNetwork.vip, targetMAC: .zero, targetIP: TestNetwork.vip)
        #expect(Self.send(e, gratuitous, at: 0).verdict == .pass)
        #expect(e.counter(.vipConflicts) == 0)
        #expect(e.lastVIPConflict == nil)
    }

    @Test func backupStillLearnsRealServerMACs() throws {
        let e = try T.engine(learnRS3: false)
        e.ownsVirtualAddresses = false
        Self.send(e, T.arpReplyFromRS3(mac: TestNetwork.rs3MAC), at: 0)
        #expect(e.counter(.neighborUpdates) == 1)
    }

    @Test func backupDropsVIPFramesAndKeepsConnections() throws {
        let e = try T.engine()
        let syn = TestNetwork.tcp(flags: Wire.tcpSYN, ttl: 64)
        #expect(T.send(e, syn, at: 0).verdict == .transmit)
        #expect(e.connections.count == 1)
        e.ownsVirtualAddresses = false
        let ack = TestNetwork.tcp(flags: Wire.tcpACK, ttl: 64)
        let (verdict, out) = Self.send(e, ack, at: 1)
        #expect(verdict == .drop)
        #expect(out == ack)
        #expect(e.counter(.notMaster) == 1)
        #expect(e.counter(.forwardedFrames) == 1)
        #expect(e.connections.count == 1)
        // Frames to a non-VIP address are still the kernel's.
        let other = TestNetwork.tcp(flags: Wire.tcpSYN, ttl: 64, destination: TestNetwork.directorIP)
        #expect(Self.send(e, other, at: 1).verdict == .pass)
        #expect(e.counter(.notMaster) == 1)
        // Master again: the kept connection forwards on the hit path.
        e.ownsVirtualAddresses = true
        #expect(T.send(e, ack, at: 2).verdict == .transmit)
        #expect(e.counter(.forwardedFrames) == 2)
    }
}
