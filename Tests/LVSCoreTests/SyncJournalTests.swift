import Foundation
import LVSCore
import Testing

/// The master's outbox ring: one producer (the worker), one consumer (the sync thread).
@Suite struct SyncJournalTests {
    static func record(_ n: Int) -> SyncConnection {
        var r = SyncMessageTests.established
        r.clientPort = UInt16(truncatingIfNeeded: n)
        r.clientAddress = UInt32(truncatingIfNeeded: n >> 16)
        return r
    }

    // A full journal drops and counts; the producer never waits.
    @Test func aFullJournalCountsOverflows() {
        let j = SyncJournal(capacity: 16)
        for i in 0..<20 { j.push(Self.record(i)) }
        #expect(j.overflowCount == 4)
        #expect(j.recordedCount == 16)
        var seen: [UInt16] = []
        #expect(j.drain { seen.append($0.clientPort) } == 16)
        #expect(seen == (0..<16).map { UInt16($0) })
        #expect(j.push(Self.record(99)))
        #expect(j.drain(limit: 0) { _ in } == 0)
        #expect(!j.isEmpty)
    }

    // A producer thread and a consumer thread: every record that was accepted arrives once, in
    // order, and accepted + dropped is what was pushed.
    @Test func producerAndConsumerOnTwoThreads() async {
        let j = SyncJournal(capacity: 1024)
        let total = 200_000
        let producer = Thread {
            for i in 0..<total { j.push(Self.record(i)) }
        }
        producer.start()
        var received = 0
        var last = -1
        var inOrder = true
        let deadline = Date().addingTimeInterval(30)
        while UInt64(received) < UInt64(total) - j.overflowCount && Date() < deadline {
            j.drain { r in
                let n = Int(r.clientAddress) << 16 | Int(r.clientPort)
                if n <= last { inOrder = false }
                last = n
                received += 1
            }
        }
        #expect(inOrder)
        #expect(UInt64(received) + j.overflowCount == UInt64(total))
        #expect(j.recordedCount == UInt64(received))
    }
}
