/// `lblcr` (ip_vs_lblcr.c): locality-based least connection with replication. Each destination
/// address keeps a *set* of servers; a connection goes to the least loaded member, and the set
/// grows when all members are overloaded and shrinks again once it has been stable for a while.
///
/// With an entry, the weighted-least member is picked first (skipping overloaded, unavailable
/// and weight-0 members). Then, if the set has more than one member and has not changed for
/// `expiration` (24 h by default), its most loaded member is dropped, even if it is the one just
/// picked, which the kernel still returns. If the pick is missing or "overloaded" in the lblc
/// sense, the wlc rule over the whole service chooses a server, which joins the set at its head.
/// Set members are remembered by slot, like the kernel's held `ip_vs_dest` pointers, so a member
/// removed from the service still counts when the most loaded member is chosen, as in the
/// kernel's trash. The cache, its size and its lazy garbage collection are lblc's
/// (`LocalityCache`).
public struct LocalityBasedLeastConnectionReplicationScheduler: Scheduler {
    public static let name = "lblcr"

    /// `DEFAULT_EXPIRATION`: 24 h, in nanoseconds (`sysctl lblcr_expiration`).
    public static let defaultExpiration: UInt64 = 24 * 60 * 60 * 1_000_000_000

    /// `ip_vs_dest_set`: members newest first, as `list_add_rcu` leaves them.
    struct DestinationSet: Sendable {
        var slots: [Int32]
        var lastModified: UInt64
    }

    var cache: LocalityCache<DestinationSet>

    public init(destinations: DestinationList, flags: SchedulerFlags) {
        self.init(destinations: destinations, flags: flags, expiration: Self.defaultExpiration)
    }

    /// `expiration` is `lblcr_expiration` in nanoseconds.
    public init(destinations: DestinationList, flags: SchedulerFlags, expiration: UInt64) {
        cache = LocalityCache(expiration: expiration)
    }

    /// Number of cached destination addresses.
    public var cachedEntries: Int { cache.count }

    /// Every slot of every cached set: like the kernel's held `ip_vs_dest` references, they
    /// keep a removed server's slot from being given to another server.
    public var heldSlots: [Int32] { cache.values.flatMap(\.slots) }

    /// The slots in the set cached for `address`, newest first (for tests and diagnostics).
    public func cachedSet(for address: IPv4Address) -> [Int32]? {
        cache.find(address).map { cache[$0].value.slots }
    }

    public mutating func schedule(_ destinations: DestinationList, context: SchedulingContext) -> Int? {
        cache.collectGarbage(now: context.now)
        let now = context.now
        let address = context.virtualAddress
        guard let found = cache.find(address) else {
            guard let p = LocalityBasedLeastConnectionScheduler.weightedLeastConnection(destinations) else { return nil }
            cache.insert(address, value: DestinationSet(slots: [destinations.slot(at: p)], lastModified: now), now: now)
            return p
        }
        cache[found].lastUse = now
        var set = cache[found].value
        let picked = Self.leastLoaded(set, destinations)
        if set.slots.count > 1 && now > set.lastModified &+ cache.expiration,
           let most = Self.mostLoaded(set, destinations) {
            set.slots.remove(at: most)
            set.lastModified = now
        }
        defer { cache[found].value = set }
        if let picked, let p = destinations.position(ofSlot: picked),
           !LocalityBasedLeastConnectionScheduler.isOverloaded(destinations[p], destinations) {
            return p
        }
        guard let p = LocalityBasedLeastConnectionScheduler.weightedLeastConnection(destinations) else { return nil }
        let slot = destinations.slot(at: p)
        if !set.slots.contains(slot) {
            set.slots.insert(slot, at: 0)
            set.lastModified = now
        }
        return p
    }

    /// A member can take connections only while it is still linked into the service and
    /// available (the kernel's `IP_VS_DEST_F_AVAILABLE`, cleared when a server is removed).
    static func isAvailable(_ slot: Int32, _ list: DestinationList) -> Bool {
        list.destination(inSlot: slot).isAvailable && list.position(ofSlot: slot) != nil
    }

    /// `ip_vs_dest_set_min`: the weighted-least available member; returns its slot.
    static func leastLoaded(_ set: DestinationSet, _ list: DestinationList) -> Int32? {
        var k = 0
        var least: Int32 = -1
        while k < set.slots.count {
            let slot = set.slots[k]
            let d = list.destination(inSlot: slot)
            k += 1
            if d.isOverloaded { continue }
            if d.weight > 0 && isAvailable(slot, list) {
                least = slot
                break
            }
        }
        guard least >= 0 else { return nil }
        var l = list.destination(inSlot: least)
        var loh = l.overhead
        while k < set.slots.count {
            let slot = set.slots[k]
            let d = list.destination(inSlot: slot)
            k += 1
            if d.isOverloaded { continue }
            let doh = d.overhead
            if loh * Int64(d.weight) > doh * Int64(l.weight) && isAvailable(slot, list) {
                least = slot
                l = d
                loh = doh
            }
        }
        return least
    }

    /// `ip_vs_dest_set_max`: the weighted-most loaded member with weight > 0, available or not;
    /// returns its index in the set.
    static func mostLoaded(_ set: DestinationSet, _ list: DestinationList) -> Int? {
        var k = 0
        var most = -1
        while k < set.slots.count {
            let d = list.destination(inSlot: set.slots[k])
            if d.weight > 0 {
                most = k
                break
            }
            k += 1
        }
        guard most >= 0 else { return nil }
        var m = list.destination(inSlot: set.slots[most])
        var moh = m.overhead
        k += 1
        while k < set.slots.count {
            let d = list.destination(inSlot: set.slots[k])
            let doh = d.overhead
            if moh * Int64(d.weight) < doh * Int64(m.weight) && d.weight > 0 {
                most = k
                m = d
                moh = doh
            }
            k += 1
        }
        return most
    }
}
