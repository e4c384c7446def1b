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
        var out = ""
        for service in ListingOrder.services(status.services) {
            let config = service.config
            let key = config.key
            // "-f %u" for a firewall mark, else "-t|-u addr:port".
            let serviceName = key.isFirewallMark ? "-f \(key.firewallMark)"
                : serviceSwitch(key.transport) + " " + namer.name(key.address, key.port, key.transport)
            out += "-A " + serviceName + " -s " + config.scheduler
            if let persistence = config.persistence {
                out += " -p \(persistence.timeout)"
                if persistence.netmask.value != 0xFFFF_FFFF {
                    out += " -M \(persistence.netmask)"
                }
            }
            if config.onePacketScheduling {
                out += " -o"
            }
            if let flags = SchedulerFlagNames.text(config.schedulerFlags, scheduler: config.scheduler) {
                out += " -b " + flags
            }
            out += "\n"
            for destination in ListingOrder.destinations(service.destinations) {
                let server = destination.config
                out += "-a " + serviceName + " -r " + namer.name(server.address, server.port, key.transport)
                    + " " + forwardingSwitch(server.forwarding) + " -w \(server.weight)\n"
            }
        }
        return out
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
