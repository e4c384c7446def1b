import Testing
import LVSCore

@Suite struct ARPFrameTests {
    static let requesterMAC = MACAddress(value: 0x0200_0000_00CC)
    static let requesterIP = IPv4Address(10, 0, 0, 1)

    // "who-has VIP tell requester" becomes "VIP is-at director" addressed to the requester,
    // with sender and target swapped (RFC 826 reply), in place; padding is not touched.
    @Test func requestRewrittenIntoReply() {
        var frame = FrameBuilder.arp(operation: Wire.arpRequest, ethernetDestination: .broadcast,
                                     ethernetSource: Self.requesterMAC, senderMAC: Self.requesterMAC,
                                     senderIP: Self.requesterIP, targetMAC: .zero, targetIP: TestNetwork.vip)
        frame.replaceSubrange(42..<60, with: [UInt8](repeating: 0x5A, count: 18))
        withFrame(&frame) { ARPFrame.rewriteRequestIntoReply($0, directorMAC: TestNetwork.directorMAC) }
        #expect(FrameBuilder.getMAC(frame, 0) == Self.requesterMAC)          // Ethernet destination
        #expect(FrameBuilder.getMAC(frame, 6) == TestNetwork.directorMAC)    // Ethernet source
        #expect(FrameBuilder.get16(frame, 12) == 0x0806)
        #expect(Array(frame[14..<20]) == [0, 1, 0x08, 0x00, 6, 4])           // htype, ptype, hlen, plen
        #expect(FrameBuilder.get16(frame, 20) == Wire.arpReply)
        #expect(FrameBuilder.getMAC(frame, 22) == TestNetwork.directorMAC)   // sender MAC
        #expect(FrameBuilder.get32(frame, 28) == TestNetwork.vip.value)      // sender IP
        #expect(FrameBuilder.getMAC(frame, 32) == Self.requesterMAC)         // target MAC
        #expect(FrameBuilder.get32(frame, 38) == Self.requesterIP.value)     // target IP
        #expect(Array(frame[42..<60]) == [UInt8](repeating: 0x5A, count: 18))
    }

    // A request for a real server: 60 bytes, broadcast, op 1, target MAC zero, zero padding,
    // byte for byte as RFC 826 lays it out.
    @Test func writeRequest() {
        var frame = [UInt8](repeating: 0xEE, count: 64)
        withFrame(&frame) { f in
            ARPFrame.write(into: f, operation: Wire.arpRequest, ethernetDestination: .broadcast,
                           senderMAC: TestNetwork.directorMAC, senderIP: TestNetwork.directorIP,
                           targetMAC: .zero, targetIP: TestNetwork.rs1)
        }
        let expected: [UInt8] = [
            0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06,
            0x00, 0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01,
            0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 10, 0, 0, 2,
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 10, 0, 1, 1,
        ] + [UInt8](repeating: 0, count: 18)
        #expect(ARPFrame.paddedLength == 60)
        #expect(ARPFrame.length == 42)
        #expect(Array(frame[0..<60]) == expected)
        #expect(Array(frame[60...]) == [0xEE, 0xEE, 0xEE, 0xEE])   // nothing written past 60 bytes
    }

    // A gratuitous announcement (arping -U): sender IP = target IP = VIP, broadcast.
    @Test func writeGratuitous() {
        var frame = [UInt8](repeating: 0xEE, count: 60)
        withFrame(&frame) { f in
            ARPFrame.write(into: f, operation: Wire.arpRequest, ethernetDestination: .broadcast,
                           senderMAC: TestNetwork.directorMAC, senderIP: TestNetwork.vip,
                           targetMAC: .zero, targetIP: TestNetwork.vip)
        }
        let p = withFrame(&frame) { FrameParser.parse($0) }
        #expect(p.kind == .arp)
        #expect(p.destinationMAC == .broadcast)
        #expect(p.sourceMAC == TestNetwork.directorMAC)
        #expect(p.arpOperation == Wire.arpRequest)
        #expect(p.arpSenderAddress == TestNetwork.vip)
        #expect(p.arpTargetAddress == TestNetwork.vip)
        #expect(FrameBuilder.getMAC(frame, 32) == .zero)
        #expect(frame[42..<60].allSatisfy { $0 == 0 })
    }
}
