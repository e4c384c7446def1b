import LVSConfig
import LVSCore

/// ipvsadm's output formats (IPVS-SEMANTICS.md §5.6), byte for byte, from a `DirectorStatus`.
///
/// Scripts parse `ipvsadm -L` by column, so every width, every trailing pad space and every
/// K/M/G abbreviation is reproduced from ipvsadm's printf formats. The formatter is pure: the
/// only outside knowledge it uses is the `NameResolver` it is handed, so the golden tests can
/// pin every byte.
public enum ListingFormatter {
    /// What `lvsadm -L` prints, in every mode.
    ///
    /// ipvsadm picks one listing, in this order: `-c`, one service (`-L -t VIP:PORT`),
    /// `--timeout`, `--daemon`, else the whole table. Only the whole table starts with the
    /// `IP Virtual Server version` line; a single service gets the two title lines and its
    /// entry. Option conflicts (`-c --stats`...) are the parser's to refuse, not this function's.
    ///
    /// - Parameter syncDaemons: the running sync daemons, for `--daemon`.
    /// - Throws: `ListingError.noSuchService` when `options.service` names no service; ipvsadm
    ///   then prints only the error.
    public static func list(_ status: DirectorStatus, options: ListOptions, names: some NameResolver,
                            syncDaemons: [SyncDaemonStatus] = []) throws(ListingError) -> String {
        let namer = EndpointNamer(numeric: options.numeric, names: names)
        if options.connections {
            return connections(status.connections ?? [], showsPersistenceEngine: options.persistentConnections,
                               namer: namer)
        }
        let layout = ListLayout(options)
        if let key = options.service {
            guard let service = status.services.first(where: { $0.config.key == key }) else {
                throw ListingError.noSuchService
            }
            return layout.title + serviceEntry(service, layout: layout, options: options, namer: namer)
        }
        if options.timeout {
            return timeoutLine(status.timeouts)
        }
        if options.daemon {
            return daemonLines(syncDaemons)
        }
        // IP_VS_VERSION_CODE 0x010201: the kernel version ipvsadm reports, whatever lvsd is.
        var out = "IP Virtual Server version 1.2.1 (size=\(status.connectionTableSize))\n"
        out += layout.title
        let services = options.sort ? ListingOrder.services(status.services) : status.services
        for service in services {
            out += serviceEntry(service, layout: layout, options: options, namer: namer)
        }
        return out
    }

    /// `print_service_entry` outside `-S`: the service line, then its real servers.
    static func serviceEntry<Names: NameResolver>(_ service: ServiceStatus, layout: ListLayout, options: ListOptions,
                                                  namer: EndpointNamer<Names>) -> String {
        let config = service.config
        let key = config.key
        // "%-4s %s", cut at 33 bytes for IPv4 whatever the layout; "FWM  %u" for a firewall mark.
        let name = TextColumn.truncated(
            key.isFirewallMark ? "FWM  \(key.firewallMark)"
                : TextColumn.left(key.transport.description, 4) + " " + namer.name(key.address, key.port, key.transport),
            toBytes: 33)
        var out: String
        switch layout {
        case .stats:
            let s = service.stats
            out = TextColumn.left(name, 33)
                + largeNumbers([s.connections, s.inPackets, s.outPackets, s.inBytes, s.outBytes], exact: options.exact)
        case .rate:
            let r = service.rates
            out = TextColumn.left(name, 33)
                + largeNumbers([r.connectionsPerSecond, r.inPacketsPerSecond, r.outPacketsPerSecond,
                                r.inBytesPerSecond, r.outBytesPerSecond], exact: options.exact)
        case .plain, .thresholds, .persistentConnections, .tunnelInfo:
            out = name + " " + config.scheduler
            if let flags = SchedulerFlagNames.text(config.schedulerFlags, scheduler: config.scheduler) {
                out += " (" + flags + ")"
            }
            if let persistence = config.persistence {
                out += " persistent \(persistence.timeout)"
                if persistence.netmask.value != 0xFFFF_FFFF {
                    out += " mask \(persistence.netmask)"
                }
            }
            if config.onePacketScheduling {
                out += " ops"
            }
        }
        out += "\n"
        let destinations = options.sort ? ListingOrder.destinations(service.destinations) : service.destinations
        for destination in destinations {
            out += destinationLine(destination, transport: key.transport, layout: layout, exact: options.exact,
                                   namer: namer)
        }
        return out
    }

