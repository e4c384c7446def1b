/// `dh` (ip_vs_dh.c): destination hashing. The packet's destination address picks the server,
/// so every client of one address lands on the same server.
///
/// Like sh it keeps a 256-bucket table, but the buckets are dealt out strictly round robin, one
/// per server in kernel list order, ignoring weight; the weight only matters at lookup, where a
/// weight-0, overloaded or unavailable server means "no destination". There is no port and no
/// fallback, and the kernel registers no `upd_dest` hook because an edit cannot change the table.
/// For a plain VIP service every packet has the same destination (the VIP), so all traffic goes
/// to one server: dh is meant for firewall-mark and transparent-cache services.
public struct DestinationHashingScheduler: Scheduler {
    public static let name = "dh"

    /// `IP_VS_DH_TAB_BITS` (the `CONFIG_IP_VS_DH_TAB_BITS` default).
    public static let tableBits = 8
    public static let tableSize = 1 << tableBits

    /// List position per bucket; -1 for an empty bucket (no servers).
    public private(set) var buckets: [Int32]

    public init(destinations: DestinationList, flags: SchedulerFlags) {
        buckets = Self.assign(destinations)
    }

    public mutating func destinationAdded(_ destinations: DestinationList) { buckets = Self.assign(destinations) }
    public mutating func destinationRemoved(at position: Int, _ destinations: DestinationList) {
        buckets = Self.assign(destinations)
    }

    /// `ip_vs_dh_reassign`: bucket i goes to list position i mod n.
    static func assign(_ list: DestinationList) -> [Int32] {
        let n = list.count
        guard n > 0 else { return [Int32](repeating: -1, count: tableSize) }
        return (0..<tableSize).map { Int32($0 % n) }
    }

    /// `ip_vs_dh_hashkey`.
    @inlinable
    public static func bucket(address: IPv4Address) -> Int {
        Int(GoldenRatioHash.hash32(address.value, bits: tableBits))
    }

    public mutating func schedule(_ destinations: DestinationList, context: SchedulingContext) -> Int? {
        let p = buckets[Self.bucket(address: context.virtualAddress)]
        guard p >= 0 else { return nil }
        let d = destinations[Int(p)]
        guard d.isAvailable, d.weight > 0, !d.isOverloaded else { return nil }
        return Int(p)
    }
}
