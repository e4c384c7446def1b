/// Connection sync between directors, the engine's half: what a master records, what a backup
/// takes in, and the whole table for a backup that asks for it.
///
/// The master records a connection when the kernel's master would send it with its default
/// settings (`ip_vs_sync_conn_needed`, sync_refresh_period 0): a TCP connection when it enters
/// ESTABLISHED, FIN_WAIT, CLOSE, CLOSE_WAIT or TIME_WAIT, a UDP one when it opens (the kernel
/// waits for its third packet; counting packets per entry would cost the hit path a write), and
/// with each connection the persistence template that controls it. The record goes into
/// `syncJournal`, a preallocated ring the sync thread drains.
///
/// The backup files each record as the kernel's backup does (`ip_vs_proc_conn`): the service by
/// firewall mark or by protocol, VIP and port, the real server by address and port, the state
/// and the timeout as sent; a connection to another real server than the one it had is
/// replaced; one whose service or server this director does not have is counted and skipped.
/// Entries age as any other: the backup's engine forwards nothing for them until the VIP moves
/// to it, and then takes them up where the master left them.
extension ForwardingEngine {
    /// `ip_vs_sync_conn_needed`'s TCP states: ESTABLISHED, FIN_WAIT, TIME_WAIT, CLOSE,
    /// CLOSE_WAIT (bits by `ConnectionState` raw value).
    static let syncedTCPStates: UInt32 = 1 << 1 | 1 << 4 | 1 << 5 | 1 << 6 | 1 << 7

    /// A state change of a connection (the packet path calls this only when a journal is
    /// set): recorded if the new state is one the kernel syncs. Out of line, so the packet
    /// path pays only the journal test.
    @inline(never)
    func recordSyncedChange(_ e: UnsafeMutablePointer<ConnectionEntry>, state: UInt8, now: UInt64) {
        guard state < 32, Self.syncedTCPStates >> UInt32(state) & 1 != 0 else { return }
        recordSync(e, now: now)
    }

    /// Records the connection at `e` and, if a template controls it, the template.
    @inline(never)
    func recordSync(_ e: UnsafeMutablePointer<ConnectionEntry>, now: UInt64) {
        guard let journal = syncJournal else { return }
        journal.push(syncRecord(e.pointee))
        if e.pointee.isControlled, Int(e.pointee.serviceIndex) < services.count {
            let tkey = templateKey(service: Int(e.pointee.serviceIndex), transport: e.pointee.transport,
                                   clientAddress: e.pointee.clientAddress, virtualAddress: e.pointee.virtualAddress,
                                   virtualPort: e.pointee.virtualPort)
            let t = connections.find(tkey)
            if t >= 0 { journal.push(syncRecord(connections.entry(t).pointee)) }
        }
    }

    /// How often every live entry is sent again, so that a backup's copy of a long, quiet
    /// connection (which changes no state) does not expire: the kernel resends a busy
    /// connection every 50 packets (`sync_threshold 3 50`); counting packets per entry would
    /// cost the hit path a write, so the housekeeping tick walks the table instead.
    public static let syncRefreshNanos: UInt64 = 120_000_000_000

    /// Records up to `budget` slots' worth of live entries in the states the kernel syncs (and
    /// templates), from where the last call stopped. The worker calls it every housekeeping
    /// tick with `capacity × tick / syncRefreshNanos` slots, so each entry goes out about every
    /// `syncRefreshNanos`.
    public func refreshSync(now: UInt64, budget: Int) {
        guard let journal = syncJournal else { return }
        let capacity = connections.capacity
        var visited = 0
        while visited < budget {
            let e = connections.entries + syncRefreshCursor
            syncRefreshCursor = (syncRefreshCursor + 1) & (capacity - 1)
            visited += 1
            guard e.pointee.isOccupied, e.pointee.expiresAt > now else { continue }
            let state = e.pointee.stateRaw
            let synced = e.pointee.isTemplate || state == ConnectionState.udp.rawValue
                || (state < 32 && Self.syncedTCPStates >> UInt32(state) & 1 != 0)
            if synced { journal.push(syncRecord(e.pointee)) }
        }
    }

    /// The sync record of an entry, with the flags and numbers a kernel DR director sends.
    public func syncRecord(_ e: ConnectionEntry) -> SyncConnection {
        let d = destinations[Int(e.destinationSlot)]
        var flags = SyncProtocol.directRoutingFlags | SyncProtocol.noOutputFlag
        let state: UInt16
        let timeout: UInt32
        let s = Int(e.serviceIndex)
        let mark = s < services.count ? services[s].key.firewallMark : 0
        if e.isTemplate {
            flags |= SyncProtocol.templateFlag
            state = 0
            timeout = s < services.count ? services[s].persistence?.timeout ?? 0 : 0
        } else {
            if !e.state.isActive { flags |= SyncProtocol.inactiveFlag }
            state = e.state == .udp ? 0 : UInt16(e.stateRaw)
            timeout = UInt32(timeoutNanos[Int(e.stateRaw)] / 1_000_000_000)
        }
        return SyncConnection(transport: e.transport & 0x7F, flags: flags, state: state,
                              clientAddress: e.clientAddress, clientPort: e.clientPort,
                              virtualAddress: e.virtualAddress, virtualPort: e.virtualPort,
                              destinationAddress: d.address.value, destinationPort: d.port,
                              firewallMark: mark, timeoutSeconds: timeout)
    }

