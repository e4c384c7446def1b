import BenchmarkFixtures
import LVSCore
#if canImport(Glibc)
import Glibc
#endif

// The hit path: frames of established connections parsed, looked up and rewritten by the
// engine, as the worker hands them over from the ring. Setup (EstablishedFlows) opens 1024
// connections with SYNs; then PACKETS ACK frames cycle over them in place.
// Usage: HitPath PACKETS [BATCH]
// Without BATCH, one `process` call a frame; with it, `processBatch` on BATCH frames a call,
// as the worker runs it (its default ring batch is 64).
let arguments = CommandLine.arguments
let packets = arguments.count > 1 ? Int(arguments[1]) ?? 1_000_000 : 1_000_000
let batchSize = arguments.count > 2 ? max(0, min(1024, Int(arguments[2]) ?? 64)) : 0
let flows = 1024
let fixture: EstablishedFlows
do {
    fixture = try EstablishedFlows(flows: flows)
} catch {
    print("setup failed: \(error)")
    exit(1)
}
let engine = fixture.engine
// The descriptors of all slots are built once (the worker builds them from the ring headers,
// which it reads anyway), verdicts go to a reused buffer. After each packet the harness puts
// back what the DR rewrite changed (both MACs, the TTL/protocol/checksum word) so every frame
// stays forwardable: three loads and three stores per packet on top of the engine's work.
let descriptors = fixture.frames
let verdicts = fixture.verdicts
var forwarded = 0
var p = 0
if batchSize > 0 {
    while p < packets {
        let first = p & (flows - 1)
        let n = min(batchSize, packets - p, flows - first)
        var done = 0
        while done < n {
            done &+= engine.processBatch(descriptors + (first &+ done), count: n &- done,
                                         verdicts: verdicts + (first &+ done), now: 2)
        }
        var i = first
        while i < first &+ n {
            if verdicts[i] == .transmit { forwarded &+= 1 }
            fixture.restore(i)
            i &+= 1
        }
        p &+= n
    }
}
while p < packets {
    let i = p & (flows - 1)
    if engine.process(descriptors[i], now: 2) == .transmit { forwarded &+= 1 }
    fixture.restore(i)
    p += 1
}
print("packets \(packets) forwarded \(forwarded) connections \(engine.connections.count)")
