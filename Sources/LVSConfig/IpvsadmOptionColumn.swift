/// The columns of ipvsadm's option/command matrix, in its order (IPVS-SEMANTICS.md §5.2,
/// `optnames`). The order is behaviour, not layout: the matrix is checked column by column and
/// the first offending column names the error, and two exclusive list options are reported as
/// "the later column conflicts with the earlier one".
enum IpvsadmOptionColumn: Int, CaseIterable, Sendable {
    case numeric, connection, serviceAddress, scheduler, persistent, netmask, realServer, forwardingMethod
    case weight, upperThreshold, lowerThreshold, multicastInterface, timeout, daemon, stats, rate, thresholds
    case persistentConnections, noSort, syncID, exact, onePacket, persistenceEngine, schedulerFlags
    case multicastGroup, multicastPort, multicastTTL, syncMaxLength, tunnelInfo, tunnelType, tunnelPort
    case tunnelNoChecksum, tunnelChecksum, tunnelRemoteChecksum

    /// The name ipvsadm's messages use ("Illegal 'weight' option with the 'add-service' command").
    var name: String {
        switch self {
        case .numeric: "numeric"
        case .connection: "connection"
        case .serviceAddress: "service-address"
        case .scheduler: "scheduler"
        case .persistent: "persistent"
        case .netmask: "netmask"
        case .realServer: "real-server"
        case .forwardingMethod: "forwarding-method"
        case .weight: "weight"
        case .upperThreshold: "u-threshold"
        case .lowerThreshold: "l-threshold"
        case .multicastInterface: "mcast-interface"
        case .timeout: "timeout"
        case .daemon: "daemon"
        case .stats: "stats"
        case .rate: "rate"
        case .thresholds: "thresholds"
        case .persistentConnections: "persistent-conn"
        case .noSort: "nosort"
        case .syncID: "syncid"
        case .exact: "exact"
        case .onePacket: "ops"
        case .persistenceEngine: "pe"
        case .schedulerFlags: "sched-flags"
        case .multicastGroup: "mcast-group"
        case .multicastPort: "mcast-port"
        case .multicastTTL: "mcast-ttl"
        case .syncMaxLength: "sync-maxlen"
        case .tunnelInfo: "tun-info"
        case .tunnelType: "tun-type"
        case .tunnelPort: "tun-port"
        case .tunnelNoChecksum: "tun-nocsum"
        case .tunnelChecksum: "tun-csum"
        case .tunnelRemoteChecksum: "tun-remcsum"
        }
    }

    /// The tunnel options, which only `-i` servers may carry.
    static let tunnelOptions: [IpvsadmOptionColumn] = [
        .tunnelType, .tunnelPort, .tunnelNoChecksum, .tunnelChecksum, .tunnelRemoteChecksum,
    ]
}
