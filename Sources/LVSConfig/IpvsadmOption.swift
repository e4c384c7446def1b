/// Every option ipvsadm 1.31 declares in its popt table (IPVS-SEMANTICS.md §5.1, §5.2), with
/// the spellings a command line may use and whether it takes a value.
///
/// The table is the grammar: anything not listed here is an unknown option, exactly as popt
/// reports it. Whether an option is allowed with a command is a separate matter, decided by
/// ``IpvsadmCommandKind/requirement(for:)`` once the whole line has been read.
enum IpvsadmOption: CaseIterable, Sendable {
    // Commands.
    case addService, editService, deleteService, clear, list, zero, addServer, editServer, deleteServer
    case set, help, version, restore, save, startDaemon, stopDaemon
    // Service selectors.
    case tcpService, udpService, sctpService, fwmarkService
    // Service and server options.
    case scheduler, persistent, netmask, realServer, masquerading, ipip, gatewaying
    case weight, upperThreshold, lowerThreshold
    // List options.
    case numeric, connection, timeout, daemon, stats, rate, thresholds, persistentConnections
    case noSort, sort, exact, tunnelInfo
    // Daemon options.
    case multicastInterface, syncID, multicastGroup, multicastPort, multicastTTL, syncMaxLength
    // The rest.
    case ipv6, onePacket, persistenceEngine, schedulerFlags
    case tunnelType, tunnelPort, tunnelNoChecksum, tunnelChecksum, tunnelRemoteChecksum

    /// How popt treats the token after the option.
    enum Argument: Sendable {
        /// A flag; `--flag=value` is an error ("option does not take an argument").
        case none
        /// The value is the rest of a short-option cluster, the text after `=`, or else the next
        /// token whatever it looks like (so `-w -1` is a weight of -1, refused later).
        case required
        /// As `required`, except that a next token starting with `-` is left alone: `-p` is the
        /// only such option.
        case optional
    }

    /// The `--name` spelling (popt matches it exactly; there are no abbreviations).
    var longName: String {
        switch self {
        case .addService: "add-service"
        case .editService: "edit-service"
        case .deleteService: "delete-service"
        case .clear: "clear"
        case .list: "list"
        case .zero: "zero"
        case .addServer: "add-server"
        case .editServer: "edit-server"
        case .deleteServer: "delete-server"
        case .set: "set"
        case .help: "help"
        case .version: "version"
        case .restore: "restore"
        case .save: "save"
        case .startDaemon: "start-daemon"
        case .stopDaemon: "stop-daemon"
        case .tcpService: "tcp-service"
        case .udpService: "udp-service"
        case .sctpService: "sctp-service"
        case .fwmarkService: "fwmark-service"
        case .scheduler: "scheduler"
        case .persistent: "persistent"
        case .netmask: "netmask"
        case .realServer: "real-server"
        case .masquerading: "masquerading"
        case .ipip: "ipip"
        case .gatewaying: "gatewaying"
        case .weight: "weight"
        case .upperThreshold: "u-threshold"
        case .lowerThreshold: "l-threshold"
        case .numeric: "numeric"
        case .connection: "connection"
        case .timeout: "timeout"
        case .daemon: "daemon"
        case .stats: "stats"
        case .rate: "rate"
        case .thresholds: "thresholds"
        case .persistentConnections: "persistent-conn"
        case .noSort: "nosort"
        case .sort: "sort"
        case .exact: "exact"
        case .tunnelInfo: "tun-info"
        case .multicastInterface: "mcast-interface"
        case .syncID: "syncid"
        case .multicastGroup: "mcast-group"
        case .multicastPort: "mcast-port"
        case .multicastTTL: "mcast-ttl"
        case .syncMaxLength: "sync-maxlen"
        case .ipv6: "ipv6"
        case .onePacket: "ops"
        case .persistenceEngine: "pe"
        case .schedulerFlags: "sched-flags"
        case .tunnelType: "tun-type"
        case .tunnelPort: "tun-port"
        case .tunnelNoChecksum: "tun-nocsum"
        case .tunnelChecksum: "tun-csum"
        case .tunnelRemoteChecksum: "tun-remcsum"
        }
    }

