/// The data plane's own counters, one `UInt64` each in a flat array so that counting is a
/// single increment. Malformed frames get one counter per `MalformedReason` after these.
public enum DataPlaneCounter: Int, CaseIterable, Sendable, CustomStringConvertible {
    /// Frames read from the ring (every frame the socket saw).
    case receivedFrames
    case receivedBytes
    /// Frames sent to a real server.
    case forwardedFrames
    case forwardedBytes
    /// "who-has VIP" requests answered with the director's MAC.
    case arpRepliesSent
    /// ARP requests sent to resolve real servers (and refresh them).
    case arpRequestsSent
    case gratuitousARPsSent
    /// Real-server MACs learned or changed through ARP.
    case neighborUpdates
    /// Someone else claimed a VIP in ARP (a real server whose ARP suppression is missing).
    case vipConflicts
    /// Frames for another host or protocol that the director leaves to its kernel.
    case notForUs
    /// To a VIP, but no virtual service on that protocol and port.
    case noService
    /// TCP without a connection entry that is not a SYN (IPVS does not schedule it).
    case noConnection
    /// A service matched but no real server could be picked.
    case noDestination
    /// The chosen real server's MAC is not resolved yet.
    case neighborUnresolved
    /// TTL would reach zero; the frame is not forwarded.
    case ttlExceeded
    /// IP fragments: not forwarded yet (SwiftLVS does not reassemble).
    case fragments
    /// Other IPv4 protocols sent to a VIP (ICMP, ...).
    case unsupportedProtocol
    /// The connection's real server was removed; the packet is dropped (expire_nodest_conn=0).
    case destinationUnavailable
    /// The connection table had no free slot near the key: the flow was hashed statelessly.
    case connectionTableFull
    /// Frames the kernel had to hand over truncated (bigger than a ring frame) and that were
    /// then read whole from the socket queue.
    case oversizeFrames
    /// Frames the transmit call refused (counted per frame).
    case transmitErrors
    /// ICMP errors sent to clients (port unreachable, time exceeded, fragmentation needed).
    case icmpErrorsSent
    /// ICMP errors not sent because of the rate limit (1000/s, as the kernel's icmp_msgs_per_sec).
    case icmpRateLimited
    /// ICMP errors about a known connection relayed to its real server (path MTU discovery).
    case icmpErrorsRelayed
    /// DF packets larger than the MTU (answered with fragmentation needed).
    case tooBig
    /// Frames the kernel dropped because the ring was full (PACKET_STATISTICS tp_drops).
    case ringDrops
    /// Frames to a VIP while this director does not own the VIPs (VRRP backup, fault or
    /// init): the master forwards them; this one drops them.
    case notMaster

    public var description: String {
        switch self {
        case .receivedFrames: "rx_frames"
        case .receivedBytes: "rx_bytes"
        case .forwardedFrames: "forwarded_frames"
        case .forwardedBytes: "forwarded_bytes"
        case .arpRepliesSent: "arp_replies_sent"
        case .arpRequestsSent: "arp_requests_sent"
        case .gratuitousARPsSent: "gratuitous_arps_sent"
        case .neighborUpdates: "neighbor_updates"
        case .vipConflicts: "vip_conflicts"
        case .notForUs: "not_for_us"
        case .noService: "drop_no_service"
        case .noConnection: "drop_no_connection"
        case .noDestination: "drop_no_destination"
        case .neighborUnresolved: "drop_neighbor_unresolved"
        case .ttlExceeded: "drop_ttl_exceeded"
        case .fragments: "drop_fragments"
        case .unsupportedProtocol: "drop_unsupported_protocol"
        case .destinationUnavailable: "drop_destination_unavailable"
        case .connectionTableFull: "connection_table_full"
        case .oversizeFrames: "oversize_frames"
        case .transmitErrors: "transmit_errors"
        case .icmpErrorsSent: "icmp_errors_sent"
        case .icmpRateLimited: "icmp_rate_limited"
        case .icmpErrorsRelayed: "icmp_errors_relayed"
        case .tooBig: "drop_too_big"
        case .ringDrops: "ring_drops"
        case .notMaster: "drop_not_master"
        }
    }

    /// Total number of counter slots: these cases, then one per malformed reason.
    public static let slotCount = allCases.count + MalformedReason.allCases.count

    @inlinable
    public static func slot(for reason: MalformedReason) -> Int { allCases.count + reason.rawValue }

    /// Name of every slot, in slot order (`malformed_<reason>` for the reasons).
    public static let slotNames: [String] =
        allCases.map(\.description) + MalformedReason.allCases.map { "malformed_\($0)" }
}
