import LVSCore

/// Shared by the callgrind harness (HitPath) and the ordo-one micro-benchmarks
/// (Benchmarks/Micro), so both measure the same frames.
///
/// An engine with `flows` established TCP connections to one rr service of three real
/// servers, and one ACK frame of each connection in a buffer: what the worker hands the engine
/// once a flow is known. Forwarding rewrites the MACs and the TTL/checksum word of a frame;
/// `restore` puts them back so the same frames can be forwarded again and again.
public final class EstablishedFlows {
    public let flows: Int
    public let engine: ForwardingEngine
    public let frames: UnsafeMutablePointer<FrameBytes>
    public let verdicts: UnsafeMutablePointer<Verdict>
    public let buffer: UnsafeMutableRawPointer
    /// The bytes forwarding changes, per frame: both MACs (12 bytes) and TTL/protocol/checksum.
    public let savedMACs: UnsafeMutablePointer<UInt64>
    public let savedMACTails: UnsafeMutablePointer<UInt32>
    public let savedTTLWords: UnsafeMutablePointer<UInt32>

    public static let vip = IPv4Address(10, 0, 0, 100)
    public static let directorMAC = MACAddress(value: 0x0200_0000_0001)
    public static let frameStride = 64

    public init(flows: Int) throws {
        self.flows = flows
        let servers = (1...3).map { IPv4Address(10, 0, 1, UInt8($0)) }
        let configuration = DirectorConfiguration(services: [
            VirtualServiceConfig(key: VirtualServiceKey(transport: .tcp, address: Self.vip, port: 80), scheduler: "rr",
                                 realServers: servers.map { RealServerConfig(address: $0, port: 80) }),
        ])
        engine = try ForwardingEngine(
            configuration: configuration, directorMAC: Self.directorMAC, directorAddress: IPv4Address(10, 0, 0, 2),
            connectionCapacity: max(1 << 16, flows * 4), hashSeed: 42,
            staticNeighbors: Dictionary(uniqueKeysWithValues: servers.enumerated().map {
                ($0.element, MACAddress(value: 0x0200_0000_0100 | UInt64($0.offset + 1)))
            }))
        buffer = .allocate(byteCount: flows * Self.frameStride, alignment: 64)
        frames = .allocate(capacity: flows)
        verdicts = .allocate(capacity: flows)
        verdicts.initialize(repeating: .drop, count: flows)
        savedMACs = .allocate(capacity: flows)
        savedMACTails = .allocate(capacity: flows)
        savedTTLWords = .allocate(capacity: flows)
        for i in 0..<flows {
            let frame = FrameBytes(base: buffer + i * Self.frameStride, count: 60)
            frames[i] = frame
            let port = UInt16(truncatingIfNeeded: 10_000 + i)
            Self.writeTCP(frame, clientPort: port, flags: Wire.tcpSYN)
            _ = engine.process(frame, now: 1)
            Self.writeTCP(frame, clientPort: port, flags: Wire.tcpACK)
            savedMACs[i] = frame.base.loadUnaligned(as: UInt64.self)
            savedMACTails[i] = frame.base.loadUnaligned(fromByteOffset: 8, as: UInt32.self)
            savedTTLWords[i] = frame.base.loadUnaligned(fromByteOffset: 22, as: UInt32.self)
        }
    }

    /// Puts back what forwarding frame `i` changed.
    /// Inlinable so the harnesses' loops pay three loads and three stores, not a call.
    @inlinable @inline(__always)
    public func restore(_ i: Int) {
        let base = frames[i].base
        base.storeBytes(of: savedMACs[i], as: UInt64.self)
        base.storeBytes(of: savedMACTails[i], toByteOffset: 8, as: UInt32.self)
        base.storeBytes(of: savedTTLWords[i], toByteOffset: 22, as: UInt32.self)
    }

    /// A 60-byte Ethernet/IPv4/TCP frame from 192.0.2.10:`clientPort` to the VIP's port 80.
    public static func writeTCP(_ f: FrameBytes, clientPort: UInt16, flags: UInt8) {
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
        f.setU16(34, clientPort)
        f.setU16(36, 80)
        f.setU8(46, 5 << 4)
        f.setU8(47, flags)
    }
}
