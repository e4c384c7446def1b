/// `ipvsadm -Z` named a service the director does not have; ipvsadm says "No such service".
public struct UnknownServiceError: Error, Sendable, Equatable, CustomStringConvertible {
    public var key: VirtualServiceKey

    public init(key: VirtualServiceKey) { self.key = key }

    public var description: String { "No such service: \(key)" }
}

extension ForwardingEngine {
    /// Everything `ipvsadm -L` can show, taken now. Built off the packet path (it allocates).
    ///
    /// Services come in configuration order, each with its configuration as it stands (real
    /// servers in `-a` order with their current weight and thresholds) and its destinations in
    /// the kernel's list order. With `includeConnections`, every live entry is listed, templates
    /// included with state `NONE` as /proc/net/ip_vs_conn shows them (SwiftLVS does not track
    /// ASSURED). An entry past its expiry is not listed even before the sweep reaches it, as
    /// `connectionEntries(now:)` does.
    public func status(now: UInt64, includeConnections: Bool) -> DirectorStatus {
        var result = DirectorStatus(connectionTableSize: connections.capacity, timeouts: timeouts,
                                    vipConflict: vipConflict.map {
                                        var c = $0
                                        c.secondsSinceLast = (now &- min(now, lastVIPConflictAt)) / 1_000_000_000
                                        return c
                                    })
        let totals = serviceTotals()
        for (s, runtime) in services.enumerated() {
            var config = s < configuration.services.count ? configuration.services[s] : VirtualServiceConfig(
                key: runtime.key, scheduler: runtime.scheduler.name)
            var slotOf: [RealServerConfig.AddressPort: Int32] = [:]
            for slot in runtime.order {
                let d = destinations[Int(slot)]
                slotOf[RealServerConfig.AddressPort(address: d.address, port: d.port)] = slot
            }
            for i in config.realServers.indices {
                guard let slot = slotOf[config.realServers[i].addressPort] else { continue }
                config.realServers[i] = Self.realServerConfig(destinations[Int(slot)])
            }
            config.scheduler = runtime.scheduler.name
            let list = runtime.order.map { slot in
                let d = destinations[Int(slot)]
                return DestinationStatus(config: Self.realServerConfig(d),
                                         activeConnections: UInt32(clamping: d.activeConnections),
                                         inactiveConnections: UInt32(clamping: d.inactiveConnections),
                                         persistentConnections: UInt32(clamping: d.persistentConnections),
                                         stats: d.stats, rates: TrafficRates(rate(slot: slot)))
            }
            result.services.append(ServiceStatus(config: config, stats: totals[s],
                                                 rates: TrafficRates(rate(service: s)), destinations: list))
        }
        if includeConnections {
            var list: [ConnectionStatus] = []
            connections.forEach { e in
                let slot = Int(e.destinationSlot)
                guard e.expiresAt > now, slot >= 0, slot < destinationCount else { return }
                let d = destinations[slot]
                // A firewall-mark template is keyed <IPPROTO_IP, client, 0, mark, 0>; the kernel
                // lists it with protocol IP and the mark as its virtual address (0.0.0.1:0).
                let isMarkTemplate = e.isTemplate && e.transport == Self.firewallMarkTemplateProtocol
                let service = Int(e.serviceIndex) < services.count ? services[Int(e.serviceIndex)] : nil
                let transport: TransportProtocol
                if isMarkTemplate {
                    transport = service?.key.transport ?? .tcp
                } else if let t = TransportProtocol(rawValue: e.transport & 0x7F) {
                    transport = t
                } else {
                    return
                }
                list.append(ConnectionStatus(
                    transport: transport, state: e.isTemplate ? ConnectionState.none.description : e.state.description,
                    expiresInMilliseconds: (e.expiresAt - now) / 1_000_000,
                    clientAddress: IPv4Address(e.clientAddress), clientPort: e.clientPort,
                    virtualAddress: IPv4Address(e.virtualAddress), virtualPort: e.virtualPort,
                    destinationAddress: d.address,
                    destinationPort: Self.destinationPort(e, server: d.port, persistent: service?.persistence != nil,
                                                          firewallMark: service?.key.isFirewallMark ?? false),
                    isTemplate: e.isTemplate, firewallMark: isMarkTemplate ? e.virtualAddress : 0))
            }
            result.connections = list
        }
        return result
    }

    /// The real-server port the kernel records for an entry (DR never rewrites it; it is what
    /// `-L -c` shows). A template has the server's port when its virtual port is the service's,
    /// 0 otherwise (all-ports, FTP and firewall-mark templates). A connection has the server's
    /// port, or the packet's when the server has none (port 0: all-ports services, and
    /// firewall-mark servers added without a port), or always the packet's for a persistent
    /// firewall-mark service (`ip_vs_sched_persist`: the packet's port is never the service's 0).
    static func destinationPort(_ e: ConnectionEntry, server port: UInt16, persistent: Bool,
                                firewallMark: Bool) -> UInt16 {
        if e.isTemplate { return e.virtualPort == 0 ? 0 : port }
        if port == 0 || (firewallMark && persistent) { return e.virtualPort }
        return port
    }

    static func realServerConfig(_ d: Destination) -> RealServerConfig {
        RealServerConfig(address: d.address, port: d.port, weight: d.weight, upperThreshold: d.upperThreshold,
                         lowerThreshold: d.lowerThreshold)
    }

    /// `ipvsadm -Z`: the counters of one service and its real servers (nil: of every service)
    /// start again from 0, and their estimators restart from there (the kernel's
    /// `ip_vs_zero_stats`, which also zeroes the rates). Real servers that were removed but are
    /// still held keep their counters, as trashed dests do in the kernel.
    public func zeroCounters(service key: VirtualServiceKey?) throws(UnknownServiceError) {
        let targets: [Int]
        if let key {
            guard let s = serviceIndex[key] else { throw UnknownServiceError(key: key) }
            targets = [s]
        } else {
            targets = Array(services.indices)
        }
        for s in targets {
            serviceStats[s] = TrafficStats()
            if ratesStarted && s < serviceRates.count { serviceRates[s] = RateEstimator() }
            for slot in services[s].order {
                destinations[Int(slot)].stats = TrafficStats()
                if ratesStarted && Int(slot) < destinationRates.count { destinationRates[Int(slot)] = RateEstimator() }
            }
        }
        // The held slots of removed servers keep their counters but no longer count in the
        // services' totals (`serviceStats`): one sweep of the slots for all targets.
        startServiceTotalsAtZero(targets)
    }
}
