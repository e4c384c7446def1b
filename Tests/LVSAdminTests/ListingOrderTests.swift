import LVSCore
import Testing
@testable import LVSAdmin

/// ipvsadm's comparators and glibc's merge sort, pinned where the comparator is not transitive.
@Suite struct ListingOrderTests {
    static func key(_ address: String, _ port: UInt16 = 80,
                    _ transport: TransportProtocol = .tcp) -> VirtualServiceKey {
        VirtualServiceKey(transport: transport, address: IPv4Address(address) ?? .any, port: port)
    }

    @Test func wrappedAddressDifference() {
        #expect(ListingOrder.compare(Self.key("200.0.0.1"), Self.key("10.0.0.1")) < 0)
        #expect(ListingOrder.compare(Self.key("10.0.0.1"), Self.key("100.0.0.1")) < 0)
        #expect(ListingOrder.compare(Self.key("100.0.0.1"), Self.key("200.0.0.1")) < 0)
        #expect(ListingOrder.compare(Self.key("10.0.0.1", 443), Self.key("10.0.0.1", 80)) > 0)
        #expect(ListingOrder.compare(Self.key("200.0.0.1", 80, .udp), Self.key("10.0.0.1", 80, .tcp)) > 0)
    }

    // 200 < 10 < 100 < 200: the result depends on the starting order, as with qsort.
    @Test func nonTransitiveOrderDependsOnInput() {
        let sortAddresses = { (addresses: [String]) -> [String] in
            ListingOrder.mergeSorted(addresses.map { Self.key($0) }, by: ListingOrder.compare)
                .map(\.address.description)
        }
        #expect(sortAddresses(["10.0.0.1", "200.0.0.1", "100.0.0.1"]) == ["10.0.0.1", "100.0.0.1", "200.0.0.1"])
        #expect(sortAddresses(["200.0.0.1", "10.0.0.1", "100.0.0.1"]) == ["200.0.0.1", "10.0.0.1", "100.0.0.1"])
        #expect(sortAddresses(["10.0.0.1", "200.0.0.1"]) == ["200.0.0.1", "10.0.0.1"])
    }

    // Within one half of the address space it is an ordinary stable sort (equal keys keep
    // their starting order, which the port records here).
    @Test func ordinaryWithinHalfTheSpace() {
        let input = ["10.0.0.3", "10.0.0.1", "10.0.0.2", "10.0.0.1"].enumerated().map { Self.key($1, UInt16($0)) }
        let sorted = ListingOrder.mergeSorted(input) { a, b in
            ListingOrder.compare(Self.key(a.address.description, 0), Self.key(b.address.description, 0))
        }
        #expect(sorted.map(\.port) == [1, 3, 2, 0])
    }

    // `ipvs_cmp_services` compares the marks first, by the same wrapped subtraction: a mark up
    // to 2^31 sorts after the -t/-u services (mark 0); marks more than 2^31 apart compare
    // backwards, so 4294967295 sorts before mark 0 and 2^31 + 2 before 1.
    @Test func firewallMarksFirst() {
        let tcp = Self.key("10.0.0.1")
        let udp = Self.key("10.0.0.1", 53, .udp)
        #expect(ListingOrder.compare(tcp, .firewallMark(1)) < 0)
        #expect(ListingOrder.compare(udp, .firewallMark(1)) < 0)
        #expect(ListingOrder.compare(.firewallMark(1), .firewallMark(2)) < 0)
        #expect(ListingOrder.compare(.firewallMark(2), .firewallMark(1)) > 0)
        #expect(ListingOrder.compare(.firewallMark(4_294_967_295), tcp) < 0)
        #expect(ListingOrder.compare(.firewallMark(1), .firewallMark(2_147_483_650)) > 0)
        let sorted = ListingOrder.mergeSorted([.firewallMark(2), udp, .firewallMark(1), tcp], by: ListingOrder.compare)
        #expect(sorted == [tcp, udp, .firewallMark(1), .firewallMark(2)])
    }

    /// The position sort the listings use gives `mergeSorted`'s order, non-transitive
    /// comparator and ties included, for many inputs of every small size and some large ones.
    @Test func positionSortIsTheMergeSort() {
        var state: UInt64 = 99
        func next(_ bound: UInt64) -> UInt64 {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return (state >> 33) % bound
        }
        for size in Array(0...40) + [257, 1000, 4099] {
            for _ in 0..<(size < 50 ? 20 : 2) {
                // Addresses from both halves of the space and few distinct ports: ties and wraps.
                let keys = (0..<size).map { _ in
                    VirtualServiceKey(transport: next(4) == 0 ? .udp : .tcp,
                                      address: IPv4Address(UInt32(next(4)) << 30 | UInt32(next(3))),
                                      port: UInt16(next(3)))
                }
                let services = keys.map { ServiceStatus(config: VirtualServiceConfig(key: $0, scheduler: "rr")) }
                let expected = ListingOrder.mergeSorted(Array(keys.indices)) { ListingOrder.compare(keys[$0], keys[$1]) }
                #expect(ListingOrder.serviceOrder(services) == expected)
                let destinations = keys.map {
                    DestinationStatus(config: RealServerConfig(address: $0.address, port: $0.port))
                }
                let expectedDestinations = ListingOrder.mergeSorted(Array(destinations.indices)) {
                    ListingOrder.compare(destinations[$0].config, destinations[$1].config)
                }
                #expect(ListingOrder.destinationOrder(destinations) == expectedDestinations)
            }
        }
    }
}
