/// One classic BPF instruction, laid out as the kernel's `struct sock_filter`.
public struct ClassicBPFInstruction: Equatable, Sendable {
    public var code: UInt16
    public var jt: UInt8
    public var jf: UInt8
    public var k: UInt32

    public init(code: UInt16, jt: UInt8 = 0, jf: UInt8 = 0, k: UInt32 = 0) {
        self.code = code
        self.jt = jt
        self.jf = jf
        self.k = k
    }
}

/// Which data-plane worker owns a flow: the one function both the kernel (as the
/// PACKET_FANOUT_CBPF program of the workers' fanout group) and userspace (to file a synced
/// connection with the worker that will see its packets) evaluate.
///
/// Why a program of our own and not PACKET_FANOUT_HASH: the kernel's flow hash is seeded with a
/// random boot-time key, so userspace cannot tell which socket a flow lands on; a connection
/// imported by sync into the wrong shard would never be hit. This hash is fixed and public.
///
/// The key is the client's address and port: for TCP and UDP the packet's source, for an ICMP
/// error the destination quoted in it (the real server's reply went to the client), so the
/// error reaches the worker that holds the connection it is about. Fragments and other IPv4
/// packets key on the source address with port 0; ARP and anything not IPv4 go to worker 0,
/// which therefore answers ARP for the VIPs and learns the real servers' MACs for all workers.
///
/// `keysOnPorts == false` (chosen while any service is persistent) keys on the client address
/// alone, so all of a client's connections meet the same worker's persistence templates, as
/// they meet the one shared table in IPVS.
public struct FlowSteering: Equatable, Sendable {
    public let workerCount: Int
    public let keysOnPorts: Bool

    public init(workerCount: Int, keysOnPorts: Bool = true) {
        self.workerCount = max(1, workerCount)
        self.keysOnPorts = keysOnPorts
    }

    /// The worker (0 ..< workerCount) whose shard holds the client's connections.
    @inlinable
    public func worker(client: IPv4Address, clientPort: UInt16) -> Int {
        let port = keysOnPorts ? UInt32(clientPort) : 0
        return Int(Self.hash(address: client.value, port: port) % UInt32(workerCount))
    }

    /// A multiplicative mix of address and port with the high half folded down, so that both
    /// sequential ports of one client and many clients on one port spread evenly. Only
    /// operations classic BPF has (xor, multiply, shift; 32-bit wrap-around).
    @inlinable
    public static func hash(address: UInt32, port: UInt32) -> UInt32 {
        let mixed = (address ^ port) &* 0x9E37_79B1
        return mixed ^ (mixed >> 16)
    }

    /// The fanout program: returns the worker index for a frame. The kernel runs it with the
    /// data at the network header (hence the SKF_NET_OFF-relative loads, which hold wherever the
    /// data starts) and takes its result modulo the group's size; sockets must join in worker
    /// order, so index i is worker i. A load past the frame's end returns 0 (worker 0).
    public var fanoutProgram: [ClassicBPFInstruction] {
        var a = BPFAssembler()
        let net = BPF.networkOffset
        a.load(BPF.ld | BPF.w | BPF.abs, BPF.ancillaryProtocol)
        a.jump(BPF.jeq, 0x0800, true: "ip", false: "worker0")
        a.label("ip")
        a.load(BPF.ld | BPF.h | BPF.abs, net + 6)            // flags and fragment offset
        a.jump(BPF.jset, 0x3FFF, true: "portless", false: "whole")
        a.label("whole")
        a.load(BPF.ld | BPF.b | BPF.abs, net + 9)            // protocol
        a.jump(BPF.jeq, 6, true: "transport", false: "notTCP")
        a.label("notTCP")
        a.jump(BPF.jeq, 17, true: "transport", false: "notUDP")
        a.label("notUDP")
        a.jump(BPF.jeq, 1, true: "icmp", false: "portless")

        a.label("transport")
        a.headerLengthIntoX(at: net)
        a.load(BPF.ld | BPF.h | BPF.ind, net)                // source port
        a.op(BPF.st, 1)
        a.load(BPF.ld | BPF.w | BPF.abs, net + 12)           // source address
        a.op(BPF.st, 0)
        a.always("hash")

        a.label("icmp")
        a.headerLengthIntoX(at: net)
        a.load(BPF.ld | BPF.b | BPF.ind, net)                // ICMP type
        a.jump(BPF.jeq, 3, true: "quoted", false: "notUnreachable")
        a.label("notUnreachable")
        a.jump(BPF.jeq, 4, true: "quoted", false: "notQuench")
        a.label("notQuench")
        a.jump(BPF.jeq, 11, true: "quoted", false: "portless")
        a.label("quoted")
        a.load(BPF.ld | BPF.b | BPF.ind, net + 8 + 9)        // quoted protocol
        a.jump(BPF.jeq, 6, true: "quotedTransport", false: "quotedNotTCP")
        a.label("quotedNotTCP")
        a.jump(BPF.jeq, 17, true: "quotedTransport", false: "portless")
        a.label("quotedTransport")
        a.load(BPF.ld | BPF.w | BPF.ind, net + 8 + 16)       // quoted destination: the client
        a.op(BPF.st, 0)
        a.load(BPF.ld | BPF.b | BPF.ind, net + 8)            // quoted version and header length
        a.op(BPF.alu | BPF.and | BPF.k, 0x0F)
        a.op(BPF.alu | BPF.lsh | BPF.k, 2)
        a.op(BPF.alu | BPF.add | BPF.x, 0)
        a.op(BPF.alu | BPF.add | BPF.k, 8)
        a.op(BPF.misc | BPF.tax, 0)                          // X = header + ICMP header + quoted header
        a.load(BPF.ld | BPF.h | BPF.ind, net + 2)            // quoted destination port
        a.op(BPF.st, 1)
        a.always("hash")

        a.label("portless")
        a.load(BPF.ld | BPF.w | BPF.abs, net + 12)
        a.op(BPF.st, 0)
        a.op(BPF.ld | BPF.imm, 0)
        a.op(BPF.st, 1)

        a.label("hash")
        if keysOnPorts {
            a.op(BPF.ldx | BPF.mem, 1)
        } else {
            a.op(BPF.ldx | BPF.imm, 0)
        }
        a.op(BPF.ld | BPF.mem, 0)
        a.op(BPF.alu | BPF.xor | BPF.x, 0)
        a.op(BPF.alu | BPF.mul | BPF.k, 0x9E37_79B1)
        a.op(BPF.st, 2)
        a.op(BPF.alu | BPF.rsh | BPF.k, 16)
        a.op(BPF.misc | BPF.tax, 0)
        a.op(BPF.ld | BPF.mem, 2)
        a.op(BPF.alu | BPF.xor | BPF.x, 0)
        a.op(BPF.alu | BPF.mod | BPF.k, UInt32(workerCount))
        a.op(BPF.ret | BPF.a, 0)

        a.label("worker0")
        a.op(BPF.ret | BPF.k, 0)
        return a.assembled()
    }
}

