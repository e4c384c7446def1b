import Testing
import LVSCore
@testable import LVSHA

/// The VRRPv2 codec (RFC 3768 §5.3): golden bytes worked out by hand both ways, the checksum
/// over the message only, the 8 bytes of authentication data, and the checks on receipt.
@Suite struct VRRPv2AdvertisementTests {
    typealias A = VRRPAdvertisementTests
    static let vip = IPv4Address(10, 200, 0, 100)
    static let withPassword = VRRPv2Advertisement(virtualRouterID: 51, priority: 150, advertIntervalSeconds: 1,
                                                  addresses: [vip], authentication: .password(text: "s3cret"))

    // By hand: 21 (version 2, type 1) 33 (vrid 51) 96 (priority 150) 01 (one address)
    // 01 (auth type PASS) 01 (1 s) | checksum | 0a c8 00 64 | "s3cret" 00 00.
    // Words: 0x2133+0x9601+0x0101+0x0ac8+0x0064+0x7333+0x6372+0x6574 = 0x1_ff7a → 0xff7b → ~ 0x0084.
    static let withPasswordBytes: [UInt8] = [0x21, 0x33, 0x96, 0x01, 0x01, 0x01, 0x00, 0x84,
                                             0x0A, 0xC8, 0x00, 0x64,
                                             0x73, 0x33, 0x63, 0x72, 0x65, 0x74, 0x00, 0x00]
    // No authentication, priority 100: 21 33 64 01 00 01 | checksum | 0a c8 00 64 | 8 zeros.
    // Words: 0x2133+0x6401+0x0001+0x0ac8+0x0064 = 0x9061 → ~ 0x6f9e.
    static let noAuthBytes: [UInt8] = [0x21, 0x33, 0x64, 0x01, 0x00, 0x01, 0x6F, 0x9E,
                                       0x0A, 0xC8, 0x00, 0x64, 0, 0, 0, 0, 0, 0, 0, 0]

    @Test func encodesGoldenBytes() {
        #expect(Self.withPassword.encode() == Self.withPasswordBytes)
        let none = VRRPv2Advertisement(virtualRouterID: 51, priority: 100, advertIntervalSeconds: 1, addresses: [Self.vip])
        #expect(none.encode() == Self.noAuthBytes)
        // No pseudo-header: the same bytes to the group and to a unicast peer.
        #expect(VRRPMessage.v2(none).encode(source: A.source, destination: A.group)
                == VRRPMessage.v2(none).encode(source: A.source, destination: IPv4Address(10, 200, 0, 3)))
        #expect(VRRPv2Advertisement.checksum(Self.withPasswordBytes) == 0)
    }

    @Test func decodesGoldenBytes() throws {
        let received = try ReceivedAdvertisement.decode(A.datagram(Self.withPasswordBytes), version: .v2).get()
        #expect(received.advertisement == .v2(Self.withPassword))
        #expect(received.advertisement.advertIntervalCentiseconds == 100)
        #expect(received.advertisement.priority == 150)
        guard case .v2(let v2) = received.advertisement else { Issue.record("not v2"); return }
        #expect(v2.authenticationType == 1)
        #expect(v2.authenticationData == Array("s3cret".utf8) + [0, 0])
        #expect(received.source == A.source)
    }

    @Test func passwordsAreEightBytesZeroPadded() {
        #expect(VRRPAuthentication.password(text: "0123456789").data == Array("01234567".utf8))
        #expect(VRRPAuthentication.password(text: "ab").data == [0x61, 0x62, 0, 0, 0, 0, 0, 0])
        #expect(VRRPAuthentication.none.data == [UInt8](repeating: 0, count: 8))
        #expect(VRRPAuthentication.none.type == 0 && VRRPAuthentication.password(text: "x").type == 1)
    }

    @Test func manyAddressesRoundTrip() throws {
        let many = VRRPv2Advertisement(virtualRouterID: 9, priority: 1, advertIntervalSeconds: 255,
                                       addresses: (1...20).map { IPv4Address(10, 0, 0, UInt8($0)) },
                                       authentication: .password(text: "pw"))
        let bytes = many.encode()
        #expect(bytes.count == 8 + 80 + 8)
        #expect(try ReceivedAdvertisement.decode(A.datagram(bytes), version: .v2).get().advertisement == .v2(many))
    }

    @Test func checksIsVersionLengthChecksum() {
        // A v3 advert to a v2 instance, and the reverse: the other version, dropped.
        let v3 = VRRPAdvertisement(virtualRouterID: 51, priority: 100, maxAdvertInterval: 100, addresses: [Self.vip])
        #expect(ReceivedAdvertisement.decode(A.datagram(v3.encode(source: A.source, destination: A.group)), version: .v2)
                == .failure(.badVersion))
        #expect(ReceivedAdvertisement.decode(A.datagram(Self.noAuthBytes), version: .v3) == .failure(.badVersion))
        // Without its 8 bytes of authentication data the length is wrong.
        #expect(ReceivedAdvertisement.decode(A.datagram(Array(Self.noAuthBytes.prefix(12))), version: .v2) == .failure(.badLength))
        var corrupt = Self.withPasswordBytes
        corrupt[corrupt.count - 1] ^= 1   // the password changed after the checksum
        #expect(ReceivedAdvertisement.decode(A.datagram(corrupt), version: .v2) == .failure(.badChecksum))
        // A v3-style checksum (with the pseudo-header) does not verify as v2.
        var pseudo = Self.noAuthBytes
        pseudo[6] = 0
        pseudo[7] = 0
        let c = VRRPAdvertisement.checksum(pseudo, source: A.source, destination: A.group)
        pseudo[6] = UInt8(c >> 8)
        pseudo[7] = UInt8(c & 0xFF)
        #expect(ReceivedAdvertisement.decode(A.datagram(pseudo), version: .v2) == .failure(.badChecksum))
        var type2 = Self.noAuthBytes
        type2[0] = 0x22
        #expect(ReceivedAdvertisement.decode(A.datagram(type2), version: .v2) == .failure(.badType))
        #expect((try? ReceivedAdvertisement.decode(A.datagram(Self.noAuthBytes, ttl: 1), version: .v2).get())?.ttl == 1)
    }

    @Test("an instance's advert: its version, interval in whole seconds, its password")
    func advertisementForAConfiguration() {
        var c = VRRPInstanceConfiguration(name: "VI_1", interface: "eth0", virtualRouterID: 51)
        c.virtualAddresses = [Self.vip]
        c.priority = 150
        c.authentication = .password(text: "s3cret")
        #expect(VRRPMessage.advertisement(for: c, priority: 150).encode(source: A.source, destination: A.group)
                == Self.withPasswordBytes)
        c.version = .v3
        c.advertIntervalCentiseconds = 50
        #expect(VRRPMessage.advertisement(for: c, priority: 0)
                == .v3(VRRPAdvertisement(virtualRouterID: 51, priority: 0, maxAdvertInterval: 50, addresses: [Self.vip])))
    }
}
