import LVSCore

/// The wire format from `lvsadm` to lvsd: a command as ipvsadm arguments with every field
/// written out, numerically. Sending arguments rather than a parsed structure lets the daemon
/// run the same parser (and so the same checks) on what it receives, and log a request as a
/// line an operator can paste back into `lvsadm`.
///
/// Every field is explicit so that nothing depends on a default the two ends might see
/// differently (a different /etc/services, or a host name that resolves elsewhere): for every
/// command `parse` produces, `parse(command.canonicalArguments) == command`.
extension IpvsadmCommand {
    public var canonicalArguments: [String] {
        switch self {
        case .addService(let service):
            ["-A"] + Self.serviceArguments(service)
        case .editService(let service):
            ["-E"] + Self.serviceArguments(service)
        case .deleteService(let key):
            ["-D"] + Self.selector(key)
        case .clear:
            ["-C"]
        case .addServer(let key, let server):
            ["-a"] + Self.selector(key) + Self.serverArguments(server)
        case .editServer(let key, let server):
            ["-e"] + Self.selector(key) + Self.serverArguments(server)
        case .deleteServer(let key, let address, let port):
            ["-d"] + Self.selector(key) + ["-r", "\(address):\(port)"]
        case .zero(let key):
            ["-Z"] + (key.map(Self.selector) ?? [])
        case .setTimeouts(let t):
            ["--set", String(t.tcp), String(t.tcpFin), String(t.udp)]
        case .list(let options):
            ["-L"] + Self.listArguments(options)
        case .save(let numeric):
            numeric ? ["-S", "-n"] : ["-S"]
        case .restore:
            ["-R"]
        case .startDaemon(let options):
            Self.daemonArguments("--start-daemon", options)
        case .stopDaemon(let options):
            ["--stop-daemon", options.role.rawValue, "--syncid", String(options.syncID)]
        case .help:
            ["-h"]
        case .version:
            ["-v"]
        }
    }

    /// `-t|-u ADDRESS:PORT`, the port always written (0 included), or `-f MARK`.
    static func selector(_ key: VirtualServiceKey) -> [String] {
        if key.isFirewallMark { return ["-f", String(key.firewallMark)] }
        return [key.transport == .tcp ? "-t" : "-u", "\(key.address):\(key.port)"]
    }

    static func serviceArguments(_ service: VirtualServiceConfig) -> [String] {
        var arguments = selector(service.key) + ["-s", service.scheduler]
        if let persistence = service.persistence {
            arguments += ["-p", String(persistence.timeout), "-M", "\(persistence.netmask)"]
        }
        if !service.schedulerFlags.isEmpty {
            arguments += ["-b", schedulerFlagsText(service.schedulerFlags, scheduler: service.scheduler)]
        }
        if service.onePacketScheduling {
            arguments.append("-o")
        }
        return arguments
    }

    /// The flags in the names ipvsadm prints for the scheduler (`sh-port` for sh), `flag-N`
    /// where the scheduler has no name for the bit: the same bits either way.
    static func schedulerFlagsText(_ flags: SchedulerFlags, scheduler: String) -> String {
        let named = scheduler == "sh" || scheduler == "mh"
        var names: [String] = []
        if flags.contains(.flag1) { names.append(named ? "\(scheduler)-fallback" : "flag-1") }
        if flags.contains(.flag2) { names.append(named ? "\(scheduler)-port" : "flag-2") }
        if flags.contains(.flag3) { names.append("flag-3") }
        return names.joined(separator: ",")
    }

    static func serverArguments(_ server: RealServerConfig) -> [String] {
        ["-r", "\(server.address):\(server.port)", "-g", "-w", String(server.weight),
         "-x", String(server.upperThreshold), "-y", String(server.lowerThreshold)]
    }

    static func listArguments(_ options: ListOptions) -> [String] {
        var arguments: [String] = []
        if let key = options.service { arguments += selector(key) }
        let flags: [(Bool, String)] = [
            (options.numeric, "-n"), (options.connections, "-c"), (options.timeout, "--timeout"),
            (options.daemon, "--daemon"), (options.stats, "--stats"), (options.rate, "--rate"),
            (options.thresholds, "--thresholds"), (options.persistentConnections, "--persistent-conn"),
            (options.tunnelInfo, "--tun-info"), (!options.sort, "--nosort"), (options.exact, "--exact"),
        ]
        arguments += flags.filter(\.0).map(\.1)
        return arguments
    }

    static func daemonArguments(_ command: String, _ options: SyncDaemonOptions) -> [String] {
        var arguments = [command, options.role.rawValue, "--syncid", String(options.syncID)]
        if let interface = options.interface { arguments += ["--mcast-interface", interface] }
        if let length = options.maximumLength { arguments += ["--sync-maxlen", String(length)] }
        if let group = options.group { arguments += ["--mcast-group", "\(group)"] }
        if let port = options.port { arguments += ["--mcast-port", String(port)] }
        if let ttl = options.ttl { arguments += ["--mcast-ttl", String(ttl)] }
        return arguments
    }
}
