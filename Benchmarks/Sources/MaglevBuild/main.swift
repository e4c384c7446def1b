import LVSCore

// Builds the Maglev (mh) lookup table for N servers and times it with the monotonic clock.
// Usage: MaglevBuild SERVERS REPEATS
// It also prints an FNV-1a 64 digest of the last table (outside the timing), so that a faster
// build can be checked bit for bit against the old one and the Python model (1000 servers:
// 1d3168f4e1ebe42d, from MaglevHashSchedulerTests' model with this list).
#if canImport(Glibc)
import Glibc
#endif

let arguments = CommandLine.arguments
let servers = arguments.count > 1 ? Int(arguments[1]) ?? 1000 : 1000
let repeats = arguments.count > 2 ? Int(arguments[2]) ?? 20 : 20

let destinations = UnsafeMutablePointer<Destination>.allocate(capacity: servers)
for i in 0..<servers {
    (destinations + i).initialize(to: Destination(address: IPv4Address(UInt32(0x0A00_0000) + UInt32(i + 1)), port: 80,
                                                  weight: Int32(1 + i % 3)))
}
let list = DestinationList(slots: destinations, order: (0..<Int32(servers)).reversed().map { $0 })
func nanos() -> UInt64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return UInt64(ts.tv_sec) * 1_000_000_000 + UInt64(ts.tv_nsec)
}
var best = UInt64.max
var all: [Double] = []
var digest: UInt64 = 0xcbf2_9ce4_8422_2325
for r in 0..<repeats {
    let start = nanos()
    let scheduler = MaglevHashScheduler(destinations: list, flags: [], tableSize: 65537)
    let elapsed = nanos() - start
    if r == repeats - 1 {
        for slot in scheduler.lookup {
            for byte in 0..<4 {
                digest = (digest ^ UInt64(UInt32(bitPattern: slot) >> (8 * UInt32(byte)) & 0xff)) &* 0x100_0000_01b3
            }
        }
    }
    best = min(best, elapsed)
    all.append(Double(elapsed) / 1e6)
}
all.sort()
let hex = String(digest, radix: 16)
print("maglev table 65537 slots x \(servers) servers: best \(Double(best) / 1e6) ms, median \(all[all.count / 2]) ms over \(repeats) builds; table fnv1a64 \(String(repeating: "0", count: 16 - hex.count) + hex)")
