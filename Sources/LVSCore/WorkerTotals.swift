/// Summing what several data-plane workers report into what one director reports.
///
/// Every worker holds the same table (the control plane applies each change to all of them)
/// with its own counters, rates and connection shard, so the director's figures are sums, and
/// its connection listing is the shards' concatenation. As with IPVS's per-CPU counters, the
/// parts are read at slightly different moments.

extension TrafficRates {
    public static func + (a: TrafficRates, b: TrafficRates) -> TrafficRates {
        var r = a
        r.connectionsPerSecond &+= b.connectionsPerSecond
        r.inPacketsPerSecond &+= b.inPacketsPerSecond
        r.outPacketsPerSecond &+= b.outPacketsPerSecond
        r.inBytesPerSecond &+= b.inBytesPerSecond
        r.outBytesPerSecond &+= b.outBytesPerSecond
        return r
    }
}

extension RateEstimator {
    /// The estimator of the summed counters: the average is linear, so it is the sum of the
    /// parts' averages (kept scaled, so rounding happens once, when shown).
    public static func + (a: RateEstimator, b: RateEstimator) -> RateEstimator {
        var r = a
        r.lastConnections &+= b.lastConnections
        r.lastInPackets &+= b.lastInPackets
        r.lastOutPackets &+= b.lastOutPackets
        r.lastInBytes &+= b.lastInBytes
        r.lastOutBytes &+= b.lastOutBytes
        r.connectionsScaled &+= b.connectionsScaled
        r.inPacketsScaled &+= b.inPacketsScaled
        r.outPacketsScaled &+= b.outPacketsScaled
        r.inBytesScaled &+= b.inBytesScaled
        r.outBytesScaled &+= b.outBytesScaled
        return r
    }
}

extension DirectorStatus {
    /// The workers' statuses as one: the first worker's services and settings, with every
    /// counter, rate and connection count summed over the workers that hold the same service
    /// and real server, table sizes added, and the connection listings concatenated.
    /// A VIP conflict is the most recent one any worker saw.
    public static func merging(_ parts: [DirectorStatus]) -> DirectorStatus? {
        guard var total = parts.first else { return nil }
        for part in parts.dropFirst() {
            total.connectionTableSize += part.connectionTableSize
            if let c = part.vipConflict, total.vipConflict.map({ c.secondsSinceLast < $0.secondsSinceLast }) ?? true {
                total.vipConflict = c
            }
            if let listed = part.connections { total.connections = (total.connections ?? []) + listed }
            for (index, service) in part.services.enumerated() {
                // Same table, so normally the same index; a key look-up covers a part caught
                // between two changes.
                let s = index < total.services.count && total.services[index].config.key == service.config.key
                    ? index : total.services.firstIndex { $0.config.key == service.config.key }
                guard let s else { continue }
                total.services[s].stats = total.services[s].stats + service.stats
                total.services[s].rates = total.services[s].rates + service.rates
                for (dIndex, d) in service.destinations.enumerated() {
                    let mine = total.services[s].destinations
                    let t = dIndex < mine.count && mine[dIndex].config.addressPort == d.config.addressPort
                        ? dIndex : mine.firstIndex { $0.config.addressPort == d.config.addressPort }
                    guard let t else { continue }
                    total.services[s].destinations[t].activeConnections &+= d.activeConnections
                    total.services[s].destinations[t].inactiveConnections &+= d.inactiveConnections
                    total.services[s].destinations[t].persistentConnections &+= d.persistentConnections
                    total.services[s].destinations[t].stats = total.services[s].destinations[t].stats + d.stats
                    total.services[s].destinations[t].rates = total.services[s].destinations[t].rates + d.rates
                }
            }
        }
        return total
    }
}
