/// What an `apply` changed that the I/O layer must act on: VIPs to start or stop answering
/// for (re-attach the receive filter, send gratuitous ARP for the new ones) and real-server
/// addresses to resolve; plus counts for the log line.
public struct ApplyOutcome: Sendable, Equatable {
    /// VIPs the engine now answers ARP for that it did not before, in configuration order.
    public var addedVIPs: [IPv4Address] = []
    /// VIPs it no longer answers for, in their previous order.
    public var removedVIPs: [IPv4Address] = []
    /// Mark-rule networks the engine now forwards for that it did not before (no ARP for them).
    public var addedNetworks: [IPv4Network] = []
    /// Mark-rule networks it no longer forwards for.
    public var removedNetworks: [IPv4Network] = []
    /// Real-server addresses new to the neighbour table (`neighborsDue` will ask for them).
    public var addedNeighbors: [IPv4Address] = []
    public var addedServices: [VirtualServiceKey] = []
    public var removedServices: [VirtualServiceKey] = []
    /// Real servers linked into a service with a fresh slot.
    public var addedDestinations = 0
    /// Real servers re-added while connections still named them: their slot, counters and
    /// connections came back (the kernel's trash).
    public var revivedDestinations = 0
    /// Real servers unlinked (including those of removed services).
    public var removedDestinations = 0
    /// Kept real servers whose weight or thresholds changed.
    public var updatedDestinations = 0
    /// Connection entries ended because their real server went away (`expire_nodest_conn`).
    public var expiredConnections = 0

    public init() {}

    /// Whether the set of VIPs or mark-rule networks changed (the receive filter must be rebuilt).
    public var vipSetChanged: Bool {
        !addedVIPs.isEmpty || !removedVIPs.isEmpty || !addedNetworks.isEmpty || !removedNetworks.isEmpty
    }
}

/// A mark rule as the packet path reads it (`ForwardingEngine.markedService`): plain integers,
/// its ports a run of the engine's `markPorts`, and the index of the service its mark selects.
struct CompiledMarkRule {
    struct PortRange {
        var low: UInt16
        var high: UInt16
    }

    var network: UInt32
    var mask: UInt32
    /// The IP protocol number (6, 17).
    var transport: UInt8
    var firstPort: Int32
    var portCount: Int32
    /// The firewall-mark service that takes the rule's mark, -1 when none does.
    var service: Int32
}

extension ForwardingEngine {
    /// Reconciles the running engine with `configuration`, the way a sequence of ipvsadm
    /// commands changes a running IPVS table, between two packets.
    ///
    /// - A service present before and after (same key) keeps its counters, rate estimators and
    ///   connections. Its scheduler is re-created on the final list only when its name or flags
    ///   change (the kernel's edit with a new scheduler); persistence and `-o` are updated.
    /// - A real server present before and after (same address:port in that service) keeps its
    ///   slot, counters and connections; a changed weight or threshold goes through the
    ///   scheduler's `destinationUpdated`, as `ipvsadm -e` does. Unchanged servers are not
    ///   "edited", so an unrelated apply does not reset a wrr cursor.
    /// - A new real server goes to the head of its service's list (`list_add_rcu`); if the same
    ///   address:port of the same service key was removed earlier and connections (or an
    ///   lblc/lblcr cache) still name its slot, that slot is revived with its counters and
    ///   connections, like the kernel's trash.
    /// - A removed real server is unlinked and made unavailable: packets of its connections
    ///   are dropped, or, with `expire_nodest_conn`, its connections are ended now (the
    ///   kernel's flush) and the next packet is scheduled afresh.
    ///
    /// Within one service, removals run first (in list order), then edits, then additions (in
    /// `-a` order, so the last one ends at the head). Everything is checked before anything
    /// changes: on error the engine is exactly as it was. This allocates and walks the
    /// connection table once; it must run on the engine's own thread, between packets.
    public func apply(_ configuration: DirectorConfiguration) throws(EngineConfigurationError) -> ApplyOutcome {
        try Self.validate(configuration)
        let plan = try makePlan(configuration)
        return commit(plan)
    }

    /// Where a real server of the new configuration lives.
    enum Placement {
        /// It was already linked into this service in this slot.
        case kept(Int32)
        /// Its removed slot is still held by connections: linked again with its counters.
        case revived(Int32)
        /// A slot that no connection names, overwritten with a new destination.
        case fresh(Int32)
    }

