import LVSConfig
import LVSCore

/// Sync daemon options on the control socket, as words: `ROLE syncid=N [interface=IF]
/// [maxlen=N] [group=IP] [port=N] [ttl=N]` (an interface name holds no blank).
enum SyncDaemonCodec {
    static func words(_ o: SyncDaemonOptions) -> String {
        var out = "\(o.role.rawValue) syncid=\(o.syncID)"
        if let v = o.interface { out += " interface=\(v)" }
        if let v = o.maximumLength { out += " maxlen=\(v)" }
        if let v = o.group { out += " group=\(v)" }
        if let v = o.port { out += " port=\(v)" }
        if let v = o.ttl { out += " ttl=\(v)" }
        return out
    }

    static func options(_ words: ArraySlice<Substring>) throws(ControlProtocolError) -> SyncDaemonOptions {
        guard let first = words.first, let role = SyncDaemonOptions.Role(rawValue: String(first)) else {
            throw ControlProtocolError("a sync daemon request starts with master or backup, got '\(words.first ?? "")'")
        }
        var o = SyncDaemonOptions(role: role)
        for word in words.dropFirst() {
            guard let eq = word.firstIndex(of: "=") else { throw ControlProtocolError("sync daemon option '\(word)': expected NAME=VALUE") }
            let name = word[..<eq]
            let value = word[word.index(after: eq)...]
            let ok: Bool
            switch name {
            case "syncid":
                o.syncID = UInt8(value) ?? 0
                ok = UInt8(value) != nil
            case "interface":
                o.interface = String(value)
                ok = !value.isEmpty
            case "maxlen":
                o.maximumLength = UInt16(value)
                ok = o.maximumLength != nil
            case "group":
                o.group = IPv4Address(value)
                ok = o.group != nil
            case "port":
                o.port = UInt16(value)
                ok = o.port != nil
            case "ttl":
                o.ttl = UInt8(value)
                ok = o.ttl != nil
            default:
                ok = false
            }
            guard ok else { throw ControlProtocolError("sync daemon option '\(word)' is not understood") }
        }
        return o
    }
}
