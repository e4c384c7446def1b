/// `lblc` (ip_vs_lblc.c): locality-based least connection. Each destination address keeps the
/// server it was last given, as long as that server is usable and not overloaded; otherwise the
/// weighted-least-connection server is chosen and remembered.
///
/// The cache is keyed on the packet's destination address (the VIP for a plain service, so one
/// entry; many for a firewall-mark or transparent-cache service). A cached server is kept while
/// it is available, has weight > 0 and is not "overloaded" in lblc's own sense: more active
/// connections than its weight *and* some server in the service below half its weight in active
/// connections. Entries remember the server's slot, the analogue of the kernel's held `ip_vs_dest`
/// pointer, so that a server removed from the service is recognised as gone. Expiry follows the
/// kernel's 60-second collector (see `LocalityCache`), run lazily from `schedule` with
/// `context.now`.
public struct LocalityBasedLeastConnectionScheduler: Scheduler {
    public static let name = "lblc"

    /// `DEFAULT_EXPIRATION`: 24 h, in nanoseconds (`sysctl lblc_expiration`).
    public static let defaultExpiration: UInt64 = 24 * 60 * 60 * 1_000_000_000

    var cache: LocalityCache<Int32>

    public init(destinations: DestinationList, flags: SchedulerFlags) {
        self.init(destinations: destinations, flags: flags, expiration: Self.defaultExpiration)
    }

    /// `expiration` is `lblc_expiration` in nanoseconds.
    public init(destinations: DestinationList, flags: SchedulerFlags, expiration: UInt64) {
        cache = LocalityCache(expiration: expiration)
    }

    /// Number of cached destination addresses.
    public var cachedEntries: Int { cache.count }

    /// Every slot the cache names: like the kernel's held `ip_vs_dest` references, they keep a
    /// removed server's slot from being given to another server.
    public var heldSlots: [Int32] { cache.values }

    /// The slot cached for `address`, if any (for tests and diagnostics).
    public func cachedSlot(for address: IPv4Address) -> Int32? {
        cache.find(address).map { cache[$0].value }
    }

    public mutating func schedule(_ destinations: DestinationList, context: SchedulingContext) -> Int? {
        cache.collectGarbage(now: context.now)
        let address = context.virtualAddress
        let found = cache.find(address)
        if let found {
            cache[found].lastUse = context.now
            let slot = cache[found].value
            if let p = destinations.position(ofSlot: slot) {
                let d = destinations[p]
                if d.isAvailable && d.weight > 0 && !Self.isOverloaded(d, destinations) { return p }
            }
        }
        guard let p = Self.weightedLeastConnection(destinations) else { return nil }
        let slot = destinations.slot(at: p)
        // ip_vs_lblc_new: an entry for another server is replaced by a fresh one.
        if let found {
            if cache[found].value != slot {
                cache.remove(at: found)
                cache.insert(address, value: slot, now: context.now)
            }
        } else {
            cache.insert(address, value: slot, now: context.now)
        }
        return p
    }

    /// `is_overloaded` of lblc/lblcr: more active connections than weight, while some server of
    /// the service is below half its weight.
    static func isOverloaded(_ d: Destination, _ list: DestinationList) -> Bool {
        guard d.activeConnections > d.weight else { return false }
        for i in 0..<list.count {
            let other = list[i]
            if Int64(other.activeConnections) * 2 < Int64(other.weight) { return true }
        }
        return false
    }

    /// `__ip_vs_lblc_schedule` (the wlc rule): wlc's walk over the whole service.
    static func weightedLeastConnection(_ list: DestinationList) -> Int? {
        WeightedLeastConnectionScheduler.leastLoaded(list) { Int32(truncatingIfNeeded: $0.overhead) }
    }
}
