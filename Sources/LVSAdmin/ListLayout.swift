import LVSConfig

/// Which columns a `-L` listing shows, and its two title lines.
///
/// ipvsadm lets several of `--stats`, `--rate`, `--thresholds`, `--persistent-conn` and
/// `--tun-info` be given together and then tests its format bits in that order, so the first
/// one given in that order wins. Only `--stats` and `--rate` change the service line; the
/// other layouts keep the default `proto addr:port scheduler flags` service line and change
/// only the real-server lines.
enum ListLayout {
    case plain, stats, rate, thresholds, persistentConnections, tunnelInfo

    init(_ options: ListOptions) {
        if options.stats {
            self = .stats
        } else if options.rate {
            self = .rate
        } else if options.thresholds {
            self = .thresholds
        } else if options.persistentConnections {
            self = .persistentConnections
        } else if options.tunnelInfo {
            self = .tunnelInfo
        } else {
            self = .plain
        }
    }

    /// `print_title`: the two header lines printed before the services.
    var title: String {
        let firstColumn = TextColumn.left("Prot LocalAddress:Port", 33)
        let secondLine = "  -> RemoteAddress:Port\n"
        switch self {
        case .plain:
            return "Prot LocalAddress:Port Scheduler Flags\n"
                + "  -> RemoteAddress:Port           Forward Weight ActiveConn InActConn\n"
        case .stats:
            // "%-33s %8s %8s %8s %8s %8s\n"
            let columns = ["Conns", "InPkts", "OutPkts", "InBytes", "OutBytes"]
            return firstColumn + columns.map { " " + TextColumn.right($0, 8) }.joined() + "\n" + secondLine
        case .rate:
            let columns = ["CPS", "InPPS", "OutPPS", "InBPS", "OutBPS"]
            return firstColumn + columns.map { " " + TextColumn.right($0, 8) }.joined() + "\n" + secondLine
        case .thresholds:
            // "%-33s %-10s %-10s %-10s %-10s\n"
            let columns = ["Uthreshold", "Lthreshold", "ActiveConn", "InActConn"]
            return firstColumn + columns.map { " " + TextColumn.left($0, 10) }.joined() + "\n" + secondLine
        case .persistentConnections:
            // "%-33s %-9s %-11s %-10s %-10s\n"
            return firstColumn + " " + TextColumn.left("Weight", 9) + " " + TextColumn.left("PersistConn", 11)
                + " " + TextColumn.left("ActiveConn", 10) + " " + TextColumn.left("InActConn", 10) + "\n"
                + secondLine
        case .tunnelInfo:
            return "Prot LocalAddress:Port Scheduler Flags\n"
                + "  -> RemoteAddress:Port           Forward TunnelInfo    Weight ActiveConn InActConn\n"
        }
    }
}
