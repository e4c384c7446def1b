/// Per-real-server counters, as IPVS keeps them (`ip_vs_stats`). In DR the director sees only
/// the client-to-server half, so the outgoing counters stay zero, exactly as in the kernel.
@frozen
public struct TrafficStats: Sendable, Equatable {
    public var connections: UInt64 = 0
    public var inPackets: UInt64 = 0
    public var inBytes: UInt64 = 0
    public var outPackets: UInt64 = 0
    public var outBytes: UInt64 = 0

    @inlinable
    public init() {}

    public static func + (a: TrafficStats, b: TrafficStats) -> TrafficStats {
        var r = a
        r.connections &+= b.connections
        r.inPackets &+= b.inPackets
        r.inBytes &+= b.inBytes
        r.outPackets &+= b.outPackets
        r.outBytes &+= b.outBytes
        return r
    }
}

/// A real server of one virtual service as the schedulers and the connection table see it:
/// the fields of the kernel's `ip_vs_dest` that they read (IPVS-SEMANTICS.md §1.2).
@frozen
public struct Destination: Sendable {
    public var address: IPv4Address
    public var port: UInt16
    public var weight: Int32
    /// The latest non-zero weight (read by mh when a server is quiesced).
    public var lastWeight: Int32
    public var isAvailable: Bool { didSet { refreshForwardingWord() } }
    public var isOverloaded: Bool
    public var upperThreshold: UInt32
    public var lowerThreshold: UInt32
    public var activeConnections: Int32
    public var inactiveConnections: Int32
    public var persistentConnections: Int32
    /// Index of this server's address in the neighbour table (its MAC lives there, shared by
    /// every service that uses the same real server).
    public var neighborIndex: Int32
    /// The server's MAC, copied here from the neighbour table when ARP resolves it, so that the
    /// packet path reads it next to the counters it updates anyway. `nil` while unresolved.
    public var mac: MACAddress? { didSet { refreshForwardingWord() } }
    public var stats: TrafficStats
    /// What the batch hit path (`ForwardingEngine+Batch.swift`) reads instead of `isAvailable`
    /// and `mac`: the server's MAC as the native word whose memory bytes are the MAC's six and
    /// two zero bytes, when the server is available and resolved; 0 otherwise. One load and one
    /// test instead of two flag tests, and the MAC already in frame order. Kept by the two
    /// fields' observers. (A server whose MAC is all zeros reads as 0 too: its packets take
    /// the general path, which forwards them.)
    public private(set) var forwardingMACWord: UInt64 = 0

    mutating func refreshForwardingWord() {
        if isAvailable, let mac { forwardingMACWord = (mac.value << 16).bigEndian } else { forwardingMACWord = 0 }
    }

    public init(address: IPv4Address, port: UInt16, weight: Int32, upperThreshold: UInt32 = 0,
                lowerThreshold: UInt32 = 0, neighborIndex: Int32 = -1) {
        self.address = address
        self.port = port
        self.weight = weight
        self.lastWeight = weight
        self.isAvailable = true
        self.isOverloaded = false
        self.upperThreshold = upperThreshold
        self.lowerThreshold = lowerThreshold
        self.activeConnections = 0
        self.inactiveConnections = 0
        self.persistentConnections = 0
        self.neighborIndex = neighborIndex
        self.mac = nil
        self.stats = TrafficStats()
    }

    /// `ip_vs_dest_conn_overhead`: active × 256 + inactive (the code shifts by 8; old comments say 5).
    @inlinable
    public var overhead: Int64 { Int64(activeConnections) << 8 + Int64(inactiveConnections) }
}

/// A service's real servers in the kernel's list order (newest first), as schedulers read them.
///
/// The destinations themselves live in the engine's flat slot array, so that a connection
/// entry can name its server by slot and its counters are one pointer step away; this view
/// adds the per-service order. Positions (0 = list head) are what schedulers return.
public struct DestinationList {
    @usableFromInline let slots: UnsafeMutablePointer<Destination>
    public let order: [Int32]

    public init(slots: UnsafeMutablePointer<Destination>, order: [Int32]) {
        self.slots = slots
        self.order = order
    }

    @inlinable
    public var count: Int { order.count }

    @inlinable
    public subscript(position: Int) -> Destination { slots[Int(order[position])] }

    /// The slot index of the destination at `position`.
    @inlinable
    public func slot(at position: Int) -> Int32 { order[position] }
}