    /// Everything `apply` decided before touching the engine.
    struct ApplyPlan {
        var configuration: DirectorConfiguration
        /// Per new service: its index before the apply, nil for a new service.
        var previous: [Int?]
        /// Per new service, per real server in `-a` order.
        var placements: [[Placement]]
        /// Per new service: start a new scheduler on its final list.
        var startsScheduler: [Bool]
    }

    /// A removed destination as the kernel's trash finds it again.
    struct TrashKey: Hashable {
        var service: VirtualServiceKey
        var address: IPv4Address
        var port: UInt16
    }

    /// Decides every slot without changing anything; fails only when the pool is too small.
    func makePlan(_ configuration: DirectorConfiguration) throws(EngineConfigurationError) -> ApplyPlan {
        let previous = configuration.services.map { serviceIndex[$0.key] }
        let startsScheduler = configuration.services.indices.map { i in
            previous[i].map { o in
                services[o].scheduler.name != configuration.services[i].scheduler
                    || services[o].schedulerFlags != configuration.services[i].schedulerFlags
            } ?? true
        }
        // Servers that stay where they are. Only additions need the rest, which walks the
        // connection table: an apply that edits or removes costs no walk here.
        var kept = [Bool](repeating: false, count: destinationCount)
        var placements: [[Placement?]] = []
        var additions = 0
        for (i, service) in configuration.services.enumerated() {
            var current: [RealServerConfig.AddressPort: Int32] = [:]
            if let o = previous[i] {
                for slot in services[o].order {
                    let d = destinations[Int(slot)]
                    current[RealServerConfig.AddressPort(address: d.address, port: d.port)] = slot
                }
            }
            placements.append(service.realServers.map { rs in
                guard let slot = current[rs.addressPort] else {
                    additions += 1
                    return nil
                }
                kept[Int(slot)] = true
                return .kept(slot)
            })
        }
        guard additions > 0 else {
            return ApplyPlan(configuration: configuration, previous: previous,
                             placements: placements.map { $0.compactMap { $0 } }, startsScheduler: startsScheduler)
        }

        var linked = [Bool](repeating: false, count: destinationCount)
        for service in services {
            for slot in service.order { linked[Int(slot)] = true }
        }
        // A slot is held while a connection entry or template names it (counting entries that
        // have expired but not been swept: they still release their slot's counts later), or
        // while a scheduler that survives this apply remembers it.
        var held = [Bool](repeating: false, count: destinationCount)
        if connections.count > 0 {
            connections.forEach { e in
                let slot = Int(e.destinationSlot)
                if slot >= 0 && slot < destinationCount { held[slot] = true }
            }
        }
        for (i, o) in previous.enumerated() {
            guard let o, !startsScheduler[i] else { continue }
            for slot in services[o].scheduler.heldSlots where slot >= 0 && Int(slot) < destinationCount {
                held[Int(slot)] = true
            }
        }
        var trash: [TrashKey: Int32] = [:]
        for slot in 0..<destinationCount where !linked[slot] && held[slot] {
            let d = destinations[slot]
            let key = TrashKey(service: slotServiceKeys[slot], address: d.address, port: d.port)
            if trash[key] == nil { trash[key] = Int32(slot) }
        }
        var fresh: [(Int, Int)] = []
        for (i, service) in configuration.services.enumerated() {
            for (j, rs) in service.realServers.enumerated() where placements[i][j] == nil {
                if let slot = trash.removeValue(forKey: TrashKey(service: service.key, address: rs.address, port: rs.port)) {
                    placements[i][j] = .revived(slot)
                } else {
                    fresh.append((i, j))
                }
            }
        }

        // Fresh slots: the lowest ones nobody holds (a server removed in this same apply
        // included), then the never-used part of the pool.
        var free: [Int32] = []
        for slot in 0..<destinationCount where !held[slot] && !kept[slot] && free.count < fresh.count {
            free.append(Int32(slot))
        }
        var next = destinationCount
        while free.count < fresh.count && next < destinationCapacity {
            free.append(Int32(next))
            next += 1
        }
        guard free.count == fresh.count else {
            throw EngineConfigurationError(
                "the destination pool (\(destinationCapacity) slots) has no room for \(fresh.count) new real servers: "
                    + "removed real servers keep their slot while connections name them")
        }
        for (n, (i, j)) in fresh.enumerated() { placements[i][j] = .fresh(free[n]) }
        return ApplyPlan(configuration: configuration, previous: previous,
                         placements: placements.map { $0.compactMap { $0 } }, startsScheduler: startsScheduler)
    }

