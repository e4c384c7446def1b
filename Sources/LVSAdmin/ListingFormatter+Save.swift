import LVSCore

extension ListingFormatter {
    /// `-S` (`ipvsadm-save`): the table as commands that `-R` restores.
    ///
    /// No version line and no titles; services and real servers in the same sorted order as
    /// `-L` (the `--nosort` option is not allowed with `-S`). Names are never cut to a column
    /// here, only to ipvsadm's 59-byte name buffer. Per service:
    /// `-A -t|-u addr:port -s sched[ -p timeout[ -M mask]][ -o][ -b flags]`; per real server
    /// `-a -t|-u addr:port -r addr:port -g -w weight` (`-g` is direct routing). A firewall-mark
    /// service is `-f mark` in both (`-a -f 1 -r 10.0.0.11:0 -g -w 1`).
    public static func save(_ status: DirectorStatus, numeric: Bool, names: some NameResolver) -> String {
        let namer = EndpointNamer(numeric: numeric, names: names)
        var out: [UInt8] = []
        let destinations = status.services.reduce(0) { $0 + $1.destinations.count }
        out.reserveCapacity(status.services.count * 48 + destinations * 64)
        for s in ListingOrder.serviceOrder(status.services) {
            let service = status.services[s]
            let config = service.config
            let key = config.key
            out.appendText("-A ")
            let serviceStart = out.count
            // "-f %u" for a firewall mark, else "-t|-u addr:port".
            if key.isFirewallMark {
                out.appendText("-f ")
                out.appendDecimal(UInt64(key.firewallMark))
            } else {
                out.appendText(serviceSwitch(key.transport))
                out.append(0x20)
                namer.append(key.address, key.port, key.transport, to: &out)
            }
            let serviceName = Array(out[serviceStart...])
            out.appendText(" -s ")
            out.appendText(config.scheduler)
            if let persistence = config.persistence {
                out.appendText(" -p ")
                out.appendDecimal(UInt64(persistence.timeout))
                if persistence.netmask.value != 0xFFFF_FFFF {
                    out.appendText(" -M ")
                    out.appendDottedQuad(persistence.netmask)
                }
            }
            if config.onePacketScheduling {
                out.appendText(" -o")
            }
            if let flags = SchedulerFlagNames.text(config.schedulerFlags, scheduler: config.scheduler) {
                out.appendText(" -b ")
                out.appendText(flags)
            }
            out.append(0x0A)
            for d in ListingOrder.destinationOrder(service.destinations) {
                let server = service.destinations[d].config
                out.appendText("-a ")
                out.append(contentsOf: serviceName)
                out.appendText(" -r ")
                namer.append(server.address, server.port, key.transport, to: &out)
                out.append(0x20)
                out.appendText(forwardingSwitch(server.forwarding))
                out.appendText(" -w ")
                out.appendDecimal(Int64(server.weight))
                out.append(0x0A)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// ipvsadm's `option_from_protocol`: the option that names a service of this protocol.
    static func serviceSwitch(_ transport: TransportProtocol) -> String {
        switch transport {
        case .tcp: "-t"
        case .udp: "-u"
        }
    }

    /// ipvsadm's `fwd_switch`: the option that recreates the forwarding method.
    static func forwardingSwitch(_ method: ForwardingMethod) -> String {
        switch method {
        case .directRouting: "-g"
        }
    }
}
