/// `sh` (ip_vs_sh.c): source hashing. A client address (and, with `sh-port`, its port) always
/// maps to the same server while the server list is unchanged.
///
/// The kernel keeps a 256-bucket table, rebuilt whenever a server is added, removed or edited:
/// walking the list in kernel order, each server takes `weight` consecutive buckets, and the walk
/// wraps round until all buckets are filled. A weight-0 server still takes one bucket per round,
/// because the bucket is assigned before `++count >= weight` is tested; a client that hashes
/// there gets no server (or, with `sh-fallback`, the next server along its probe sequence). The
/// bucket is `hash_32(port + address, 8)` with the kernel's golden-ratio multiply, so a SwiftLVS
/// director sends a client to the same list position as a v6.x kernel director would.
public struct SourceHashingScheduler: Scheduler {
    public static let name = "sh"

    /// `IP_VS_SH_TAB_BITS` (the `CONFIG_IP_VS_SH_TAB_BITS` default).
    public static let tableBits = 8
    public static let tableSize = 1 << tableBits

    public let flags: SchedulerFlags
    /// List position per bucket; -1 for an empty bucket (no servers).
    public private(set) var buckets: [Int32]

    public init(destinations: DestinationList, flags: SchedulerFlags) {
        self.flags = flags
        buckets = Self.assign(destinations)
    }

    public mutating func destinationAdded(_ destinations: DestinationList) { buckets = Self.assign(destinations) }
    public mutating func destinationRemoved(at position: Int, _ destinations: DestinationList) {
        buckets = Self.assign(destinations)
    }
    public mutating func destinationUpdated(_ destinations: DestinationList) { buckets = Self.assign(destinations) }

    /// `ip_vs_sh_reassign`.
    static func assign(_ list: DestinationList) -> [Int32] {
        var buckets = [Int32](repeating: -1, count: tableSize)
        let n = list.count
        guard n > 0 else { return buckets }
        var p = 0
        var count: Int32 = 0
        for i in 0..<tableSize {
            buckets[i] = Int32(p)
            count += 1
            if count >= list[p].weight {
                p = p + 1 == n ? 0 : p + 1
                count = 0
            }
        }
        return buckets
    }

    /// `ip_vs_sh_hashkey`: the port and address add as 32-bit unsigned numbers before hashing.
    @inlinable
    public static func bucket(address: IPv4Address, port: UInt16, offset: UInt32 = 0) -> Int {
        Int((offset &+ GoldenRatioHash.hash32(UInt32(port) &+ address.value, bits: tableBits)) & UInt32(tableSize - 1))
    }

    public mutating func schedule(_ destinations: DestinationList, context: SchedulingContext) -> Int? {
        let port = flags.contains(.port) ? context.clientPort : 0
        let address = context.clientAddress
        let first = buckets[Self.bucket(address: address, port: port)]
        guard first >= 0 else { return nil }
        if !Self.isUnavailable(destinations[Int(first)]) { return Int(first) }
        guard flags.contains(.fallback) else { return nil }
        // ip_vs_sh_get_fallback: probe (roffset + hash) for roffset = ihash, ihash+1, ... so
        // that the detour is deterministic per client; an empty bucket ends the search.
        let ihash = UInt32(Self.bucket(address: address, port: port))
        for offset in 0..<UInt32(Self.tableSize) {
            let roffset = (offset + ihash) % UInt32(Self.tableSize)
            let p = buckets[Self.bucket(address: address, port: port, offset: roffset)]
            if p < 0 { break }
            if !Self.isUnavailable(destinations[Int(p)]) { return Int(p) }
        }
        return nil
    }

    /// The current code checks only weight and OVERLOAD (older kernels also required AVAILABLE).
    @inlinable
    static func isUnavailable(_ d: Destination) -> Bool { d.weight <= 0 || d.isOverloaded }
}
