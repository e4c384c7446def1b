import Testing
import LVSCore

/// A hashable mirror of `ConnectionKey` for the Dictionary model.
struct ModelKey: Hashable {
    var a: UInt32, v: UInt32, cp: UInt16, vp: UInt16, t: UInt8
    init(_ k: ConnectionKey) { (a, v, cp, vp, t) = (k.clientAddress, k.virtualAddress, k.clientPort, k.virtualPort, k.transport) }
}

@Suite struct ConnectionTableTests {
    static func key(_ n: Int, transport: UInt8 = 6) -> ConnectionKey {
        ConnectionKey(transport: transport, clientAddress: 0xC000_0200 | UInt32(n & 0xFF), clientPort: UInt16(truncatingIfNeeded: 1024 + n >> 8),
                      virtualAddress: 0x0A00_0064, virtualPort: 80)
    }

    static func randomKey(_ rng: inout SplitMix64) -> ConnectionKey {
        // Small ranges so that keys repeat and differ in one field only.
        ConnectionKey(transport: rng.next() % 2 == 0 ? 6 : 17,
                      clientAddress: 0xC000_0200 | UInt32(rng.next() % 64),
                      clientPort: UInt16(40000 + rng.next() % 64),
                      virtualAddress: 0x0A00_0064 + UInt32(rng.next() % 2),
                      virtualPort: rng.next() % 2 == 0 ? 80 : 443)
    }

    // The slot layout promise: 32 bytes, two entries per 64-byte cache line.
    @Test func entryIsThirtyTwoBytes() {
        #expect(MemoryLayout<ConnectionEntry>.stride == 32)
        #expect(MemoryLayout<ConnectionEntry>.size == 32)
    }

    // Capacity rounds up to a power of two, at least 64.
    @Test func capacityRounding() {
        #expect(ConnectionTable(capacity: 1, seed: 0).capacity == 64)
        #expect(ConnectionTable(capacity: 64, seed: 0).capacity == 64)
        #expect(ConnectionTable(capacity: 65, seed: 0).capacity == 128)
        #expect(ConnectionTable(capacity: 1000, seed: 0).capacity == 1024)
    }