/// Classic BPF opcode parts (linux/filter.h, linux/bpf_common.h): a stable kernel ABI, spelled
/// out here so the pure module needs no system headers.
public enum BPF {
    public static let ld: UInt16 = 0x00, ldx: UInt16 = 0x01, st: UInt16 = 0x02, alu: UInt16 = 0x04
    public static let jmp: UInt16 = 0x05, ret: UInt16 = 0x06, misc: UInt16 = 0x07
    public static let w: UInt16 = 0x00, h: UInt16 = 0x08, b: UInt16 = 0x10
    public static let imm: UInt16 = 0x00, abs: UInt16 = 0x20, ind: UInt16 = 0x40, mem: UInt16 = 0x60
    public static let add: UInt16 = 0x00, mul: UInt16 = 0x20, and: UInt16 = 0x50, lsh: UInt16 = 0x60
    public static let rsh: UInt16 = 0x70, mod: UInt16 = 0x90, xor: UInt16 = 0xA0
    public static let ja: UInt16 = 0x00, jeq: UInt16 = 0x10, jset: UInt16 = 0x40
    public static let k: UInt16 = 0x00, x: UInt16 = 0x08, a: UInt16 = 0x10
    public static let tax: UInt16 = 0x00
    /// SKF_NET_OFF: loads relative to the network header.
    public static let networkOffset: Int32 = -0x10_0000
    /// SKF_AD_OFF + SKF_AD_PROTOCOL: the frame's EtherType, host order.
    public static let ancillaryProtocol: Int32 = -0x1000
}

/// Builds a program with named forward jump targets, so offsets are computed, not counted.
struct BPFAssembler {
    enum Item {
        case plain(ClassicBPFInstruction)
        case conditional(code: UInt16, k: UInt32, whenTrue: String, whenFalse: String)
        case always(String)
    }

    var items: [Item] = []
    var labels: [String: Int] = [:]

    mutating func op(_ code: UInt16, _ k: UInt32) { items.append(.plain(ClassicBPFInstruction(code: code, k: k))) }
    mutating func load(_ code: UInt16, _ offset: Int32) { op(code, UInt32(bitPattern: offset)) }
    mutating func jump(_ test: UInt16, _ k: UInt32, true whenTrue: String, false whenFalse: String) {
        items.append(.conditional(code: BPF.jmp | test | BPF.k, k: k, whenTrue: whenTrue, whenFalse: whenFalse))
    }
    mutating func always(_ target: String) { items.append(.always(target)) }
    mutating func label(_ name: String) { labels[name] = items.count }

    /// X = the IPv4 header's length (IHL × 4) of the header at `offset`.
    mutating func headerLengthIntoX(at offset: Int32) {
        load(BPF.ld | BPF.b | BPF.abs, offset)
        op(BPF.alu | BPF.and | BPF.k, 0x0F)
        op(BPF.alu | BPF.lsh | BPF.k, 2)
        op(BPF.misc | BPF.tax, 0)
    }

    /// Jumps are relative to the next instruction; every target here is forward and near.
    func assembled() -> [ClassicBPFInstruction] {
        items.enumerated().map { index, item in
            func distance(_ name: String) -> Int { (labels[name] ?? index + 1) - index - 1 }
            switch item {
            case .plain(let instruction):
                return instruction
            case .conditional(let code, let k, let whenTrue, let whenFalse):
                return ClassicBPFInstruction(code: code, jt: UInt8(clamping: distance(whenTrue)),
                                             jf: UInt8(clamping: distance(whenFalse)), k: k)
            case .always(let target):
                return ClassicBPFInstruction(code: BPF.jmp | BPF.ja, k: UInt32(clamping: distance(target)))
            }
        }
    }
}
