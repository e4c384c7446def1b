import LVSCore
import Testing

/// The ring-wait figure's pure part: ages from two wall-clock readings, the histogram's buckets,
/// the per-second maximum, merging workers, and its JSON.
@Suite struct RingWaitTests {
    @Test func ageIsPickUpMinusStampAcrossASecondBoundary() {
        #expect(RingWait.ageNanos(frameSeconds: 100, frameNanoseconds: 999_999_000,
                                  nowSeconds: 101, nowNanoseconds: 4_000) == 5_000)
        #expect(RingWait.ageNanos(frameSeconds: 7, frameNanoseconds: 0, nowSeconds: 7, nowNanoseconds: 0) == 0)
    }

    @Test func aStampAfterPickUpIsAgeZeroNotAWrappedHugeAge() {
        // The wall clock stepped back between the kernel's stamp and our reading.
        #expect(RingWait.ageNanos(frameSeconds: 200, frameNanoseconds: 10, nowSeconds: 199, nowNanoseconds: 999_999_999) == 0)
    }

    @Test(arguments: [
        (0, 0), (15_999, 0), (16_000, 1), (63_999, 1), (64_000, 2), (255_999, 2), (256_000, 3),
        (1_023_999, 3), (1_024_000, 4), (4_095_999, 4), (4_096_000, 5), (3_000_000_000, 5), (UInt64.max, 5),
    ] as [(UInt64, Int)])
    func bucketsArePowersOfFourMicroseconds(ageNanos: UInt64, bucket: Int) {
        #expect(RingWait.bucket(ageNanos: ageNanos) == bucket)
        #expect(RingWait.bucketNames.count == RingWait.bucketCount)
        #expect(RingWait.bucketLimitsMicros.count == RingWait.bucketCount - 1)
    }

    @Test func recordFillsTheHistogramAndTheMaximumOfTheSecond() {
        var wait = RingWait()
        for age: UInt64 in [1_000, 2_000, 20_000, 300_000, 5_000_000, 10_000] { wait.record(ageNanos: age) }
        #expect(wait.histogram == [3, 1, 0, 1, 0, 1])
        #expect(wait.samples == 6)
        #expect(wait.maxThisSecondNanos == 5_000_000)
        // Not published until the second ends.
        #expect(wait.maxLastSecondNanos == 0)
    }

    @Test func theMaximumResetsEachSecondAndAQuietSecondShowsZero() {
        var wait = RingWait()
        wait.record(ageNanos: 400_000_000)
        wait.endSecond()
        #expect(wait.maxLastSecondNanos == 400_000_000)
        #expect(wait.maxThisSecondNanos == 0)
        wait.record(ageNanos: 3_000)
        wait.endSecond()
        #expect(wait.maxLastSecondNanos == 3_000)
        wait.endSecond()
        #expect(wait.maxLastSecondNanos == 0)
        // The histogram is cumulative.
        #expect(wait.samples == 2)
    }

    @Test func mergingSumsHistogramsAndKeepsTheLargestMaximum() throws {
        var a = RingWait(), b = RingWait()
        a.record(ageNanos: 1_000)
        a.record(ageNanos: 70_000)
        a.endSecond()
        b.record(ageNanos: 2_000_000)
        b.endSecond()
        let total = try #require(RingWait.merging([a, b]))
        #expect(total.histogram == [1, 0, 1, 0, 1, 0])
        #expect(total.maxLastSecondNanos == 2_000_000)
        #expect(RingWait.merging([]) == nil)
    }

    @Test func jsonIsMicrosecondsWithNamedBuckets() {
        var wait = RingWait()
        wait.record(ageNanos: 1_999)
        wait.record(ageNanos: 250_700)
        wait.endSecond()
        #expect(wait.json == #"{"max_last_second": 250, "histogram": {"lt_16": 1, "lt_64": 0, "lt_256": 1, "lt_1024": 0, "lt_4096": 0, "ge_4096": 0}}"#)
    }
}
