/// `twos` (ip_vs_twos.c): power of two choices. Two servers are drawn at random in proportion
/// to their weights, and the new connection goes to the less loaded of the two.
///
/// The kernel sums the weights of the servers that are not overloaded and have a positive
/// weight, adds 1, and draws `r1` and `r2` from `[0, sum]` with `get_random_u32_below(sum + 1)`.
/// It then walks those servers in list order, subtracting each weight from both numbers:
/// `choice1` is the first server where `r1 <= 0`, `choice2` the first where `r2 <= 0`. Because
/// the test is `<= 0` and `r` can be 0, the first eligible server wins for `r` in `0...w`, one
/// value more than its weight; the others win for exactly `w` values. `choice2` is taken when
/// `weight2 × overhead1 > weight1 × overhead2`, strictly, so equal loads keep `choice1`.
///
/// Unlike lc and wlc, the kernel does these products in 32-bit `int` with no `(__s64)` cast,
/// and the kernel is built with wrapping signed overflow, so they are `&*` on `Int32` here too.
/// That wrap is reachable: a weight of 100 times the overhead of a server with 84,000 active
/// connections (84,000 × 256) already exceeds 2³¹, and the comparison then goes the wrong way
/// exactly as it does in the kernel. The sum, the subtractions and the overhead are `int` as
/// well and wrap the same way.
///
/// `SchedulingContext.random` supplies the two uniform 32-bit draws. Each is reduced the way
/// the kernel's `__get_random_u32_below(ceil)` does on its first try, `(draw × ceil) >> 32`
/// (Lemire's multiply-shift), not `draw % ceil`. The kernel rejects and redraws when the low
/// half of the product is below `2³² mod ceil`, which happens with probability under
/// `ceil / 2³²`; with exactly two draws per decision we keep that sample instead, so the bias
/// is at most one part in 2³² / ceil and every decision is a pure function of its draws, which
/// tests inject. A ceil of 0 (the sum wrapped) returns the draw unchanged, as the kernel does.
public struct PowerOfTwoChoicesScheduler: Scheduler {
    public static let name = "twos"

    public init(destinations: DestinationList, flags: SchedulerFlags) {}

    public mutating func schedule(_ destinations: DestinationList, context: SchedulingContext) -> Int? {
        let n = destinations.count
        var total: Int32 = 0
        var choice1: Int?
        for i in 0..<n {
            let d = destinations[i]
            if !d.isOverloaded && d.weight > 0 {
                total &+= d.weight
                // The kernel leaves the last eligible server here; the walk below replaces it
                // unless the draws are out of range (only after the sum wraps).
                choice1 = i
            }
        }
        guard var choice1 else { return nil }
        total &+= 1
        var r1 = Int32(bitPattern: Self.randomBelow(UInt32(bitPattern: total), draw: context.random.0))
        var r2 = Int32(bitPattern: Self.randomBelow(UInt32(bitPattern: total), draw: context.random.1))

        var choice2: Int?
        var weight1: Int32 = -1
        var weight2: Int32 = -1
        var overhead1: Int32 = 0
        var overhead2: Int32 = 0
        for i in 0..<n {
            let d = destinations[i]
            let w = d.weight
            if d.isOverloaded || w <= 0 { continue }
            r1 &-= w
            r2 &-= w
            if r1 <= 0 && weight1 == -1 {
                choice1 = i
                weight1 = w
                overhead1 = Int32(truncatingIfNeeded: d.overhead)
            }
            if r2 <= 0 && weight2 == -1 {
                choice2 = i
                weight2 = w
                overhead2 = Int32(truncatingIfNeeded: d.overhead)
            }
            if weight1 != -1 && weight2 != -1 { break }
        }
        if let choice2, weight2 &* overhead1 > weight1 &* overhead2 { return choice2 }
        return choice1
    }

    /// `get_random_u32_below(ceil)` for one draw: the multiply-shift of the kernel's first
    /// attempt, without its rejection loop (see the type's documentation).
    static func randomBelow(_ ceil: UInt32, draw: UInt32) -> UInt32 {
        if ceil == 0 { return draw }
        return UInt32(truncatingIfNeeded: (UInt64(draw) * UInt64(ceil)) >> 32)
    }
}
