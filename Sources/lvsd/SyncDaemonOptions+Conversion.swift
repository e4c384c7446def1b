import LVSConfig
import LVSCore
import LVSDataPlane

/// ipvsadm's daemon options (as lvsadm and keepalived.conf give them) and the sync daemon's
/// configuration, both ways.
extension SyncDaemonConfiguration.Role {
    init(_ role: SyncDaemonOptions.Role) {
        self = role == .master ? .master : .backup
    }
}

extension SyncDaemonConfiguration {
    /// The options with the kernel's defaults for what they leave out (maxlen 0: the role's
    /// default, computed when the daemon starts).
    init(_ o: SyncDaemonOptions) {
        self.init(role: Role(o.role), interface: o.interface ?? "eth0", syncID: o.syncID,
                  maximumLength: Int(o.maximumLength ?? 0), group: o.group ?? SyncProtocol.defaultGroup,
                  port: o.port ?? SyncProtocol.defaultPort, ttl: o.ttl ?? SyncProtocol.defaultTTL)
    }
}

extension SyncDaemonOptions {
    /// A running daemon as `-L --daemon` lists it: every value in force.
    init(_ c: SyncDaemonConfiguration) {
        self.init(role: c.role == .master ? .master : .backup)
        syncID = c.syncID
        interface = c.interface
        maximumLength = UInt16(clamping: c.maximumLength)
        group = c.group
        port = c.port
        ttl = c.ttl
    }
}