    /// Carries out a plan. Nothing here can fail.
    func commit(_ plan: ApplyPlan) -> ApplyOutcome {
        let configuration = plan.configuration
        var outcome = ApplyOutcome()
        let old = services

        // 1. Unlink. A removed service's servers leave without scheduler hooks (its scheduler
        //    goes with it, as in `__ip_vs_del_service`); a kept service's run del_dest.
        let survivors = Set(plan.previous.compactMap { $0 })
        for (o, service) in old.enumerated() where !survivors.contains(o) {
            for slot in service.order { destinations[Int(slot)].isAvailable = false }
            outcome.removedServices.append(service.key)
            outcome.removedDestinations += service.order.count
        }
        var orders: [[Int32]] = []
        var schedulers: [SchedulerInstance?] = []
        for (i, service) in configuration.services.enumerated() {
            guard let o = plan.previous[i] else {
                orders.append([])
                schedulers.append(nil)
                continue
            }
            var order = old[o].order
            var scheduler = old[o].scheduler
            var keep = Set<Int32>()
            for placement in plan.placements[i] {
                if case .kept(let slot) = placement { keep.insert(slot) }
            }
            var position = 0
            while position < order.count {
                let slot = order[position]
                if keep.contains(slot) {
                    position += 1
                    continue
                }
                order.remove(at: position)
                destinations[Int(slot)].isAvailable = false
                scheduler.destinationRemoved(at: position, DestinationList(slots: destinations, order: order))
                outcome.removedDestinations += 1
            }
            // 2. Edit what changed (upd_dest).
            for (j, rs) in service.realServers.enumerated() {
                guard case .kept(let slot) = plan.placements[i][j] else { continue }
                let d = destinations[Int(slot)]
                guard d.weight != rs.weight || d.upperThreshold != rs.upperThreshold
                    || d.lowerThreshold != rs.lowerThreshold else { continue }
                Self.update(destinations + Int(slot), to: rs, adding: false)
                scheduler.destinationUpdated(DestinationList(slots: destinations, order: order))
                outcome.updatedDestinations += 1
            }
            orders.append(order)
            schedulers.append(scheduler)
        }

        // 3. Link new and revived servers at the head, in `-a` order (add_dest). A new service
        //    starts its scheduler once, on its complete list.
        for (i, service) in configuration.services.enumerated() {
            for (j, rs) in service.realServers.enumerated() {
                let slot: Int32
                switch plan.placements[i][j] {
                case .kept:
                    continue
                case .revived(let s):
                    slot = s
                    Self.update(destinations + Int(s), to: rs, adding: true)
                    outcome.revivedDestinations += 1
                case .fresh(let s):
                    slot = s
                    place(rs, in: s, service: service.key, outcome: &outcome)
                    outcome.addedDestinations += 1
                }
                orders[i].insert(slot, at: 0)
                if plan.previous[i] != nil && !plan.startsScheduler[i] {
                    schedulers[i]?.destinationAdded(DestinationList(slots: destinations, order: orders[i]))
                }
            }
        }

        // 4. The new service table, in configuration order.
        var runtimes: [ServiceRuntime] = []
        var index: [VirtualServiceKey: Int] = [:]
        var detached = [Bool](repeating: false, count: configuration.services.count)
        for (i, service) in configuration.services.enumerated() {
            let list = DestinationList(slots: destinations, order: orders[i])
            var scheduler = schedulers[i]
            if plan.startsScheduler[i] {
                // validate() admitted only implemented names, so `make` does not fail here;
                // the previous scheduler (or wlc, ipvsadm's default) stands in if it ever did.
                scheduler = SchedulerRegistry.make(service.scheduler, destinations: list, flags: service.schedulerFlags)
                    ?? scheduler
                    ?? .weightedLeastConnection(WeightedLeastConnectionScheduler(destinations: list, flags: service.schedulerFlags))
            }
            if plan.previous[i] == nil { outcome.addedServices.append(service.key) }
            if let o = plan.previous[i], let before = old[o].persistence,
               service.persistence?.netmask != before.netmask {
                // Template keys are computed from the netmask; connections can no longer find
                // templates keyed with the old one, so the two are unlinked (see `commit`'s walk).
                detached[i] = true
            }
            index[service.key] = i
            runtimes.append(ServiceRuntime(
                key: service.key,
                scheduler: scheduler ?? .weightedLeastConnection(WeightedLeastConnectionScheduler(destinations: list)),
                schedulerFlags: service.schedulerFlags, order: orders[i], persistence: service.persistence,
                onePacketScheduling: service.onePacketScheduling))
        }
        services = runtimes
        serviceIndex = index
        indexSlotServices()

        // 5. Per-service counters and estimators follow their service to its new index.
        let stats = UnsafeMutablePointer<TrafficStats>.allocate(capacity: max(runtimes.count, 1))
        stats.initialize(repeating: TrafficStats(), count: max(runtimes.count, 1))
        for (i, o) in plan.previous.enumerated() {
            if let o { stats[i] = serviceStats[o] }
        }
        serviceStats.deallocate()
        serviceStats = stats
        // A new service's totals start at 0, even if it revives held slots of an earlier
        // service with its key (`serviceStats`).
        startServiceTotalsAtZero(plan.previous.indices.lazy.filter { plan.previous[$0] == nil })
        if ratesStarted {
            let before = serviceRates
            serviceRates = plan.previous.map { o in o.map { before[$0] } ?? RateEstimator() }
        }

        // 6. Connection entries: renumber their service from their slot's service key (UInt16.max
        //    when that service is gone, so nothing is ever credited to another service), and
        //    unlink templates from connections where the link can no longer be found.
        //    Skipped when no entry's service can have changed: the common edits cost no walk.
        let renumbered = plan.previous.enumerated().contains { $0.element != nil && $0.element != $0.offset }
        if connections.count > 0
            && (renumbered || !outcome.removedServices.isEmpty || outcome.revivedDestinations > 0 || detached.contains(true)) {
            renumberEntries(serviceIndex: index, detached: detached)
        }
        if settings.expireNoDestinationConnections && connections.count > 0 && outcome.removedDestinations > 0 {
            outcome.expiredConnections = expireUnavailable()
        }

        // 7. The mark rules against the new service indices, VIPs and neighbours.
        compileMarkRules(configuration.markRules)
        let vipsBefore = virtualAddressList
        virtualAddressList = configuration.virtualAddresses
        virtualAddresses = Set(virtualAddressList.map(\.value))
        let setBefore = Set(vipsBefore)
        let setAfter = Set(virtualAddressList)
        outcome.addedVIPs = virtualAddressList.filter { !setBefore.contains($0) }
        outcome.removedVIPs = vipsBefore.filter { !setAfter.contains($0) }
        let networksBefore = virtualNetworkList
        virtualNetworkList = configuration.virtualNetworks
        outcome.addedNetworks = virtualNetworkList.filter { !networksBefore.contains($0) }
        outcome.removedNetworks = networksBefore.filter { !virtualNetworkList.contains($0) }
        let inUse = Set(configuration.realServerAddresses.map(\.value))
        for n in neighbors.indices { neighbors[n].isInUse = inUse.contains(neighbors[n].address.value) }

        self.configuration = configuration
        return outcome
    }

