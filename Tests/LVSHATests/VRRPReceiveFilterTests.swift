import Testing
import LVSCore
@testable import LVSHA

/// The instance's receive side: codec errors, another router id, its own advert and (in
/// unicast mode) strangers are dropped with their reason; the rest becomes an event.
@Suite struct VRRPReceiveFilterTests {
    typealias A = VRRPAdvertisementTests
    static let peer = IPv4Address(10, 200, 0, 3)
    static let me = IPv4Address(10, 200, 0, 2)

    static let vip = IPv4Address(10, 200, 0, 100)
    static let vip2 = IPv4Address(10, 200, 0, 101)

    static func datagram(vrid: UInt8 = 51, priority: UInt8 = 100, from source: IPv4Address = peer,
                         to destination: IPv4Address = A.group, ttl: UInt8 = 255,
                         addresses: [IPv4Address] = [vip]) -> [UInt8] {
        let advert = VRRPAdvertisement(virtualRouterID: vrid, priority: priority, maxAdvertInterval: 50,
                                       addresses: addresses)
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

    @Test("TTL: a multicast instance drops anything but 255; a unicast one accepts a routed peer's advert, as keepalived")
    func ttlOnlyForMulticast() {
        let multicast = VRRPReceiveFilter(virtualRouterID: 51, localAddress: Self.me, peers: [])
        #expect(multicast.check(Self.datagram(ttl: 64)) == .dropped(VRRPDrop(.badTTL, source: Self.peer, detail: "TTL 64, 255 required")))
        let unicast = VRRPReceiveFilter(virtualRouterID: 51, localAddress: Self.me, peers: [Self.peer])
        #expect(unicast.event(for: Self.datagram(to: Self.me, ttl: 62)) == .success(.advertisement(priority: 100, maxAdvertInterval: 50, source: Self.peer)))
    }

    @Test("unicast advert to a multicast instance, multicast advert to a unicast one: dropped, as keepalived")
    func unicastMulticastMismatch() {
        let multicast = VRRPReceiveFilter(virtualRouterID: 51, localAddress: Self.me, peers: [])
        #expect(multicast.event(for: Self.datagram(to: Self.me)) == .failure(.unicastMulticastMismatch))
        let unicast = VRRPReceiveFilter(virtualRouterID: 51, localAddress: Self.me, peers: [Self.peer])
        #expect(unicast.event(for: Self.datagram(to: A.group)) == .failure(.unicastMulticastMismatch))
        // The stranger check comes after: a stranger's unicast advert is not_from_peer.
        #expect(unicast.event(for: Self.datagram(from: IPv4Address(10, 200, 0, 10), to: Self.me)) == .failure(.notFromPeer))
    }

    static func instance(strict: Bool) -> VRRPReceiveFilter {
        VRRPReceiveFilter(virtualRouterID: 51, localAddress: me, peers: [], virtualAddresses: [vip], strict: strict)
    }

    @Test("another address list: accepted with the difference, or dropped in strict mode (keepalived's addr_list_err)")
    func addressList() {
        let event = VRRPEvent.advertisement(priority: 100, maxAdvertInterval: 50, source: Self.peer)
        let lenient = Self.instance(strict: false)
        #expect(lenient.check(Self.datagram()) == .accepted(event, addressMismatch: nil))
        let extra = VRRPAddressListMismatch(missing: [], extra: [Self.vip2], receivedCount: 2, expectedCount: 1)
        #expect(lenient.check(Self.datagram(addresses: [Self.vip2, Self.vip])) == .accepted(event, addressMismatch: extra))
        let other = VRRPAddressListMismatch(missing: [Self.vip], extra: [Self.vip2], receivedCount: 1, expectedCount: 1)
        #expect(lenient.check(Self.datagram(addresses: [Self.vip2])) == .accepted(event, addressMismatch: other))
        #expect(other.description == "1 address, virtual_ipaddress has 1; missing 10.200.0.100; extra 10.200.0.101")
        let none = VRRPAddressListMismatch(missing: [Self.vip], extra: [], receivedCount: 0, expectedCount: 1)
        #expect(lenient.check(Self.datagram(addresses: [])) == .accepted(event, addressMismatch: none))

        let strict = Self.instance(strict: true)
        #expect(strict.check(Self.datagram()) == .accepted(event, addressMismatch: nil))
        #expect(strict.check(Self.datagram(addresses: [Self.vip2])) == .dropped(VRRPDrop(.addressListMismatch, source: Self.peer, detail: other.description)))
        #expect(strict.event(for: Self.datagram(addresses: [Self.vip, Self.vip2])) == .failure(.addressListMismatch))
    }

    @Test("the address lists are compared as sets with their counts: order does not matter, a duplicate does")
    func addressListComparison() {
        #expect(VRRPAddressListMismatch.between(received: [Self.vip2, Self.vip], expected: [Self.vip, Self.vip2]) == nil)
        let twice = VRRPAddressListMismatch.between(received: [Self.vip, Self.vip], expected: [Self.vip])
        #expect(twice == VRRPAddressListMismatch(missing: [], extra: [], receivedCount: 2, expectedCount: 1))
        #expect(twice?.description == "2 addresses, virtual_ipaddress has 1; an address listed twice")
    }

    @Test("v2: the drop says what differs (interval, auth type, version)")
    func v2DropDetails() {
        #expect(Self.v2Filter.check(Self.v2(interval: 2)) == .dropped(VRRPDrop(.advertIntervalMismatch, source: Self.peer,
                                                                              detail: "advert_int 2 s, ours 1 s (VRRPv2 needs the same on both)")))
        #expect(Self.v2Filter.check(Self.v2(authentication: .none)) == .dropped(VRRPDrop(.authTypeMismatch, source: Self.peer,
                                                                                        detail: "auth type 0, ours 1")))
        #expect(Self.v2Filter.check(Self.datagram()) == .dropped(VRRPDrop(.badVersion, source: Self.peer, detail: "VRRPv3, ours VRRPv2")))
    }
}
