import Testing
import LVSCore
@testable import LVSHA

/// The instance's receive side: codec errors, another router id, its own advert and (in
/// unicast mode) strangers are dropped with their reason; the rest becomes an event.
@Suite struct VRRPReceiveFilterTests {
    typealias A = VRRPAdvertisementTests
    static let peer = IPv4Address(10, 200, 0, 3)
    static let me = IPv4Address(10, 200, 0, 2)

    static func datagram(vrid: UInt8 = 51, priority: UInt8 = 100, from source: IPv4Address = peer,
                         to destination: IPv4Address = A.group, ttl: UInt8 = 255) -> [UInt8] {
        let advert = VRRPAdvertisement(virtualRouterID: vrid, priority: priority, maxAdvertInterval: 50,
                                       addresses: [IPv4Address(10, 200, 0, 100)])
        return A.datagram(advert.encode(source: source, destination: destination), ttl: ttl,
                          source: source, destination: destination)
    }

    @Test func validAdvertBecomesAnEvent() {
        let filter = VRRPReceiveFilter(virtualRouterID: 51, localAddress: Self.me, peers: [])
        #expect(filter.event(for: Self.datagram(priority: 0)) == .success(.advertisement(priority: 0, maxAdvertInterval: 50,
                                                                                         source: Self.peer)))
    }

    @Test func dropsWithTheirReasons() {
        let filter = VRRPReceiveFilter(virtualRouterID: 51, localAddress: Self.me, peers: [])
        #expect(filter.event(for: Self.datagram(vrid: 52)) == .failure(.wrongRouterID))
        #expect(filter.event(for: Self.datagram(from: Self.me)) == .failure(.ownAdvert))
        #expect(filter.event(for: Self.datagram(ttl: 64)) == .failure(.badTTL))
        var corrupt = Self.datagram()
        corrupt[corrupt.count - 1] ^= 1
        #expect(filter.event(for: corrupt) == .failure(.badChecksum))
        var long = Self.datagram()
        long[20 + 3] = 3   // three addresses claimed, one present
        #expect(filter.event(for: long) == .failure(.badLength))
        var v2 = Self.datagram()
        v2[20] = 0x21
        #expect(filter.event(for: v2) == .failure(.badVersion))
        #expect(filter.event(for: Array(Self.datagram().prefix(24))) == .failure(.truncated))
    }

    @Test func unicastHearsOnlyItsPeers() {
        let filter = VRRPReceiveFilter(virtualRouterID: 51, localAddress: Self.me, peers: [Self.peer])
        #expect(filter.event(for: Self.datagram(to: Self.me)) == .success(.advertisement(priority: 100, maxAdvertInterval: 50,
                                                                                        source: Self.peer)))
        let stranger = IPv4Address(10, 200, 0, 10)
        #expect(filter.event(for: Self.datagram(from: stranger, to: Self.me)) == .failure(.notFromPeer))
    }

    static func v2(vrid: UInt8 = 51, interval: UInt8 = 1, authentication: VRRPAuthentication = .password(text: "s3cret"),
                   authType: UInt8? = nil) -> [UInt8] {
        var advert = VRRPv2Advertisement(virtualRouterID: vrid, priority: 100, advertIntervalSeconds: interval,
                                         addresses: [IPv4Address(10, 200, 0, 100)], authentication: authentication)
        if let authType { advert.authenticationType = authType }
        return A.datagram(advert.encode(), source: peer, destination: A.group)
    }

    static let v2Filter = VRRPReceiveFilter(virtualRouterID: 51, localAddress: me, peers: [], version: .v2,
                                            authentication: .password(text: "s3cret"), advertIntervalCentiseconds: 100)

    @Test("v2: a matching advert becomes an event with its interval in centiseconds")
    func v2ValidAdvert() {
        #expect(Self.v2Filter.event(for: Self.v2()) == .success(.advertisement(priority: 100, maxAdvertInterval: 100, source: Self.peer)))
        let open = VRRPReceiveFilter(virtualRouterID: 51, localAddress: Self.me, peers: [], version: .v2,
                                     authentication: .none, advertIntervalCentiseconds: 300)
        #expect(open.event(for: Self.v2(interval: 3, authentication: .none)) == .success(.advertisement(priority: 100, maxAdvertInterval: 300, source: Self.peer)))
    }

    @Test("v2: wrong password, auth type, invalid auth type, other interval, other version: dropped with keepalived's reasons")
    func v2Drops() {
        #expect(Self.v2Filter.event(for: Self.v2(authentication: .password(text: "wrong"))) == .failure(.authFailure))
        #expect(Self.v2Filter.event(for: Self.v2(authentication: .none)) == .failure(.authTypeMismatch))
        #expect(Self.v2Filter.event(for: Self.v2(authType: 7)) == .failure(.authTypeInvalid))
        #expect(Self.v2Filter.event(for: Self.v2(interval: 2)) == .failure(.advertIntervalMismatch))
        #expect(Self.v2Filter.event(for: Self.v2(vrid: 52)) == .failure(.wrongRouterID))
        #expect(Self.v2Filter.event(for: Self.datagram()) == .failure(.badVersion))   // a v3 advert
        // Only the first 8 characters count, on both sides.
        let long = VRRPReceiveFilter(virtualRouterID: 51, localAddress: Self.me, peers: [], version: .v2,
                                     authentication: .password(text: "0123456789"), advertIntervalCentiseconds: 100)
        #expect(long.event(for: Self.v2(authentication: .password(text: "01234567xx"))) != .failure(.authFailure))
        // A v3 instance drops a v2 advert.
        let v3 = VRRPReceiveFilter(virtualRouterID: 51, localAddress: Self.me, peers: [])
        #expect(v3.event(for: Self.v2()) == .failure(.badVersion))
    }
}