    /// Turns the classifier into `markRules`/`markPorts`: each rule with the index of the
    /// service its mark selects. Rules after the last one whose mark a service takes cannot
    /// select anything and are left out (rules before it stay: a match there still decides
    /// the flow has no firewall-mark service, as the first matching iptables rule would).
    func compileMarkRules(_ classifier: MarkClassifier) {
        var index: [UInt32: Int] = [:]
        for (s, service) in services.enumerated() where service.key.isFirewallMark { index[service.key.firewallMark] = s }
        var compiled: [CompiledMarkRule] = []
        var ports: [CompiledMarkRule.PortRange] = []
        for rule in classifier.rules {
            let service = index[rule.mark].map { Int32($0) } ?? -1
            compiled.append(CompiledMarkRule(network: rule.network.address.value, mask: rule.network.mask,
                                             transport: rule.transport.rawValue, firstPort: Int32(ports.count),
                                             portCount: Int32(rule.ports.count), service: service))
            ports += rule.ports.map { CompiledMarkRule.PortRange(low: $0.lowerBound, high: $0.upperBound) }
        }
        while let last = compiled.last, last.service < 0 { compiled.removeLast() }
        markRules = compiled
        markPorts = compiled.isEmpty ? [] : ports
    }

    /// Gives every entry the new index of its slot's service (UInt16.max when that service is
    /// gone) and unlinks templates and connections where the link can no longer be found.
    func renumberEntries(serviceIndex index: [VirtualServiceKey: Int], detached: [Bool]) {
        var ownerOfSlot = [UInt16](repeating: UInt16.max, count: destinationCount)
        for slot in 0..<destinationCount {
            if let s = index[slotServiceKeys[slot]] { ownerOfSlot[slot] = UInt16(s) }
        }
        connections.forEachEntry { e in
            let slot = Int(e.pointee.destinationSlot)
            let owner = slot >= 0 && slot < destinationCount ? ownerOfSlot[slot] : UInt16.max
            e.pointee.serviceIndex = owner
            if owner == UInt16.max || detached[Int(owner)] {
                e.pointee.flags &= ~ConnectionEntry.controlledFlag
                if e.pointee.isTemplate { e.pointee.controlledCount = 0 }
            }
        }
    }

