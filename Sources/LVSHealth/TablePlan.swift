import LVSConfig
import LVSCore

/// Turns wanted table entries into the ipvsadm commands that get the live table there. The
/// commands are computed against the table as it is (`TableEditor.currentTable()`), so they
/// are valid whatever an admin did with lvsadm in between: a server to put in that is already
/// there is edited rather than added, one to take out that is gone already needs nothing.
public enum TablePlan {
    /// Commands for a few entries whose wanted state changed (a health event): for each, add,
    /// edit or delete so that the table matches `wanted` (nil = not in the table). An entry of
    /// a service the table no longer has is skipped: an admin deleted the service.
    public static func commands(for wanted: [RealServerKey: RealServerConfig?],
                                table: DirectorConfiguration) -> [IpvsadmCommand] {
        var commands: [IpvsadmCommand] = []
        var servicesByKey: [VirtualServiceKey: VirtualServiceConfig] = [:]
        for s in table.services { servicesByKey[s.key] = s }
        // Deterministic order (the set's order is not): service, then address, then port.
        let keys = wanted.keys.sorted {
            ($0.service.address, $0.service.port, $0.service.transport.rawValue, $0.address, $0.port)
                < ($1.service.address, $1.service.port, $1.service.transport.rawValue, $1.address, $1.port)
        }
        for key in keys {
            guard let service = servicesByKey[key.service], let want = wanted[key] else { continue }
            let current = service.realServers.first { $0.address == key.address && $0.port == key.port }
            commands += entryCommands(service: key.service, current: current, wanted: want, address: key.address, port: key.port)
        }
        return commands
    }

    /// The commands that make `table` what `wanted` says for the services and entries this
    /// configuration manages, as one batch: services gone from the configuration (`removed`)
    /// are deleted, new ones added with their servers, kept ones edited where their scheduler,
    /// flags or persistence changed, and their managed entries added, edited or deleted.
    /// Entries in the table that no configuration manages (added with lvsadm) are left alone.
    public static func reconcile(wanted: DirectorConfiguration, managed: [VirtualServiceKey: Set<RealServerKey>],
                                 removed: [VirtualServiceKey], table: DirectorConfiguration) -> [IpvsadmCommand] {
        var commands: [IpvsadmCommand] = []
        var current: [VirtualServiceKey: VirtualServiceConfig] = [:]
        for s in table.services { current[s.key] = s }
        for key in removed where current[key] != nil && !wanted.services.contains(where: { $0.key == key }) {
            commands.append(.deleteService(key))
        }
        for service in wanted.services {
            guard let live = current[service.key] else {
                commands.append(.addService(service))
                for server in service.realServers { commands.append(.addServer(service.key, server)) }
                continue
            }
            if live.scheduler != service.scheduler || live.schedulerFlags != service.schedulerFlags
                || live.persistence != service.persistence || live.onePacketScheduling != service.onePacketScheduling {
                commands.append(.editService(service))
            }
            let owned = managed[service.key] ?? []
            for server in live.realServers {
                let key = RealServerKey(service: service.key, address: server.address, port: server.port)
                if owned.contains(key), !service.realServers.contains(where: { $0.address == server.address && $0.port == server.port }) {
                    commands.append(.deleteServer(service.key, address: server.address, port: server.port))
                }
            }
            for server in service.realServers {
                let now = live.realServers.first { $0.address == server.address && $0.port == server.port }
                commands += entryCommands(service: service.key, current: now, wanted: server, address: server.address, port: server.port)
            }
        }
        return commands
    }

    static func entryCommands(service: VirtualServiceKey, current: RealServerConfig?, wanted: RealServerConfig?,
                              address: IPv4Address, port: UInt16) -> [IpvsadmCommand] {
        switch (current, wanted) {
        case (nil, nil): return []
        case (_?, nil): return [.deleteServer(service, address: address, port: port)]
        case (nil, let w?): return [.addServer(service, w)]
        case (let c?, let w?):
            if c.weight == w.weight && c.upperThreshold == w.upperThreshold && c.lowerThreshold == w.lowerThreshold { return [] }
            return [.editServer(service, w)]
        }
    }
}
