import LVSCore

/// One command line being read, option by option, the way ipvsadm's `parse_options` fills its
/// command entry: each option is checked when it is met, so the first bad option in argument
/// order is the one reported, and a value ipvsadm reads in a context (a real server's port name
/// is looked up with the protocol of the `-t`/`-u` seen so far) is read in that context here.
///
/// It holds more than SwiftLVS can act on (IPv6, SCTP, firewall marks, NAT and tunnels) so that
/// such a line is first judged by ipvsadm's rules, and only a line ipvsadm would accept is then
/// refused for what SwiftLVS does not do.
struct IpvsadmLine {
    enum ServiceProtocol: Equatable {
        case tcp, udp, sctp

        /// The protocol SwiftLVS can carry, and the one services(5) names are looked up for.
        var transport: TransportProtocol? {
            switch self {
            case .tcp: .tcp
            case .udp: .udp
            case .sctp: nil
            }
        }
    }

    /// An address as ipvsadm's `parse_service` reads it: IPv6 is recognised (and refused later),
    /// not resolved.
    enum Host: Equatable {
        case ipv4(IPv4Address)
        case ipv6
    }

    enum Forwarding: Equatable {
        case gatewaying, ipip, masquerading
    }

    enum TunnelType: Equatable {
        case ipip, gue, gre
    }

    var command: IpvsadmCommandKind?
    /// The matrix columns given so far (each at most once).
    var columns: Set<IpvsadmOptionColumn> = []
    /// Plain arguments in order: `--set`'s three values, or stray words.
    var arguments: [String] = []

    var serviceProtocol: ServiceProtocol?
    var serviceHost: Host?
    var servicePort: UInt16 = 0
    var firewallMark: UInt32 = 0
    /// `-6` after `-f`, or an IPv6 service address.
    var serviceIsIPv6 = false
    /// Empty means "not given": ipvsadm then uses wlc (also for `-s ''`).
    var scheduler = ""
    /// The `-p` timeout; nil without `-p`.
    var persistenceTimeout: UInt32?
    var netmask = IPv4Address(0xFFFF_FFFF)
    var onePacket = false
    var persistenceEngine: String?
    /// The last `-b` text; parsed once the whole line is read, against the scheduler then known.
    var schedulerFlagsText = ""
    var schedulerFlags: SchedulerFlags = []

    var serverHost: Host?
    var serverPort: UInt16 = 0
    var forwarding = Forwarding.gatewaying
    var weight: Int32 = 1
    var upperThreshold: UInt32 = 0
    var lowerThreshold: UInt32 = 0
    var tunnelType = TunnelType.ipip

    var timeouts: TimeoutSetting?

    var daemonRole: SyncDaemonOptions.Role?
    var multicastInterface = ""
    var syncID: UInt8 = 0
    var multicastGroup: IPv4Address?
    var multicastGroupIsIPv6 = false
    var multicastPort: UInt16?
    var multicastTTL: UInt8?
    var syncMaxLength: UInt16?

    /// `--set`'s and `-p`'s upper bound: 31 days.
    static let maximumTimeout: Int64 = 86_400 * 31

    /// ipvsadm's `set_option`: an option column given twice is an error, reported before the
    /// second value is looked at.
    mutating func mark(_ column: IpvsadmOptionColumn) throws(IpvsadmError) {
        guard columns.insert(column).inserted else {
            throw IpvsadmError("multiple '\(column.name)' options specified")
        }
    }

    mutating func setCommand(_ kind: IpvsadmCommandKind) throws(IpvsadmError) {
        // ipvsadm (built with popt) only takes a command from the first option and calls any
        // later one an invalid option; the spec's rule, kept here, is one command per line
        // wherever it stands.
        guard command == nil else { throw IpvsadmError("multiple commands specified") }
        command = kind
    }