    /// `__ip_vs_update_dest`: weight and thresholds as given, AVAILABLE set, `lastWeight`
    /// following every non-zero weight (and any weight on add), OVERLOAD cleared when the new
    /// upper threshold is 0 or higher than the old one.
    static func update(_ d: UnsafeMutablePointer<Destination>, to rs: RealServerConfig, adding: Bool) {
        d.pointee.weight = rs.weight
        if adding || rs.weight != 0 { d.pointee.lastWeight = rs.weight }
        d.pointee.isAvailable = true
        if rs.upperThreshold == 0 || rs.upperThreshold > d.pointee.upperThreshold { d.pointee.isOverloaded = false }
        d.pointee.upperThreshold = rs.upperThreshold
        d.pointee.lowerThreshold = rs.lowerThreshold
    }

    /// Writes a new destination into `slot` (growing the used part of the pool if needed),
    /// with its neighbour entry, created if its address is new.
    func place(_ rs: RealServerConfig, in slot: Int32, service: VirtualServiceKey, outcome: inout ApplyOutcome) {
        let n: Int
        if let existing = neighborIndex[rs.address.value] {
            n = existing
            neighbors[n].isInUse = true
        } else {
            n = neighbors.count
            neighborIndex[rs.address.value] = n
            let mac = staticNeighbors[rs.address]
            neighbors.append(Neighbor(address: rs.address, mac: mac, isStatic: mac != nil, lastRequestAt: nil,
                                      lastConfirmedAt: nil, isWanted: false))
            outcome.addedNeighbors.append(rs.address)
        }
        var d = Destination(address: rs.address, port: rs.port, weight: rs.weight, upperThreshold: rs.upperThreshold,
                            lowerThreshold: rs.lowerThreshold, neighborIndex: Int32(n))
        d.mac = neighbors[n].mac
        // Slots are handed out in order, so this runs once; a gap would hold unlinked,
        // unavailable copies that nothing names.
        // A reused slot's counters stay in the totals of the service it was created in, when that
        // service is still there (`serviceStats`; this runs before `commit` renumbers services,
        // so `slotServices` and `serviceStats` are still the old ones).
        if Int(slot) < slotServices.count, case let o = Int(slotServices[Int(slot)]), o >= 0 {
            serviceStats[o].inPackets &+= destinations[Int(slot)].stats.inPackets
            serviceStats[o].inBytes &+= destinations[Int(slot)].stats.inBytes
        }
        var unused = d
        unused.isAvailable = false
        while destinationCount <= Int(slot) {
            (destinations + destinationCount).initialize(to: unused)
            slotServiceKeys.append(service)
            if ratesStarted { destinationRates.append(RateEstimator()) }
            destinationCount += 1
        }
        destinations[Int(slot)] = d
        slotServiceKeys[Int(slot)] = service
        if ratesStarted { destinationRates[Int(slot)] = RateEstimator() }
    }

    /// The kernel's `ip_vs_expire_nodest_conn_flush`: with `expire_nodest_conn`, every entry
    /// whose server is no longer available ends now instead of on its next packet.
    func expireUnavailable() -> Int {
        var doomed: [ConnectionKey] = []
        connections.forEach { e in
            let slot = Int(e.destinationSlot)
            if slot >= 0 && slot < destinationCount && !destinations[slot].isAvailable { doomed.append(e.key) }
        }
        for key in doomed {
            let slot = connections.find(key)
            guard slot >= 0 else { continue }
            release(connections.entry(slot).pointee)
            connections.remove(slot)
        }
        return doomed.count
    }
}
