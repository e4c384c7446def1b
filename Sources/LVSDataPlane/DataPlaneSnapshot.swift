import LVSCore

/// What the worker publishes about itself once per tick, for the stats file and the logs.
/// Built off the packet path (it allocates), read by the control thread under a lock.
public struct DataPlaneSnapshot: Sendable {
    public struct DestinationSnapshot: Sendable {
        public var address: IPv4Address
        public var port: UInt16
        public var weight: Int32
        public var activeConnections: Int32
        public var inactiveConnections: Int32
        public var mac: MACAddress?
        public var stats: TrafficStats
        public var rate: RateEstimator
    }

    public struct ServiceSnapshot: Sendable {
        public var key: VirtualServiceKey
        public var scheduler: String
        public var stats: TrafficStats
        public var rate: RateEstimator
        /// In kernel list order.
        public var destinations: [DestinationSnapshot]
    }

    public var counters: [UInt64] = Array(repeating: 0, count: DataPlaneCounter.slotCount)
    public var services: [ServiceSnapshot] = []
    public var connections = 0
    public var connectionCapacity = 0
    /// The last host seen claiming a VIP by ARP (usually a misconfigured real server).
    public var vipConflict: VIPConflict?
    /// With several workers: each one's share (empty with one, whose share is the whole).
    public var workers: [WorkerShare] = []
    /// How long frames waited in the receive ring (the worker's, or all workers' merged); nil
    /// with AF_XDP, whose descriptors carry no receive time.
    public var ringWait: RingWait?

    /// One worker's part of a merged snapshot: its shard's connections and its traffic.
    public struct WorkerShare: Sendable {
        public var connections: Int
        public var receivedFrames: UInt64
        public var forwardedFrames: UInt64
        public var ringWait: RingWait?
    }

    public init() {}

    /// The workers' snapshots as the director's: counters and statistics summed (same table on
    /// every worker), table sizes added, the shares listed. One snapshot is returned as it is.
    public static func merging(_ parts: [DataPlaneSnapshot]) -> DataPlaneSnapshot {
        guard var total = parts.first else { return DataPlaneSnapshot() }
        guard parts.count > 1 else { return total }
        total.workers = parts.map {
            WorkerShare(connections: $0.connections, receivedFrames: $0[.receivedFrames],
                        forwardedFrames: $0[.forwardedFrames], ringWait: $0.ringWait)
        }
        total.ringWait = RingWait.merging(parts.compactMap(\.ringWait))
        for part in parts.dropFirst() {
            for i in total.counters.indices where i < part.counters.count { total.counters[i] &+= part.counters[i] }
            total.connections += part.connections
            total.connectionCapacity += part.connectionCapacity
            if total.vipConflict == nil { total.vipConflict = part.vipConflict }
            for (index, service) in part.services.enumerated() {
                let s = index < total.services.count && total.services[index].key == service.key
                    ? index : total.services.firstIndex { $0.key == service.key }
                guard let s else { continue }
                total.services[s].stats = total.services[s].stats + service.stats
                total.services[s].rate = total.services[s].rate + service.rate
                for (dIndex, d) in service.destinations.enumerated() {
                    let mine = total.services[s].destinations
                    let same = { (o: DestinationSnapshot) in o.address == d.address && o.port == d.port }
                    let t = dIndex < mine.count && same(mine[dIndex]) ? dIndex : mine.firstIndex(where: same)
                    guard let t else { continue }
                    total.services[s].destinations[t].activeConnections &+= d.activeConnections
                    total.services[s].destinations[t].inactiveConnections &+= d.inactiveConnections
                    total.services[s].destinations[t].stats = total.services[s].destinations[t].stats + d.stats
                    total.services[s].destinations[t].rate = total.services[s].destinations[t].rate + d.rate
                    if total.services[s].destinations[t].mac == nil { total.services[s].destinations[t].mac = d.mac }
                }
            }
        }
        return total
    }

    public subscript(counter: DataPlaneCounter) -> UInt64 { counters[counter.rawValue] }