    /// Applies one option, with the checks ipvsadm makes as it meets it.
    mutating func apply(_ option: IpvsadmOption, value: String?, using parser: IpvsadmCommandLine) throws(IpvsadmError) {
        let text = value ?? ""
        if let kind = option.command {
            try setCommand(kind)
            switch option {
            case .startDaemon:
                guard let role = SyncDaemonOptions.Role(rawValue: text) else {
                    throw IpvsadmError("illegal start-daemon parameter specified", detail: "'\(text)': expected master or backup")
                }
                daemonRole = role
            case .stopDaemon:
                // ipvsadm's wording for --stop-daemon, underscore and all.
                guard let role = SyncDaemonOptions.Role(rawValue: text) else {
                    throw IpvsadmError("illegal start_daemon specified", detail: "'\(text)': expected master or backup")
                }
                daemonRole = role
            default:
                break
            }
            return
        }
        if let column = option.column {
            try mark(column)
        }
        switch option {
        case .tcpService, .udpService, .sctpService:
            let proto: ServiceProtocol = option == .tcpService ? .tcp : option == .udpService ? .udp : .sctp
            serviceProtocol = proto
            guard let (host, port) = parser.parseHostPort(text, transport: proto.transport) else {
                throw IpvsadmError("illegal virtual server address[:port] specified",
                                   detail: "'\(text)': expected IPv4[:PORT], e.g. 10.0.0.100:80")
            }
            serviceHost = host
            if host == .ipv6 { serviceIsIPv6 = true }
            if let port { servicePort = port }
        case .fwmarkService:
            // ipvsadm gives a firewall-mark service the TCP protocol, "a sane value".
            serviceProtocol = .tcp
            guard let mark = IpvsadmValues.firewallMark(text) else {
                throw IpvsadmError("invalid fwmark value `\(text)' specified", detail: "expected 1..4294967295")
            }
            firewallMark = mark
        case .scheduler:
            scheduler = IpvsadmValues.truncated(text, capacity: 16)
        case .persistent:
            if let value {
                guard let timeout = IpvsadmValues.number(value, in: 1...Self.maximumTimeout) else {
                    throw IpvsadmError("invalid timeout value `\(value)' specified", detail: "expected 1..2678400 seconds")
                }
                persistenceTimeout = UInt32(timeout)
            } else {
                persistenceTimeout = Persistence.defaultTimeout
            }
        case .netmask:
            if serviceIsIPv6 {
                guard (1...128).contains(IpvsadmValues.atoi(text)) else {
                    throw IpvsadmError("illegal ipv6 netmask specified", detail: "'\(text)': expected 1..128")
                }
            } else {
                guard let mask = parser.resolve(text) else {
                    throw IpvsadmError("illegal virtual server persistent mask specified",
                                       detail: "'\(text)': expected a dotted IPv4 mask, e.g. 255.255.255.0")
                }
                netmask = mask
            }
        case .realServer:
            guard let (host, port) = parser.parseHostPort(text, transport: serviceProtocol?.transport) else {
                throw IpvsadmError("illegal real server address[:port] specified",
                                   detail: "'\(text)': expected IPv4[:PORT], e.g. 10.0.0.11:80")
            }
            serverHost = host
            // Without a port, the service's port as known at this point of the line.
            serverPort = port ?? servicePort
        case .gatewaying:
            forwarding = .gatewaying
        case .ipip:
            forwarding = .ipip
        case .masquerading:
            forwarding = .masquerading
        case .weight:
            guard let w = IpvsadmValues.number(text, in: 0...65535) else {
                throw IpvsadmError("illegal weight specified", detail: "'\(text)': expected 0..65535")
            }
            weight = Int32(w)
        case .upperThreshold:
            guard let u = IpvsadmValues.number(text, in: 0...Int64(Int32.max)) else {
                throw IpvsadmError("illegal u_threshold specified", detail: "'\(text)': expected 0..\(Int32.max)")
            }
            upperThreshold = UInt32(u)
        case .lowerThreshold:
            guard let l = IpvsadmValues.number(text, in: 0...Int64(Int32.max)) else {
                throw IpvsadmError("illegal l_threshold specified", detail: "'\(text)': expected 0..\(Int32.max)")
            }
            lowerThreshold = UInt32(l)
        case .multicastInterface:
            multicastInterface = IpvsadmValues.truncated(text, capacity: 16)
        case .syncID:
            guard let id = IpvsadmValues.number(text, in: 0...255) else {
                throw IpvsadmError("illegal syncid specified", detail: "'\(text)': expected 0..255")
            }
            syncID = UInt8(id)
        case .ipv6:
            guard firewallMark != 0 else { throw IpvsadmError("-6 used before -f") }
            serviceIsIPv6 = true
        case .onePacket:
            onePacket = true
        case .persistenceEngine:
            persistenceEngine = IpvsadmValues.truncated(text, capacity: 17)
        case .schedulerFlags:
            schedulerFlagsText = text
        case .multicastGroup:
            if text.contains(":") {
                guard let groups = IpvsadmValues.ipv6Groups(text), groups[0] & 0xFF00 == 0xFF00 else {
                    throw IpvsadmError("invalid IPv6 mcast-group `\(text)'")
                }
                multicastGroupIsIPv6 = true
            } else {
                guard let group = IpvsadmValues.strictDottedQuad(text), group.value >> 28 == 0xE else {
                    throw IpvsadmError("invalid IPv4 mcast-group `\(text)'", detail: "expected 224.0.0.0..239.255.255.255")
                }
                multicastGroup = group
            }
        case .multicastPort:
            guard let port = IpvsadmValues.number(text, in: 1...65535) else {
                throw IpvsadmError("illegal mcast-port specified", detail: "'\(text)': expected 1..65535")
            }
            multicastPort = UInt16(port)
        case .multicastTTL:
            guard let ttl = IpvsadmValues.number(text, in: 1...255) else {
                throw IpvsadmError("illegal mcast-ttl specified", detail: "'\(text)': expected 1..255")
            }
            multicastTTL = UInt8(ttl)
        case .syncMaxLength:
            guard let length = IpvsadmValues.number(text, in: 1...(65535 - 20 - 8)) else {
                throw IpvsadmError("illegal sync-maxlen specified", detail: "'\(text)': expected 1..65507")
            }
            syncMaxLength = UInt16(length)
        case .tunnelType:
            switch text {
            case "ipip": tunnelType = .ipip
            case "gue": tunnelType = .gue
            case "gre": tunnelType = .gre
            default: throw IpvsadmError("illegal tunnel type specified", detail: "'\(text)': expected ipip, gue or gre")
            }
        case .tunnelPort:
            guard IpvsadmValues.number(text, in: 1...65535) != nil else {
                throw IpvsadmError("illegal tunnel port specified", detail: "'\(text)': expected 1..65535")
            }
        case .numeric, .connection, .timeout, .daemon, .stats, .rate, .thresholds, .persistentConnections, .noSort,
             .exact, .tunnelInfo, .tunnelNoChecksum, .tunnelChecksum, .tunnelRemoteChecksum, .sort:
            // Flags: marking the column (above) is all; `--sort` is accepted and does nothing.
            break
        case .addService, .editService, .deleteService, .clear, .list, .zero, .addServer, .editServer,
             .deleteServer, .set, .help, .version, .restore, .save, .startDaemon, .stopDaemon:
            break
        }
    }

