import Testing
import LVSCore
@testable import LVSHA

/// The VRRPv3 codec: the pseudo-header checksum of RFC 5798 §5.2.8, and the §7.1 checks on
/// receipt (version 3, type 1, length, checksum; the TTL is handed on to the receive filter).
@Suite struct VRRPAdvertisementTests {
    static let source = IPv4Address(10, 200, 0, 2)
    static let group = IPv4Address(224, 0, 0, 18)
    static let advert = VRRPAdvertisement(virtualRouterID: 51, priority: 150, maxAdvertInterval: 100,
                                          addresses: [IPv4Address(10, 200, 0, 100)])

    /// An IPv4 header (no options) in front of `message`, as a raw socket delivers it.
    static func datagram(_ message: [UInt8], ttl: UInt8 = 255, source: IPv4Address = source,
                         destination: IPv4Address = group) -> [UInt8] {
        let total = 20 + message.count
        var h: [UInt8] = [0x45, 0xC0, UInt8(total >> 8), UInt8(total & 0xFF), 0, 0, 0, 0, ttl, 112, 0, 0]
        for a in [source, destination] {
            h += [UInt8(a.value >> 24), UInt8((a.value >> 16) & 0xFF), UInt8((a.value >> 8) & 0xFF), UInt8(a.value & 0xFF)]
        }
        return h + message
    }

    @Test func encodesTheRFCLayout() {
        let bytes = Self.advert.encode(source: Self.source, destination: Self.group)
        #expect(bytes.count == 12)
        #expect(bytes[0] == 0x31)       // version 3, type 1
        #expect(bytes[1] == 51)
        #expect(bytes[2] == 150)
        #expect(bytes[3] == 1)
        #expect(bytes[4] == 0 && bytes[5] == 100)   // 4 reserved bits, 12-bit interval
        #expect(Array(bytes[8...]) == [10, 200, 0, 100])
    }

    // The checksum, worked by hand: pseudo-header 0a c8 00 02 | e0 00 00 12 | 00 70 | 00 0c,
    // message 31 33 96 01 00 64 00 00 0a c8 00 64. Sum of 16-bit words:
    // 0x0ac8+0x0002+0xe000+0x0012+0x0070+0x000c+0x3133+0x9601+0x0064+0x0000+0x0ac8+0x0064
    // = 0x1_be1c → folded 0xbe1d → complement 0x41e2.
    @Test func checksumCoversThePseudoHeader() {
        let bytes = Self.advert.encode(source: Self.source, destination: Self.group)
        #expect(bytes[6] == 0x41 && bytes[7] == 0xE2)
        // The same message to a unicast peer has another checksum: the destination is in it.
        let unicast = Self.advert.encode(source: Self.source, destination: IPv4Address(10, 200, 0, 3))
        #expect(Array(unicast[6...7]) != Array(bytes[6...7]))
        #expect(VRRPAdvertisement.checksum(bytes, source: Self.source, destination: Self.group) == 0)
    }

    @Test func roundTrips() throws {
        let bytes = Self.datagram(Self.advert.encode(source: Self.source, destination: Self.group))
        let received = try ReceivedAdvertisement.decode(bytes).get()
        #expect(received.advertisement == .v3(Self.advert))
        #expect(received.source == Self.source)
        #expect(received.destination == Self.group)
    }

    @Test func fractionalIntervalsAndManyAddresses() throws {
        let many = VRRPAdvertisement(virtualRouterID: 7, priority: 1, maxAdvertInterval: 4095,
                                     addresses: (1...20).map { IPv4Address(10, 0, 0, UInt8($0)) })
        let bytes = Self.datagram(many.encode(source: Self.source, destination: Self.group))
        #expect(try ReceivedAdvertisement.decode(bytes).get().advertisement == .v3(many))
    }

    @Test("the TTL is handed on, for the receive filter to check (multicast only, as keepalived)")
    func ttlIsReported() throws {
        let bytes = Self.datagram(Self.advert.encode(source: Self.source, destination: Self.group), ttl: 254)
        #expect(try ReceivedAdvertisement.decode(bytes).get().ttl == 254)
    }

    @Test func version2IsRefused() {
        var message = Self.advert.encode(source: Self.source, destination: Self.group)
        message[0] = 0x21
        #expect(ReceivedAdvertisement.decode(Self.datagram(message)) == .failure(.badVersion))
        message[0] = 0x32
        #expect(ReceivedAdvertisement.decode(Self.datagram(message)) == .failure(.badType))
    }

    @Test func lengthMustMatchTheAddressCount() {
        var message = Self.advert.encode(source: Self.source, destination: Self.group)
        message[3] = 2
        #expect(ReceivedAdvertisement.decode(Self.datagram(message)) == .failure(.badLength))
        let short = Array(Self.advert.encode(source: Self.source, destination: Self.group).prefix(6))
        #expect(ReceivedAdvertisement.decode(Self.datagram(short)) == .failure(.truncated))
        #expect(ReceivedAdvertisement.decode([0x45, 0]) == .failure(.truncated))
    }

    @Test func badChecksumIsRefused() {
        var message = Self.advert.encode(source: Self.source, destination: Self.group)
        message[2] = 151   // priority changed after the checksum
        #expect(ReceivedAdvertisement.decode(Self.datagram(message)) == .failure(.badChecksum))
        // VRRPv2-style checksum (message only, no pseudo-header) is wrong for v3.
        var v2style = Self.advert.encode(source: Self.source, destination: Self.group)
        v2style[6] = 0
        v2style[7] = 0
        var sum: UInt32 = 0
        for i in stride(from: 0, to: v2style.count, by: 2) { sum += UInt32(v2style[i]) << 8 | UInt32(v2style[i + 1]) }
        while sum > 0xFFFF { sum = (sum & 0xFFFF) + (sum >> 16) }
        let c = ~UInt16(sum)
        v2style[6] = UInt8(c >> 8)
        v2style[7] = UInt8(c & 0xFF)
        #expect(ReceivedAdvertisement.decode(Self.datagram(v2style)) == .failure(.badChecksum))
        // A checksum computed for another destination does not verify either.
        let other = Self.advert.encode(source: Self.source, destination: IPv4Address(10, 200, 0, 3))
        #expect(ReceivedAdvertisement.decode(Self.datagram(other)) == .failure(.badChecksum))
    }
}
