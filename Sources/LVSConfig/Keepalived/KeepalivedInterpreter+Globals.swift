import LVSCore

extension KeepalivedInterpreter {
    /// `global_defs`: `router_id`, `lvs_timeouts`, `lvs_sync_daemon`, `vrrp_version` and `vrrp_strict` are kept; the many mail, SNMP, VRRP and process settings are read without a
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
                readSyncDaemon(item)
            case "vrrp_version":
                // An error, not keepalived's ignored line: a version the peer does not speak
                // means neither hears the other and both become master.
                guard item.values.count == 1, let v = Int(item.values[0]), v == 2 || v == 3 else {
                    throw error(item, "vrrp_version must be 2 or 3 (keepalived's default is 2; both directors of a pair must speak the same)")
                }
                vrrpVersion = KeepalivedVRRPVersion(version: v, file: item.file, line: item.line)
            case "vrrp_strict":
                vrrpStrict = true
            case let keyword where KeepalivedKeywords.globalDefs.contains(keyword)
                || KeepalivedKeywords.globalDefsPrefixes.contains(where: { keyword.hasPrefix($0) }):
                break
            default:
                warnUnknown(item, in: "global_defs", known: KeepalivedKeywords.globalDefs)
            }
        }
    }

    /// `lvs_sync_daemon INTERFACE [VRRP_INSTANCE] [id N] [maxlen N] [port N] [ttl N] [group IP]`,
    /// with ipvsadm's ranges; a bad value warns and drops the whole statement (no half daemon).
    private mutating func readSyncDaemon(_ statement: KeepalivedStatement) {
        var values = statement.values[...]
        guard let interface = values.popFirst() else {
            warn(statement, "lvs_sync_daemon needs an interface (lvs_sync_daemon INTERFACE VRRP_INSTANCE [id N] [maxlen N] [port N] [ttl N] [group IP]); ignored")
            return
        }
        var options = SyncDaemonOptions(role: .backup)
        options.interface = interface
        var instance: String?
        let names: Set<String> = ["id", "maxlen", "port", "ttl", "group"]
        if let next = values.first, !names.contains(next) {
            instance = next
            values.removeFirst()
        }
        while let name = values.popFirst() {
            guard let text = values.popFirst() else {
                warn(statement, "lvs_sync_daemon: '\(name)' needs a value; ignored")
                return
            }
            var ok = true
            switch name {
            case "id":
                if let v = UInt8(text) { options.syncID = v } else { ok = false }
            case "maxlen":
                if let v = UInt16(text), v >= 1, v <= 65507 { options.maximumLength = v } else { ok = false }
            case "port":
                if let v = UInt16(text), v >= 1 { options.port = v } else { ok = false }
            case "ttl":
                if let v = UInt8(text), v >= 1 { options.ttl = v } else { ok = false }
            case "group":
                if let v = IPv4Address(text) { options.group = v } else { ok = false }
            default:
                warn(statement, "lvs_sync_daemon: unknown option '\(name)' (id, maxlen, port, ttl or group); ignored")
                return
            }
            guard ok else {
                let expected = ["id": "0-255", "maxlen": "1-65507", "port": "1-65535", "ttl": "1-255", "group": "an IPv4 address"][name] ?? ""
                warn(statement, "lvs_sync_daemon: \(name) '\(text)': expected \(expected); ignored")
                return
            }
        }
        syncDaemon = KeepalivedSyncDaemon(options: options, vrrpInstance: instance)
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
