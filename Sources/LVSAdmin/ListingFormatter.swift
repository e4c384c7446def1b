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
            var out = Array(layout.title.utf8)
            serviceEntry(service, layout: layout, options: options, namer: namer, into: &out)
            return String(decoding: out, as: UTF8.self)
        }
        if options.timeout {
            return timeoutLine(status.timeouts)
        }
        if options.daemon {
            return daemonLines(syncDaemons)
        }
        // IP_VS_VERSION_CODE 0x010201: the kernel version ipvsadm reports, whatever lvsd is.
        var out = Array("IP Virtual Server version 1.2.1 (size=\(status.connectionTableSize))\n".utf8)
        let destinations = status.services.reduce(0) { $0 + $1.destinations.count }
        out.reserveCapacity(status.services.count * 64 + destinations * 72 + 256)
        out.appendText(layout.title)
        if options.sort {
            for s in ListingOrder.serviceOrder(status.services) {
                serviceEntry(status.services[s], layout: layout, options: options, namer: namer, into: &out)
            }
        } else {
            for service in status.services {
                serviceEntry(service, layout: layout, options: options, namer: namer, into: &out)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// `print_service_entry` outside `-S`: the service line, then its real servers.
    static func serviceEntry<Names: NameResolver>(_ service: ServiceStatus, layout: ListLayout, options: ListOptions,
                                                  namer: EndpointNamer<Names>, into out: inout [UInt8]) {
        let config = service.config
        let key = config.key
        // "%-4s %s", cut at 33 bytes for IPv4 whatever the layout; "FWM  %u" for a firewall mark.
        let mark = out.count
        if key.isFirewallMark {
            out.appendText("FWM  ")
            out.appendDecimal(UInt64(key.firewallMark))
        } else {
            out.appendLeft(key.transport.description, 4)
            out.append(0x20)
            namer.append(key.address, key.port, key.transport, to: &out)
        }
        out.truncate(from: mark, toBytes: 33)
        switch layout {
        case .stats:
            let s = service.stats
            out.padLeftAligned(from: mark, 33)
            out.appendText(largeNumbers([s.connections, s.inPackets, s.outPackets, s.inBytes, s.outBytes],
                                        exact: options.exact))
        case .rate:
            let r = service.rates
            out.padLeftAligned(from: mark, 33)
            out.appendText(largeNumbers([r.connectionsPerSecond, r.inPacketsPerSecond, r.outPacketsPerSecond,
                                         r.inBytesPerSecond, r.outBytesPerSecond], exact: options.exact))
        case .plain, .thresholds, .persistentConnections, .tunnelInfo:
            out.append(0x20)
            out.appendText(config.scheduler)
            if let flags = SchedulerFlagNames.text(config.schedulerFlags, scheduler: config.scheduler) {
                out.appendText(" (")
                out.appendText(flags)
                out.appendText(")")
            }
            if let persistence = config.persistence {
                out.appendText(" persistent ")
                out.appendDecimal(UInt64(persistence.timeout))
                if persistence.netmask.value != 0xFFFF_FFFF {
                    out.appendText(" mask ")
                    out.appendDottedQuad(persistence.netmask)
                }
            }
            if config.onePacketScheduling {
                out.appendText(" ops")
            }
        }
        out.append(0x0A)
        if options.sort {
            for d in ListingOrder.destinationOrder(service.destinations) {
                destinationLine(service.destinations[d], transport: key.transport, layout: layout, exact: options.exact,
                                namer: namer, into: &out)
            }
        } else {
            for destination in service.destinations {
                destinationLine(destination, transport: key.transport, layout: layout, exact: options.exact,
                                namer: namer, into: &out)
            }
        }
    }

    /// One `  -> addr:port ...` line. Every layout pads its last column too, so these lines end
    /// in spaces (except `--stats` and `--rate`, whose numbers are right-aligned).
    static func destinationLine<Names: NameResolver>(_ destination: DestinationStatus, transport: TransportProtocol,
                                                     layout: ListLayout, exact: Bool, namer: EndpointNamer<Names>,
                                                     into out: inout [UInt8]) {
        let config = destination.config
        out.appendText("  -> ")
        let mark = out.count
        namer.append(config.address, config.port, transport, to: &out)
        out.truncate(from: mark, toBytes: 28)
        out.padLeftAligned(from: mark, 28)
        switch layout {
        case .plain:
            // "  -> %-28s %-7s %-6d %-10u %-10u\n"
            out.append(0x20)
            out.appendLeft(config.forwarding.rawValue, 7)
            out.append(0x20)
            out.appendLeft(Int64(config.weight), 6)
            out.append(0x20)
            out.appendLeft(Int64(destination.activeConnections), 10)
            out.append(0x20)
            out.appendLeft(Int64(destination.inactiveConnections), 10)
        case .stats:
            // "  -> %-28s" + 5 x print_largenum
            let s = destination.stats
            out.appendText(largeNumbers([
                libipvsTruncated(s.connections), libipvsTruncated(s.inPackets), libipvsTruncated(s.outPackets),
                s.inBytes, s.outBytes,
            ], exact: exact))
        case .rate:
            // "  -> %-28s %8llu %8llu %8llu" + 2 x print_largenum: the first three never abbreviate.
            let r = destination.rates
            out.append(0x20)
            out.appendRight(libipvsTruncated(r.connectionsPerSecond), 8)
            out.append(0x20)
            out.appendRight(libipvsTruncated(r.inPacketsPerSecond), 8)
            out.append(0x20)
            out.appendRight(libipvsTruncated(r.outPacketsPerSecond), 8)
            out.appendText(largeNumbers([libipvsTruncated(r.inBytesPerSecond), libipvsTruncated(r.outBytesPerSecond)],
                                        exact: exact))
        case .thresholds:
            // "  -> %-28s %-10u %-10u %-10u %-10u\n"
            out.append(0x20)
            out.appendLeft(Int64(config.upperThreshold), 10)
            out.append(0x20)
            out.appendLeft(Int64(config.lowerThreshold), 10)
            out.append(0x20)
            out.appendLeft(Int64(destination.activeConnections), 10)
            out.append(0x20)
            out.appendLeft(Int64(destination.inactiveConnections), 10)
        case .persistentConnections:
            // "  -> %-28s %-9u %-11u %-10u %-10u\n" (the weight through %u)
            out.append(0x20)
            out.appendLeft(Int64(UInt32(bitPattern: config.weight)), 9)
            out.append(0x20)
            out.appendLeft(Int64(destination.persistentConnections), 11)
            out.append(0x20)
            out.appendLeft(Int64(destination.activeConnections), 10)
            out.append(0x20)
            out.appendLeft(Int64(destination.inactiveConnections), 10)
        case .tunnelInfo:
            // "  -> %-28s %-7s %-13s %-6d %-10u %-10u\n"; direct routing has no tunnel: "n/a".
            out.append(0x20)
            out.appendLeft(config.forwarding.rawValue, 7)
            out.append(0x20)
            out.appendLeft("n/a", 13)
            out.append(0x20)
            out.appendLeft(Int64(config.weight), 6)
            out.append(0x20)
            out.appendLeft(Int64(destination.activeConnections), 10)
            out.append(0x20)
            out.appendLeft(Int64(destination.inactiveConnections), 10)
        }
        out.append(0x0A)
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
