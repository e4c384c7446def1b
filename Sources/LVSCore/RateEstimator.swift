/// The kernel's rate estimator (ip_vs_est.c): every 2 seconds each counter's increase is
/// scaled up (conns and packets by 2^9, bytes by 2^4, so integer maths keeps fractions) and
/// folded into an exponentially weighted average with weight 1/4. `ipvsadm --rate` shows
/// the averages scaled back down with rounding.
public struct RateEstimator: Sendable, Equatable {
    /// The estimator's period: the kernel samples every 2 s.
    public static let periodNanos: UInt64 = 2_000_000_000

    var lastConnections: UInt64 = 0
    var lastInPackets: UInt64 = 0
    var lastOutPackets: UInt64 = 0
    var lastInBytes: UInt64 = 0
    var lastOutBytes: UInt64 = 0
    /// Scaled averages (conns and packets ×2^10 per second, bytes ×2^5 per second).
    var connectionsScaled: Int64 = 0
    var inPacketsScaled: Int64 = 0
    var outPacketsScaled: Int64 = 0
    var inBytesScaled: Int64 = 0
    var outBytesScaled: Int64 = 0

    public init() {}

    /// Starts from `stats` without counting what it already holds (what `-Z` and a new
    /// service do: the kernel seeds `last_*` with the current counters).
    public init(startingAt stats: TrafficStats) {
        lastConnections = stats.connections
        lastInPackets = stats.inPackets
        lastOutPackets = stats.outPackets
        lastInBytes = stats.inBytes
        lastOutBytes = stats.outBytes
    }

    /// One 2-second tick with the counters as they are now.
    public mutating func sample(_ stats: TrafficStats) {
        Self.fold(&connectionsScaled, &lastConnections, stats.connections, shift: 9)
        Self.fold(&inPacketsScaled, &lastInPackets, stats.inPackets, shift: 9)
        Self.fold(&outPacketsScaled, &lastOutPackets, stats.outPackets, shift: 9)
        Self.fold(&inBytesScaled, &lastInBytes, stats.inBytes, shift: 4)
        Self.fold(&outBytesScaled, &lastOutBytes, stats.outBytes, shift: 4)
    }

    static func fold(_ estimate: inout Int64, _ last: inout UInt64, _ now: UInt64, shift: Int64) {
        let delta = Int64(truncatingIfNeeded: now &- last)
        last = now
        let rate = delta << shift
        // `>> 2` on a signed value rounds towards minus infinity, as the kernel's s64 shift does.
        estimate += (rate - estimate) >> 2
    }

    /// Connections per second, as `ipvsadm --rate` prints CPS.
    public var connectionsPerSecond: UInt64 { UInt64(max(0, (connectionsScaled + 0x1FF) >> 10)) }
    public var inPacketsPerSecond: UInt64 { UInt64(max(0, (inPacketsScaled + 0x1FF) >> 10)) }
    public var outPacketsPerSecond: UInt64 { UInt64(max(0, (outPacketsScaled + 0x1FF) >> 10)) }
    public var inBytesPerSecond: UInt64 { UInt64(max(0, (inBytesScaled + 0xF) >> 5)) }
    public var outBytesPerSecond: UInt64 { UInt64(max(0, (outBytesScaled + 0xF) >> 5)) }
}