    // insert → find returns the same slot holding the key; remove → find is -1; every key field matters.
    @Test func insertFindRemove() {
        let table = ConnectionTable(capacity: 256, seed: 42)
        let k = ConnectionKey(transport: 6, clientAddress: 0xC000_020A, clientPort: 40000, virtualAddress: 0x0A00_0064, virtualPort: 80)
        #expect(table.find(k) == -1)
        let slot = table.insert(k)
        #expect(slot >= 0)
        #expect(table.count == 1)
        #expect(table.find(k) == slot)
        #expect(table.entry(slot).pointee.isOccupied)
        #expect(table.entry(slot).pointee.key == k)
        #expect(table.entry(slot).pointee.destinationSlot == -1)
        var others = [k, k, k, k, k]
        others[0].transport = 17
        others[1].clientAddress += 1
        others[2].clientPort += 1
        others[3].virtualAddress += 1
        others[4].virtualPort += 1
        for o in others { #expect(table.find(o) == -1) }
        table.remove(slot)
        #expect(table.count == 0)
        #expect(table.find(k) == -1)
        #expect(!table.entry(slot).pointee.isOccupied)
    }

    // 6 000 random insert/find/remove operations against a Dictionary model, in a table kept
    // about 70 % full so probe runs are long (and an insert may meet a full neighbourhood:
    // then all `maxProbes` slots from the key's home must really be occupied). After every removal (backward shift) every key
    // still present must be found at a slot that holds it; removed keys must not be found.
    // (Present keys are also kept in an array, so the run does not depend on Dictionary order.)
    @Test func randomizedModel() {
        var rng = SplitMix64(seed: 0xC0FFEE)
        let table = ConnectionTable(capacity: 256, seed: 7)
        var model: Set<ModelKey> = []
        var present: [ConnectionKey] = []
        var tableFull = 0
        var removals = 0
        for step in 0..<6_000 {
            let k = Self.randomKey(&rng)
            let op = rng.next() % 10
            if op < 5 && present.count < 180 {
                if !model.contains(ModelKey(k)) {
                    let slot = table.insert(k)
                    if slot >= 0 {
                        model.insert(ModelKey(k))
                        present.append(k)
                        #expect(table.entry(slot).pointee.key == k)
                    } else {
                        tableFull += 1
                        let home = Int(truncatingIfNeeded: table.hash(k)) & (table.capacity - 1)
                        let free = (0..<table.maxProbes).filter { !table.entry((home + $0) & (table.capacity - 1)).pointee.isOccupied }
                        #expect(free.isEmpty, "step \(step): insert failed with free slots in reach")
                        #expect(table.find(k) == -1)
                    }
                }
            } else if op < 8 {
                guard !present.isEmpty else { continue }
                let victim = present.remove(at: Int(rng.next() % UInt64(present.count)))
                model.remove(ModelKey(victim))
                let slot = table.find(victim)
                #expect(slot >= 0, "step \(step): present key not found before removal")
                if slot >= 0 { table.remove(slot) }
                removals += 1
                #expect(table.find(victim) == -1)
                var lost = 0
                for k in present {
                    let s = table.find(k)
                    if s < 0 || table.entry(s).pointee.key != k { lost += 1 }
                }
                #expect(lost == 0, "step \(step): \(lost) keys lost after a removal")
                if lost > 0 { return }
            } else {
                #expect((table.find(k) >= 0) == model.contains(ModelKey(k)), "step \(step)")
            }
            #expect(table.count == present.count)
        }
        #expect(removals > 1_000)
        #expect(present.count > 100)
        // Full neighbourhoods are rare at this load.
        #expect(tableFull < 20)
        var seen = 0
        table.forEach { e in
            seen += 1
            #expect(model.contains(ModelKey(e.key)))
        }
        #expect(seen == present.count)
    }

    // A 64-slot table with maxProbes 8 is filled until insert fails; at that point no key
    // inserted before is lost, and the failure left nothing behind.
    @Test func fillSmallTableUntilFull() {
        let table = ConnectionTable(capacity: 64, seed: 99, maxProbes: 8)
        var inserted: [ConnectionKey] = []
        var n = 0
        while true {
            let k = Self.key(n)
            n += 1
            let slot = table.insert(k)
            if slot < 0 {
                #expect(table.find(k) == -1)
                break
            }
            inserted.append(k)
            #expect(n < 1000)
        }
        #expect(table.count == inserted.count)
        for k in inserted { #expect(table.find(k) >= 0) }
    }

    // With maxProbes = capacity every slot can be used: all 64 fit, the 65th fails, and
    // removing keys one by one from the completely full table (a backward shift that wraps
    // all the way round) keeps every other key findable and terminates.
    @Test func completelyFullTableRemovals() {
        let table = ConnectionTable(capacity: 64, seed: 5, maxProbes: 64)
        var inserted: [ConnectionKey] = []
        for n in 0..<64 {
            let k = Self.key(n)
            #expect(table.insert(k) >= 0)
            inserted.append(k)
        }
        #expect(table.count == 64)
        #expect(table.insert(Self.key(64)) == -1)
        for k in inserted { #expect(table.find(k) >= 0) }
        while let k = inserted.popLast() {
            table.remove(table.find(k))
            #expect(table.find(k) == -1)
            for other in inserted { #expect(table.find(other) >= 0) }
        }
        #expect(table.count == 0)
    }

    // sweep with a fake clock: exactly the entries with expiresAt <= now are handed to the
    // closure (once each) and removed; the rest stay findable with their deadlines.
    @Test func sweepExpiresExactlyTheDeadEntries() {
        var rng = SplitMix64(seed: 31337)
        let table = ConnectionTable(capacity: 512, seed: 3)
        var deadline: [ModelKey: UInt64] = [:]
        var keys: [ConnectionKey] = []
        while keys.count < 350 {
            let k = ConnectionKey(transport: 6, clientAddress: UInt32(truncatingIfNeeded: rng.next()),
                                  clientPort: UInt16(truncatingIfNeeded: rng.next()), virtualAddress: 0x0A00_0064, virtualPort: 80)
            guard deadline[ModelKey(k)] == nil else { continue }
            let slot = table.insert(k)
            #expect(slot >= 0)
            let expiresAt = rng.next() % 1000
            table.entry(slot).pointee.expiresAt = expiresAt
            deadline[ModelKey(k)] = expiresAt
            keys.append(k)
        }
        let now: UInt64 = 500
        var expired: [ModelKey] = []
        table.sweep(now: now, budget: 2 * table.capacity) { e in
            #expect(e.expiresAt <= now)
            expired.append(ModelKey(e.key))
        }
        let expected = Set(deadline.filter { $0.value <= now }.keys)
        #expect(expired.count == expected.count)      // once per entry
        #expect(Set(expired) == expected)
        #expect(table.count == keys.count - expected.count)
        for k in keys {
            let slot = table.find(k)
            if expected.contains(ModelKey(k)) {
                #expect(slot == -1)
            } else {
                #expect(slot >= 0)
                if slot >= 0 { #expect(table.entry(slot).pointee.expiresAt == deadline[ModelKey(k)]) }
            }
        }
        // A second sweep at the same time finds nothing more.
        var again = 0
        table.sweep(now: now, budget: 2 * table.capacity) { _ in again += 1 }
        #expect(again == 0)
    }

    // The budget bounds the work: sweeps of 16 slots at a time, repeated, reach every dead
    // entry, and an entry is never expired before its time (expiresAt == now + 1 survives).
    @Test func sweepInSlicesWithBoundary() {
        let table = ConnectionTable(capacity: 64, seed: 11)
        for n in 0..<40 {
            let slot = table.insert(Self.key(n))
            table.entry(slot).pointee.expiresAt = n % 2 == 0 ? 100 : 101
        }
        var expired = 0
        for _ in 0..<16 { table.sweep(now: 100, budget: 16) { _ in expired += 1 } }
        #expect(expired == 20)
        #expect(table.count == 20)
        for n in 0..<40 { #expect((table.find(Self.key(n)) >= 0) == (n % 2 == 1)) }
    }
}
