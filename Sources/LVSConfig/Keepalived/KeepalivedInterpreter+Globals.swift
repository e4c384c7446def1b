import LVSCore

extension KeepalivedInterpreter {
    /// `global_defs`: `router_id` and `lvs_timeouts` are kept; the connection sync daemon is
    /// refused with a warning; the many mail, SNMP, VRRP and process settings are read without a
    /// word, since none changes what lvsd forwards; a misspelt keyword gets a warning.
    mutating func readGlobalDefinitions(_ statement: KeepalivedStatement) throws(ConfigurationError) {
        for item in try block(of: statement) {
            switch item.keyword {
            case "router_id", "lvs_id":
                if item.values.isEmpty {
                    warn(item, "\(item.keyword) needs a name; ignored")
                } else {
                    routerID = item.values.joined(separator: " ")
                }
            case "lvs_timeouts":
                readTimeouts(item)
            case "lvs_sync_daemon":
                warn(item, "lvs_sync_daemon is not supported: lvsd does not synchronise its connection table with a backup director; ignored")
            case let keyword where KeepalivedKeywords.globalDefs.contains(keyword)
                || KeepalivedKeywords.globalDefsPrefixes.contains(where: { keyword.hasPrefix($0) }):
                break
            default:
                warnUnknown(item, in: "global_defs", known: KeepalivedKeywords.globalDefs)
            }
        }
    }

    /// `lvs_timeouts [tcp N] [tcpfin N] [udp N]`, as `ipvsadm --set` (0 keeps the current value).
    private mutating func readTimeouts(_ statement: KeepalivedStatement) {
        var setting = lvsTimeouts ?? TimeoutSetting(tcp: 0, tcpFin: 0, udp: 0)
        var values = statement.values[...]
        guard !values.isEmpty else {
            warn(statement, "lvs_timeouts needs at least one of tcp N, tcpfin N, udp N; ignored")
            return
        }
        while let name = values.popFirst() {
            guard let text = values.popFirst(), let seconds = KeepalivedValues.uint32(text) else {
                warn(statement, "lvs_timeouts: '\(name)' needs a number of seconds; ignored")
                return
            }
            switch name {
            case "tcp": setting.tcp = seconds
            case "tcpfin": setting.tcpFin = seconds
            case "udp": setting.udp = seconds
            default:
                warn(statement, "lvs_timeouts: unknown timeout '\(name)' (tcp, tcpfin or udp); ignored")
                return
            }
        }
        lvsTimeouts = setting
    }
}
