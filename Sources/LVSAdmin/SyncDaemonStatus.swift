import LVSCore

/// One running connection-sync daemon, as much of it as `ipvsadm --daemon` prints.
///
/// SwiftLVS runs no sync daemon yet, so lvsd reports none and `--daemon` prints nothing, which
/// is what ipvsadm prints when the kernel has none. The fields mirror the kernel's netlink
/// reply so that a later sync daemon can be listed byte for byte: zero (or nil) means "not
/// reported" and is left out, as ipvsadm leaves it out.
public struct SyncDaemonStatus: Sendable, Equatable {
    public enum Role: String, Sendable, Equatable {
        case master, backup
    }

    public var role: Role
    /// The multicast interface (`mcast=`).
    public var interface: String
    public var syncID: UInt8
    /// `maxlen=`; 0 leaves it out.
    public var maximumLength: UInt16
    /// `group=`; nil leaves it out.
    public var group: IPv4Address?
    /// `port=`; 0 leaves it out.
    public var port: UInt16
    /// `ttl=`; 0 leaves it out.
    public var ttl: UInt8

    public init(role: Role, interface: String, syncID: UInt8, maximumLength: UInt16 = 0,
                group: IPv4Address? = nil, port: UInt16 = 0, ttl: UInt8 = 0) {
        self.role = role
        self.interface = interface
        self.syncID = syncID
        self.maximumLength = maximumLength
        self.group = group
        self.port = port
        self.ttl = ttl
    }
}
