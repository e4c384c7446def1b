import LVSCore
#if canImport(Glibc)
import Glibc
#endif

// The hit path: frames of established connections parsed, looked up and rewritten by the
// engine, as the worker hands them over from the ring. Setup opens 1024 connections with SYNs;
// then PACKETS ACK frames cycle over them in place. Usage: HitPath PACKETS [BATCH]
// Without BATCH, one `process` call a frame; with it, `processBatch` on BATCH frames a call,
// as the worker runs it (its default ring batch is 64).
let arguments = CommandLine.arguments
let packets = arguments.count > 1 ? Int(arguments[1]) ?? 1_000_000 : 1_000_000
let batchSize = arguments.count > 2 ? max(0, min(1024, Int(arguments[2]) ?? 64)) : 0
let flows = 1024
let vip = IPv4Address(10, 0, 0, 100)
let directorMAC = MACAddress(value: 0x0200_0000_0001)
let servers = (1...3).map { IPv4Address(10, 0, 1, UInt8($0)) }
let config = DirectorConfiguration(services: [
    VirtualServiceConfig(key: VirtualServiceKey(transport: .tcp, address: vip, port: 80), scheduler: "rr",
                         realServers: servers.map { RealServerConfig(address: $0, port: 80) }),
])
let engine: ForwardingEngine
do {
    engine = try ForwardingEngine(
        configuration: config, directorMAC: directorMAC, directorAddress: IPv4Address(10, 0, 0, 2),
        connectionCapacity: 1 << 16, hashSeed: 42,
        staticNeighbors: Dictionary(uniqueKeysWithValues: servers.enumerated().map {
            ($0.element, MACAddress(value: 0x0200_0000_0100 | UInt64($0.offset + 1)))
        }))
} catch {
    print("setup failed: \(error)")
    exit(1)
}

/// Writes a 60-byte Ethernet/IPv4/TCP frame from 192.0.2.10:port to the VIP:80 at `f`.
func writeFrame(_ f: FrameBytes, port: UInt16, flags: UInt8) {
    for i in 0..<60 { f.setU8(i, 0) }
    f.setMAC(0, directorMAC)
    f.setMAC(6, MACAddress(value: 0x0200_0000_00AA))
    f.setU16(12, Wire.etherTypeIPv4)
    f.setU8(14, 0x45)
    f.setU16(16, 40)
    f.setU16(20, 0x4000)
    f.setU8(22, 64)
    f.setU8(23, 6)
    f.setU32(26, IPv4Address(192, 0, 2, 10).value)
    f.setU32(30, vip.value)
    f.setU16(24, InternetChecksum.checksum(f, offset: 14, count: 20))
    f.setU16(34, port)
    f.setU16(36, 80)
    f.setU8(46, 5 << 4)
    f.setU8(47, flags)
}

let stride = 64
let buffer = UnsafeMutableRawPointer.allocate(byteCount: flows * stride, alignment: 64)
@MainActor func slot(_ i: Int) -> FrameBytes { FrameBytes(base: buffer + i * stride, count: 60) }
for i in 0..<flows {
    writeFrame(slot(i), port: UInt16(10_000 + i), flags: Wire.tcpSYN)
    _ = engine.process(slot(i), now: 1)
    writeFrame(slot(i), port: UInt16(10_000 + i), flags: Wire.tcpACK)
}
// What the DR rewrite changes (both MACs, and the TTL/protocol/checksum word), put back after
// each packet so every frame stays forwardable: three loads and three stores per packet on top
// of the engine's work.
struct Rewritten { var macs: UInt64; var macTail: UInt32; var ttlWord: UInt32 }
let originals = (0..<flows).map { i -> Rewritten in
    let b = buffer + i * stride
    return Rewritten(macs: b.loadUnaligned(as: UInt64.self), macTail: b.loadUnaligned(fromByteOffset: 8, as: UInt32.self),
                     ttlWord: b.loadUnaligned(fromByteOffset: 22, as: UInt32.self))
}
var forwarded = 0
var p = 0
// The batch harness: descriptors of all slots built once (the worker builds them from the ring
// headers, which it reads anyway), verdicts in a reused buffer.
let descriptors = UnsafeMutablePointer<FrameBytes>.allocate(capacity: flows)
for i in 0..<flows { descriptors[i] = slot(i) }
let verdicts = UnsafeMutablePointer<Verdict>.allocate(capacity: flows)
if batchSize > 0 {
    originals.withUnsafeBufferPointer { saved in
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
                let b = descriptors[i].base
                b.storeBytes(of: saved[i].macs, as: UInt64.self)
                b.storeBytes(of: saved[i].macTail, toByteOffset: 8, as: UInt32.self)
                b.storeBytes(of: saved[i].ttlWord, toByteOffset: 22, as: UInt32.self)
                i &+= 1
            }
            p &+= n
        }
    }
}
originals.withUnsafeBufferPointer { saved in
    while p < packets {
        let i = p & (flows - 1)
        let frame = slot(i)
        if engine.process(frame, now: 2) == .transmit { forwarded &+= 1 }
        frame.base.storeBytes(of: saved[i].macs, as: UInt64.self)
        frame.base.storeBytes(of: saved[i].macTail, toByteOffset: 8, as: UInt32.self)
        frame.base.storeBytes(of: saved[i].ttlWord, toByteOffset: 22, as: UInt32.self)
        p += 1
    }
}
print("packets \(packets) forwarded \(forwarded) connections \(engine.connections.count)")
