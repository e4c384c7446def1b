import LVSCore
import Testing

/// The kernel's 2-second estimator (ip_vs_est.c), IPVS-SEMANTICS.md §3.13.
@Suite struct RateEstimatorTests {
    static func stats(conns: UInt64, packets: UInt64, bytes: UInt64) -> TrafficStats {
        var s = TrafficStats()
        s.connections = conns
        s.inPackets = packets
        s.inBytes = bytes
        return s
    }

    // First tick at a steady 10 conn/s: Δ=20 per 2 s, rate = 20<<9 = 10240, est = 10240>>2 = 2560;
    // cps = (2560 + 511) >> 10 = 2. The average climbs by a quarter of the gap per tick.
    @Test func firstTickMovesAQuarterOfTheWay() {
        var e = RateEstimator()
        e.sample(Self.stats(conns: 20, packets: 0, bytes: 0))
        #expect(e.connectionsPerSecond == 2)
    }

    // A steady 10 conn/s, 100 pkt/s and 12 000 B/s converges to exactly those figures.
    @Test func steadyRatesConverge() {
        var e = RateEstimator()
        for tick in 1...40 {
            let t = UInt64(tick)
            e.sample(Self.stats(conns: 20 * t, packets: 200 * t, bytes: 24_000 * t))
        }
        #expect(e.connectionsPerSecond == 10)
        #expect(e.inPacketsPerSecond == 100)
        #expect(e.inBytesPerSecond == 12_000)
        #expect(e.outPacketsPerSecond == 0 && e.outBytesPerSecond == 0)
    }

    // By hand: 10 conn/s for two ticks gives est 2560 then 2560 + (10240-2560)>>2 = 4480 (cps 4);
    // then traffic stops: 4480 + (0-4480)>>2 = 3360 (cps 3), 2520 (cps 2), 1890 (cps 2), 1418 (cps 1).
    @Test func decaysWhenTrafficStops() {
        var e = RateEstimator()
        e.sample(Self.stats(conns: 20, packets: 0, bytes: 0))
        e.sample(Self.stats(conns: 40, packets: 0, bytes: 0))
        #expect(e.connectionsPerSecond == 4)
        let expected: [UInt64] = [3, 2, 2, 1]
        for cps in expected {
            e.sample(Self.stats(conns: 40, packets: 0, bytes: 0))
            #expect(e.connectionsPerSecond == cps)
        }
    }

    // Starting at existing counters (a new estimator after -Z) does not count them as a burst.
    @Test func startingAtCurrentCountersIgnoresHistory() {
        let now = Self.stats(conns: 1_000_000, packets: 5_000_000, bytes: 1 << 40)
        var e = RateEstimator(startingAt: now)
        e.sample(now)
        #expect(e.connectionsPerSecond == 0 && e.inPacketsPerSecond == 0 && e.inBytesPerSecond == 0)
    }
}
