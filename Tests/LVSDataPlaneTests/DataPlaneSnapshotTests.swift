import LVSCore
import LVSDataPlane
import Testing

/// The snapshot's ring wait: merged over workers, and where it goes in the stats file.
@Suite struct DataPlaneSnapshotTests {
    static func snapshot(waits ages: [UInt64]?) -> DataPlaneSnapshot {
        var s = DataPlaneSnapshot()
        if let ages {
            var wait = RingWait()
            for age in ages { wait.record(ageNanos: age) }
            wait.endSecond()
            s.ringWait = wait
        }
        return s
    }

    @Test func oneWorkerShowsItsRingWaitAndNoWorkersList() {
        let json = Self.snapshot(waits: [2_000, 500_000]).json(backend: "af_packet")
        #expect(json.contains(#""ring_wait_us": {"max_last_second": 500, "histogram": {"lt_16": 1, "lt_64": 0, "lt_256": 0, "lt_1024": 1, "lt_4096": 0, "ge_4096": 0}}"#), "\(json)")
        #expect(!json.contains("\"workers\""))
    }

    @Test func severalWorkersMergeAndEachKeepsItsOwn() throws {
        let merged = DataPlaneSnapshot.merging([Self.snapshot(waits: [1_000]), Self.snapshot(waits: [9_000_000, 3_000])])
        let total = try #require(merged.ringWait)
        #expect(total.histogram == [2, 0, 0, 0, 0, 1])
        #expect(total.maxLastSecondNanos == 9_000_000)
        #expect(merged.workers.map { $0.ringWait?.maxLastSecondNanos } == [1_000, 9_000_000])
        let json = merged.json()
        #expect(json.contains(#""ring_wait_us": {"max_last_second": 9000, "#), "\(json)")
        #expect(json.contains(#""worker": 1, "connections": 0, "rx_frames": 0, "forwarded_frames": 0, "ring_wait_us": {"max_last_second": 9000, "#), "\(json)")
    }

    @Test func afXDPHasNoRingWaitAndSaysNull() {
        let merged = DataPlaneSnapshot.merging([Self.snapshot(waits: nil), Self.snapshot(waits: nil)])
        #expect(merged.ringWait == nil)
        let json = merged.json(backend: "af_xdp")
        #expect(json.contains("\"ring_wait_us\": null,"), "\(json)")
        #expect(json.contains("\"forwarded_frames\": 0, \"ring_wait_us\": null}"), "\(json)")
    }
}