    /// One `  -> addr:port ...` line. Every layout pads its last column too, so these lines end
    /// in spaces (except `--stats` and `--rate`, whose numbers are right-aligned).
    static func destinationLine<Names: NameResolver>(_ destination: DestinationStatus, transport: TransportProtocol,
                                                     layout: ListLayout, exact: Bool,
                                                     namer: EndpointNamer<Names>) -> String {
        let config = destination.config
        let name = TextColumn.left(
            TextColumn.truncated(namer.name(config.address, config.port, transport), toBytes: 28), 28)
        let forward = TextColumn.left(config.forwarding.rawValue, 7)
        let active = TextColumn.left(String(destination.activeConnections), 10)
        let inactive = TextColumn.left(String(destination.inactiveConnections), 10)
        let line: String
        switch layout {
        case .plain:
            // "  -> %-28s %-7s %-6d %-10u %-10u\n"
            line = name + " " + forward + " " + TextColumn.left(String(config.weight), 6) + " " + active
                + " " + inactive
        case .stats:
            // "  -> %-28s" + 5 x print_largenum
            let s = destination.stats
            line = name + largeNumbers([
                libipvsTruncated(s.connections), libipvsTruncated(s.inPackets), libipvsTruncated(s.outPackets),
                s.inBytes, s.outBytes,
            ], exact: exact)
        case .rate:
            // "  -> %-28s %8llu %8llu %8llu" + 2 x print_largenum: the first three never abbreviate.
            let r = destination.rates
            line = name
                + " " + TextColumn.right(String(libipvsTruncated(r.connectionsPerSecond)), 8)
                + " " + TextColumn.right(String(libipvsTruncated(r.inPacketsPerSecond)), 8)
                + " " + TextColumn.right(String(libipvsTruncated(r.outPacketsPerSecond)), 8)
                + largeNumbers([libipvsTruncated(r.inBytesPerSecond), libipvsTruncated(r.outBytesPerSecond)],
                               exact: exact)
        case .thresholds:
            // "  -> %-28s %-10u %-10u %-10u %-10u\n"
            line = name + " " + TextColumn.left(String(config.upperThreshold), 10)
                + " " + TextColumn.left(String(config.lowerThreshold), 10) + " " + active + " " + inactive
        case .persistentConnections:
            // "  -> %-28s %-9u %-11u %-10u %-10u\n" (the weight through %u)
            line = name + " " + TextColumn.left(String(UInt32(bitPattern: config.weight)), 9)
                + " " + TextColumn.left(String(destination.persistentConnections), 11) + " " + active + " " + inactive
        case .tunnelInfo:
            // "  -> %-28s %-7s %-13s %-6d %-10u %-10u\n"; direct routing has no tunnel: "n/a".
            line = name + " " + forward + " " + TextColumn.left("n/a", 13) + " "
                + TextColumn.left(String(config.weight), 6) + " " + active + " " + inactive
        }
        return "  -> " + line + "\n"
    }

    static func largeNumbers(_ values: [UInt64], exact: Bool) -> String {
        values.map { LargeNumber.format($0, exact: exact) }.joined()
    }

    /// libipvs reads a real server's 64-bit netlink counters with `ipvs_parse_stats`, whose
    /// `nla_get_u32` keeps only the low 32 bits of each 8-byte attribute on a little-endian
    /// machine; only the two byte counters are read as 64-bit. A service's counters go through
    /// `ipvs_parse_stats64` and are whole. So ipvsadm shows a real server's connection, packet
    /// and rate counters modulo 2^32, and so does lvsadm.
    static func libipvsTruncated(_ value: UInt64) -> UInt64 {
        UInt64(UInt32(truncatingIfNeeded: value))
    }
}