    /// The one-letter spellings (`-L` and `-l` both list).
    var shortNames: [Character] {
        switch self {
        case .addService: ["A"]
        case .editService: ["E"]
        case .deleteService: ["D"]
        case .clear: ["C"]
        case .list: ["L", "l"]
        case .zero: ["Z"]
        case .addServer: ["a"]
        case .editServer: ["e"]
        case .deleteServer: ["d"]
        case .help: ["h"]
        case .version: ["v"]
        case .restore: ["R"]
        case .save: ["S"]
        case .tcpService: ["t"]
        case .udpService: ["u"]
        case .fwmarkService: ["f"]
        case .scheduler: ["s"]
        case .persistent: ["p"]
        case .netmask: ["M"]
        case .realServer: ["r"]
        case .masquerading: ["m"]
        case .ipip: ["i"]
        case .gatewaying: ["g"]
        case .weight: ["w"]
        case .upperThreshold: ["x"]
        case .lowerThreshold: ["y"]
        case .numeric: ["n"]
        case .connection: ["c"]
        case .exact: ["X"]
        case .ipv6: ["6"]
        case .onePacket: ["o"]
        case .schedulerFlags: ["b"]
        case .set, .startDaemon, .stopDaemon, .sctpService, .timeout, .daemon, .stats, .rate, .thresholds,
             .persistentConnections, .noSort, .sort, .tunnelInfo, .multicastInterface, .syncID, .multicastGroup,
             .multicastPort, .multicastTTL, .syncMaxLength, .persistenceEngine, .tunnelType, .tunnelPort,
             .tunnelNoChecksum, .tunnelChecksum, .tunnelRemoteChecksum:
            []
        }
    }

    var argument: Argument {
        switch self {
        case .persistent:
            .optional
        case .startDaemon, .stopDaemon, .tcpService, .udpService, .sctpService, .fwmarkService, .scheduler,
             .netmask, .realServer, .weight, .upperThreshold, .lowerThreshold, .multicastInterface, .syncID,
             .multicastGroup, .multicastPort, .multicastTTL, .syncMaxLength, .persistenceEngine, .schedulerFlags,
             .tunnelType, .tunnelPort:
            .required
        default:
            .none
        }
    }

    /// The command this option selects, if it is one.
    var command: IpvsadmCommandKind? {
        switch self {
        case .addService: .addService
        case .editService: .editService
        case .deleteService: .deleteService
        case .clear: .flush
        case .list: .list
        case .zero: .zero
        case .addServer: .addServer
        case .editServer: .editServer
        case .deleteServer: .deleteServer
        case .set: .setTimeouts
        case .help: .help
        case .version: .version
        case .restore: .restore
        case .save: .save
        case .startDaemon: .startDaemon
        case .stopDaemon: .stopDaemon
        default: nil
        }
    }

    /// The column of ipvsadm's option/command matrix this option fills, if any (`-6`, `--sort`
    /// and the commands fill none).
    var column: IpvsadmOptionColumn? {
        switch self {
        case .numeric: .numeric
        case .connection: .connection
        case .tcpService, .udpService, .sctpService, .fwmarkService: .serviceAddress
        case .scheduler: .scheduler
        case .persistent: .persistent
        case .netmask: .netmask
        case .realServer: .realServer
        case .masquerading, .ipip, .gatewaying: .forwardingMethod
        case .weight: .weight
        case .upperThreshold: .upperThreshold
        case .lowerThreshold: .lowerThreshold
        case .multicastInterface: .multicastInterface
        case .timeout: .timeout
        case .daemon: .daemon
        case .stats: .stats
        case .rate: .rate
        case .thresholds: .thresholds
        case .persistentConnections: .persistentConnections
        case .noSort: .noSort
        case .syncID: .syncID
        case .exact: .exact
        case .onePacket: .onePacket
        case .persistenceEngine: .persistenceEngine
        case .schedulerFlags: .schedulerFlags
        case .multicastGroup: .multicastGroup
        case .multicastPort: .multicastPort
        case .multicastTTL: .multicastTTL
        case .syncMaxLength: .syncMaxLength
        case .tunnelInfo: .tunnelInfo
        case .tunnelType: .tunnelType
        case .tunnelPort: .tunnelPort
        case .tunnelNoChecksum: .tunnelNoChecksum
        case .tunnelChecksum: .tunnelChecksum
        case .tunnelRemoteChecksum: .tunnelRemoteChecksum
        default: nil
        }
    }

    /// The option spelled `--name` (without the dashes), as popt finds it.
    static func named(_ name: Substring) -> IpvsadmOption? {
        byLongName[String(name)]
    }

    /// The option spelled `-c`.
    static func short(_ letter: Character) -> IpvsadmOption? {
        byShortName[letter]
    }

    // Built once: a linear search over every option (and its name arrays) per token cost more
    // than the rest of parsing a `-R` line.
    static let byLongName: [String: IpvsadmOption] = {
        var table: [String: IpvsadmOption] = [:]
        for option in allCases where table[option.longName] == nil { table[option.longName] = option }
        return table
    }()

    static let byShortName: [Character: IpvsadmOption] = {
        var table: [Character: IpvsadmOption] = [:]
        for option in allCases {
            for letter in option.shortNames where table[letter] == nil { table[letter] = option }
        }
        return table
    }()
}