    /// Every live entry as a sync record, templates first (for a backup's full-table pull).
    public func syncRecords(now: UInt64) -> [SyncConnection] {
        var templates: [SyncConnection] = []
        var others: [SyncConnection] = []
        connections.forEach { e in
            guard e.expiresAt > now else { return }
            if e.isTemplate { templates.append(syncRecord(e)) } else { others.append(syncRecord(e)) }
        }
        return templates + others
    }

    /// Files received sync records into the table (on a backup, from the worker thread).
    public func applySync(_ records: [SyncConnection], now: UInt64) -> SyncImportCounts {
        var counts = SyncImportCounts()
        for r in records { applySync(r, now: now, counts: &counts) }
        return counts
    }

    func applySync(_ r: SyncConnection, now: UInt64, counts: inout SyncImportCounts) {
        let isTemplate = r.isTemplate
        guard isTemplate || r.transport == TransportProtocol.tcp.rawValue || r.transport == TransportProtocol.udp.rawValue,
              isTemplate || (r.transport == TransportProtocol.udp.rawValue ? r.state == 0 : r.state < 11) else {
            counts.invalid += 1
            return
        }
        guard let s = syncService(r) else {
            counts.unknownService += 1
            return
        }
        guard let slot = services[s].order.first(where: {
            destinations[Int($0)].address.value == r.destinationAddress && destinations[Int($0)].port == r.destinationPort
        }) else {
            counts.unknownDestination += 1
            return
        }
        let stateRaw: UInt8 = isTemplate ? ConnectionState.none.rawValue
            : r.transport == TransportProtocol.udp.rawValue ? ConnectionState.udp.rawValue : UInt8(r.state)
        let transport: UInt8 = isTemplate ? (r.transport | 0x80) : r.transport
        let key = ConnectionKey(transport: transport, clientAddress: r.clientAddress, clientPort: r.clientPort,
                                virtualAddress: r.virtualAddress, virtualPort: r.virtualPort)
        // Without a timeout (a version 0 sender) the kernel uses the state's own, or 3 minutes
        // for a template.
        let seconds = r.timeoutSeconds != 0 ? UInt64(r.timeoutSeconds)
            : isTemplate ? 180 : timeoutNanos[Int(stateRaw)] / 1_000_000_000
        let expiresAt = now &+ seconds &* 1_000_000_000
        var index = connections.find(key)
        if index >= 0 && connections.entry(index).pointee.destinationSlot != slot {
            // Another server than the master's: the master's choice wins.
            release(connections.entry(index).pointee)
            connections.remove(index)
            index = -1
        }
        if index >= 0 {
            let e = connections.entry(index)
            if !isTemplate && e.pointee.stateRaw != stateRaw {
                changeState(e, destinations + Int(slot), from: e.pointee.stateRaw, to: stateRaw)
            }
            e.pointee.expiresAt = expiresAt
            counts.updated += 1
            return
        }
        index = connections.insert(key)
        guard index >= 0 else {
            counts.tableFull += 1
            return
        }
        let e = connections.entry(index)
        e.pointee.destinationSlot = slot
        e.pointee.serviceIndex = UInt16(s)
        e.pointee.expiresAt = expiresAt
        let d = destinations + Int(slot)
        if isTemplate {
            e.pointee.flags |= ConnectionEntry.templateFlag
            e.pointee.stateRaw = stateRaw
            d.pointee.persistentConnections += 1
        } else {
            // `ip_vs_bind_dest` as for a synced connection: active or inactive by its state.
            e.pointee.stateRaw = stateRaw
            if ConnectionState(rawValue: stateRaw)?.isActive == true {
                d.pointee.activeConnections += 1
            } else {
                d.pointee.inactiveConnections += 1
            }
        }
        counts.added += 1
    }

    /// The service a record belongs to, found as `ip_vs_find_dest` finds it: by firewall mark
    /// when the record has one, else by protocol, VIP and port, else the VIP's all-ports service.
    func syncService(_ r: SyncConnection) -> Int? {
        if r.firewallMark != 0 { return serviceIndex[.firewallMark(r.firewallMark)] }
        let transport: TransportProtocol = r.transport == TransportProtocol.udp.rawValue ? .udp : .tcp
        guard r.transport == TransportProtocol.tcp.rawValue || r.transport == TransportProtocol.udp.rawValue else {
            return nil
        }
        let vip = IPv4Address(r.virtualAddress)
        return serviceIndex[VirtualServiceKey(transport: transport, address: vip, port: r.virtualPort)]
            ?? serviceIndex[VirtualServiceKey(transport: transport, address: vip, port: 0)]
    }
}

/// What a backup did with a batch of sync records.
public struct SyncImportCounts: Sendable, Equatable {
    public var added = 0
    public var updated = 0
    /// No service for the record's VIP, port and protocol (or mark).
    public var unknownService = 0
    /// The service has no real server at the record's address and port.
    public var unknownDestination = 0
    /// No free slot in the record's neighbourhood of the table.
    public var tableFull = 0
    /// A protocol or state no connection can have.
    public var invalid = 0

    public init() {}

    public mutating func add(_ o: SyncImportCounts) {
        added += o.added
        updated += o.updated
        unknownService += o.unknownService
        unknownDestination += o.unknownDestination
        tableFull += o.tableFull
        invalid += o.invalid
    }
}
