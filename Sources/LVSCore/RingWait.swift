/// How long frames wait in a data-plane worker's receive ring before the worker picks them up:
/// the one figure that shows queueing in lvsd itself (a worker off its CPU, or too slow for the
/// offered rate), which the drop counter shows only once the ring is full.
///
/// The worker measures once per loop turn, not per frame: the age of the first frame the turn
/// picks up (the oldest one waiting), as the kernel's receive timestamp against the clock read
/// at pick-up. It keeps the largest age of the second in progress and a histogram of all the
/// ages. Plain integers in a struct the worker holds in a local: no allocation, no lock, no
/// atomic on the packet path; the worker publishes a copy with its counters once a second.
public struct RingWait: Sendable, Equatable {
    /// Bucket limits in microseconds (exclusive upper bounds; the last bucket is open): powers of
    /// 4, so a bucket is two bits of the age and `bucket(ageNanos:)` is a shift, not a search.
    public static let bucketLimitsMicros: [UInt64] = [16, 64, 256, 1024, 4096]
    public static let bucketCount = 6
    /// The histogram's member names in the stats file, in bucket order.
    public static let bucketNames = ["lt_16", "lt_64", "lt_256", "lt_1024", "lt_4096", "ge_4096"]

    /// Turn-first-frame ages per bucket, since the worker started.
    public private(set) var b0: UInt64 = 0, b1: UInt64 = 0, b2: UInt64 = 0, b3: UInt64 = 0, b4: UInt64 = 0, b5: UInt64 = 0
    /// The largest age of the second in progress (nanoseconds).
    public private(set) var maxThisSecondNanos: UInt64 = 0
    /// The largest age of the last whole second (nanoseconds): what the stats file shows.
    public private(set) var maxLastSecondNanos: UInt64 = 0

    public init() {}

    /// The ages counted, bucket by bucket (off the packet path: it allocates).
    public var histogram: [UInt64] { [b0, b1, b2, b3, b4, b5] }
    /// Turns measured since start.
    public var samples: UInt64 { b0 &+ b1 &+ b2 &+ b3 &+ b4 &+ b5 }

    /// The age of a frame the kernel stamped at `frameSeconds`.`frameNanoseconds` (its
    /// CLOCK_REALTIME), picked up at `nowSeconds`.`nowNanoseconds` (the same clock). A frame
    /// stamped "after" it was picked up — the wall clock stepped back, e.g. by NTP — counts as 0,
    /// not as a wrapped-around huge age.
    @inline(__always)
    public static func ageNanos(frameSeconds: UInt64, frameNanoseconds: UInt64,
                                nowSeconds: UInt64, nowNanoseconds: UInt64) -> UInt64 {
        let frame = frameSeconds &* 1_000_000_000 &+ frameNanoseconds
        let now = nowSeconds &* 1_000_000_000 &+ nowNanoseconds
        return now > frame ? now &- frame : 0
    }

    /// The bucket of an age: < 16 µs is 0, then one bucket per factor of 4, ≥ 4096 µs is 5.
    @inline(__always)
    public static func bucket(ageNanos: UInt64) -> Int {
        let micros = ageNanos / 1000
        guard micros >= 16 else { return 0 }
        let log2 = UInt64.bitWidth - 1 - micros.leadingZeroBitCount  // ≥ 4
        return min(bucketCount - 1, (log2 - 4) / 2 + 1)
    }

    /// Counts one turn's first-frame age.
    @inline(__always)
    public mutating func record(ageNanos: UInt64) {
        if ageNanos > maxThisSecondNanos { maxThisSecondNanos = ageNanos }
        switch Self.bucket(ageNanos: ageNanos) {
        case 0: b0 &+= 1
        case 1: b1 &+= 1
        case 2: b2 &+= 1
        case 3: b3 &+= 1
        case 4: b4 &+= 1
        default: b5 &+= 1
        }
    }

    /// Closes the second (the worker calls it once a second, right before it publishes): its
    /// maximum becomes `maxLastSecondNanos` and the next second starts from 0. A second without
    /// frames therefore shows 0, so an old spike does not linger.
    public mutating func endSecond() {
        maxLastSecondNanos = maxThisSecondNanos
        maxThisSecondNanos = 0
    }

    /// Several workers' figures as the director's: histograms summed, the largest maximum.
    public static func merging(_ parts: [RingWait]) -> RingWait? {
        guard var total = parts.first else { return nil }
        for p in parts.dropFirst() {
            total.b0 &+= p.b0; total.b1 &+= p.b1; total.b2 &+= p.b2
            total.b3 &+= p.b3; total.b4 &+= p.b4; total.b5 &+= p.b5
            total.maxThisSecondNanos = max(total.maxThisSecondNanos, p.maxThisSecondNanos)
            total.maxLastSecondNanos = max(total.maxLastSecondNanos, p.maxLastSecondNanos)
        }
        return total
    }

    /// `{"max_last_second": µs, "histogram": {"lt_16": n, …, "ge_4096": n}}`, the stats file's
    /// `ring_wait_us` (microseconds, rounded down).
    public var json: String {
        let buckets = zip(Self.bucketNames, histogram).map { "\"\($0)\": \($1)" }.joined(separator: ", ")
        return "{\"max_last_second\": \(maxLastSecondNanos / 1000), \"histogram\": {\(buckets)}}"
    }
}