    /// ipvsadm's `parse_sched_flags`: a comma list (empty items skipped, as `strtok` does) of
    /// `flag-1..3` for any scheduler, `sh-fallback`/`sh-port` only with sh and `mh-fallback`/
    /// `mh-port` only with mh (they are the same bits, SCHED1 and SCHED2). The scheduler is the
    /// one given with -s, or wlc.
    mutating func parseSchedulerFlags() throws(IpvsadmError) {
        guard !schedulerFlagsText.isEmpty else { return }
        let scheduler = scheduler.isEmpty ? "wlc" : scheduler
        let items = schedulerFlagsText.split(separator: ",")
        // ipvsadm crashes on a list with no item at all (`-b ,`); refusing it is the honest answer.
        guard !items.isEmpty else {
            throw IpvsadmError("invalid scheduler flag `\(schedulerFlagsText)'", detail: Self.schedulerFlagList)
        }
        var flags: SchedulerFlags = []
        for item in items {
            switch item {
            case "flag-1": flags.insert(.flag1)
            case "flag-2": flags.insert(.flag2)
            case "flag-3": flags.insert(.flag3)
            case "sh-fallback", "sh-port", "mh-fallback", "mh-port":
                guard item.hasPrefix(scheduler + "-") else {
                    throw IpvsadmError("incompatible scheduler flag `\(item)'",
                                       detail: "it needs -s \(item.prefix(2)), not \(scheduler)")
                }
                flags.insert(item.hasSuffix("-fallback") ? .fallback : .port)
            default:
                throw IpvsadmError("invalid scheduler flag `\(item)'", detail: Self.schedulerFlagList)
            }
        }
        schedulerFlags = flags
    }

    static let schedulerFlagList =
        "expected a comma list of flag-1, flag-2, flag-3, sh-fallback, sh-port, mh-fallback, mh-port"
}
