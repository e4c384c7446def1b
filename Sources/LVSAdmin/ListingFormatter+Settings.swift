import LVSCore

extension ListingFormatter {
    /// `--timeout`: "Timeout (tcp tcpfin udp): %d %d %d\n". The values are printed with %d, so
    /// one above 2^31 - 1 would print negative, as in ipvsadm (`--set` caps them at 31 days).
    static func timeoutLine(_ timeouts: TimeoutSetting) -> String {
        "Timeout (tcp tcpfin udp): \(Int32(bitPattern: timeouts.tcp)) \(Int32(bitPattern: timeouts.tcpFin))"
            + " \(Int32(bitPattern: timeouts.udp))\n"
    }

    /// `--daemon`: one line per running sync daemon, master before backup as the kernel reports
    /// them; nothing at all when none runs.
    static func daemonLines(_ daemons: [SyncDaemonStatus]) -> String {
        let ordered = daemons.filter { $0.role == .master } + daemons.filter { $0.role == .backup }
        var out = ""
        for daemon in ordered {
            // "%s sync daemon (mcast=%s, syncid=%d" [", maxlen=%u"] [", group=%s"] [", port=%u"] [", ttl=%u"] ")\n"
            out += "\(daemon.role.rawValue) sync daemon (mcast=\(daemon.interface), syncid=\(daemon.syncID)"
            if daemon.maximumLength != 0 { out += ", maxlen=\(daemon.maximumLength)" }
            if let group = daemon.group { out += ", group=\(group)" }
            if daemon.port != 0 { out += ", port=\(daemon.port)" }
            if daemon.ttl != 0 { out += ", ttl=\(daemon.ttl)" }
            out += ")\n"
        }
        return out
    }
}