    /// The engine's state now, built on the worker thread once a tick: one sweep of the
    /// server slots for every service's totals (`serviceTotals`), then each service's servers,
    /// so its cost grows with services + slots (BENCHMARKS.md, "the service snapshot").
    public init(engine: ForwardingEngine) {
        counters = engine.counterSnapshot()
        connections = engine.connections.count
        connectionCapacity = engine.connections.capacity
        vipConflict = engine.vipConflict
        let totals = engine.serviceTotals()
        services = engine.services.enumerated().map { index, service in
            ServiceSnapshot(
                key: service.key, scheduler: service.scheduler.name, stats: totals[index],
                rate: engine.rate(service: index),
                destinations: service.order.map { slot in
                    let d = engine.destination(slot: slot)
                    return DestinationSnapshot(address: d.address, port: d.port, weight: d.weight,
                                               activeConnections: d.activeConnections,
                                               inactiveConnections: d.inactiveConnections, mac: d.mac, stats: d.stats,
                                               rate: engine.rate(slot: slot))
                })
        }
    }

    /// The snapshot as one JSON object (hand-written: the daemon stays free of Foundation).
    /// The stats file: `backend` (the data path in use, "af_packet" or "af_xdp", when the caller
    /// knows it), the data plane's counters, services, ring wait (`ring_wait_us`, null with
    /// AF_XDP) and workers (each with its own ring wait), then `sections`
    /// (already-encoded members such as lvsd's `"vrrp"`, `"sync"` and `"health"`) in order.
    public func json(backend: String? = nil, sections: [(name: String, value: String)] = []) -> String {
        func q(_ s: String) -> String { "\"" + s + "\"" }
        var out = "{\n"
        if let backend { out += "  \"backend\": \(q(backend)),\n" }
        out += "  \"counters\": {"
        out += zip(DataPlaneCounter.slotNames, counters).map { "\n    \(q($0)): \($1)" }.joined(separator: ",")
        out += "\n  },\n  \"connections\": \(connections),\n  \"connection_capacity\": \(connectionCapacity),\n"
        if let c = vipConflict {
            out += "  \"last_vip_conflict\": {\"vip\": \(q(c.vip.description)), \"mac\": \(q(c.mac.description)), "
            out += "\"sender\": \(q(c.senderAddress.description)), \"count\": \(c.count)},\n"
        }
        out += "  \"services\": ["
        out += services.map { s in
            var o = "\n    {\"protocol\": \(q(s.key.transport.description)), \"address\": \(q(s.key.address.description)), "
            o += "\"port\": \(s.key.port), \"fwmark\": \(s.key.firewallMark), \"scheduler\": \(q(s.scheduler)), "
            o += "\"conns\": \(s.stats.connections), \"inpkts\": \(s.stats.inPackets), \"inbytes\": \(s.stats.inBytes), "
            o += "\"cps\": \(s.rate.connectionsPerSecond), \"inpps\": \(s.rate.inPacketsPerSecond), \"inbps\": \(s.rate.inBytesPerSecond), "
            o += "\"real_servers\": ["
            o += s.destinations.map { d in
                "\n      {\"address\": \(q(d.address.description)), \"port\": \(d.port), \"weight\": \(d.weight), "
                    + "\"active\": \(d.activeConnections), \"inactive\": \(d.inactiveConnections), "
                    + "\"mac\": \(d.mac.map { q($0.description) } ?? "null"), "
                    + "\"conns\": \(d.stats.connections), \"inpkts\": \(d.stats.inPackets), \"inbytes\": \(d.stats.inBytes), "
                    + "\"cps\": \(d.rate.connectionsPerSecond), \"inpps\": \(d.rate.inPacketsPerSecond), \"inbps\": \(d.rate.inBytesPerSecond)}"
            }.joined(separator: ",")
            o += "\n    ]}"
            return o
        }.joined(separator: ",")
        out += "\n  ]"
        out += ",\n  \"ring_wait_us\": \(ringWait?.json ?? "null")"
        if !workers.isEmpty {
            out += ",\n  \"workers\": ["
            out += workers.enumerated().map { i, w in
                "\n    {\"worker\": \(i), \"connections\": \(w.connections), \"rx_frames\": \(w.receivedFrames), \"forwarded_frames\": \(w.forwardedFrames), \"ring_wait_us\": \(w.ringWait?.json ?? "null")}"
            }.joined(separator: ",")
            out += "\n  ]"
        }
        for section in sections { out += ",\n  " + JSONText.string(section.name) + ": " + section.value }
        out += "\n}\n"
        return out
    }
}
