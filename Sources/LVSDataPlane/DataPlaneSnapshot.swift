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

    public init() {}

    public subscript(counter: DataPlaneCounter) -> UInt64 { counters[counter.rawValue] }

    init(engine: ForwardingEngine) {
        counters = engine.counterSnapshot()
        connections = engine.connections.count
        connectionCapacity = engine.connections.capacity
        vipConflict = engine.vipConflict
        services = engine.services.enumerated().map { index, service in
            ServiceSnapshot(
                key: service.key, scheduler: service.scheduler.name, stats: engine.stats(service: index),
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
    public func json() -> String {
        func q(_ s: String) -> String { "\"" + s + "\"" }
        var out = "{\n  \"counters\": {"
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
        out += "\n  ]\n}\n"
        return out
    }
}
