import LVSCore

/// One running connection-sync daemon, as much of it as `ipvsadm --daemon` prints.
///
/// lvsd reports its running sync daemon with every value in force (as current kernels do over
/// netlink); with none running `--daemon` prints nothing, as ipvsadm does. The fields mirror
/// the kernel's netlink reply: zero (or nil) means "not reported" and is left out, as ipvsadm
/// leaves it out.
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
