import LVSCore
import Testing

/// The flow → worker function, and the fanout program run by a small classic-BPF interpreter
/// against it (IntegrationTests.MultiWorkerTests checks the kernel's choice in a namespace).
struct FlowSteeringTests {
    let client = IPv4Address(10, 200, 0, 10)
    let vip = IPv4Address(10, 200, 0, 100)

    @Test func oneWorkerOwnsEverything() {
        let steering = FlowSteering(workerCount: 1)
        for port in UInt16(1000)..<1100 { #expect(steering.worker(client: client, clientPort: port) == 0) }
    }

    @Test func sequentialPortsOfOneClientSpreadEvenly() {
        for workers in [2, 3, 4] {
            let steering = FlowSteering(workerCount: workers)
            var counts = Array(repeating: 0, count: workers)
            for port in UInt16(20000)..<UInt16(26000) { counts[steering.worker(client: client, clientPort: port)] += 1 }
            let even = 6000 / workers
            for c in counts { #expect(abs(c - even) < even / 10, "\(workers) workers: \(counts)") }
        }
    }

    @Test func manyClientsOnOnePortSpreadEvenly() {
        let steering = FlowSteering(workerCount: 2)
        var counts = [0, 0]
        for host in 0..<4000 {
            counts[steering.worker(client: IPv4Address(UInt32(0x0A00_0000 + host)), clientPort: 40000)] += 1
        }
        #expect(abs(counts[0] - counts[1]) < 400, "\(counts)")
    }

    @Test func addressOnlyKeyPutsAClientOnOneWorker() {
        let steering = FlowSteering(workerCount: 4, keysOnPorts: false)
        let first = steering.worker(client: client, clientPort: 1)
        for port in UInt16(2)..<500 { #expect(steering.worker(client: client, clientPort: port) == first) }
    }

    @Test func knownValues() {
        // Pinned so the kernel-side test and the docs can quote them.
        #expect(FlowSteering.hash(address: 0, port: 0) == 0)
        #expect(FlowSteering.hash(address: 1, port: 0) == 0x9E37_79B1 ^ 0x9E37)
    }

    // MARK: - The program

    @Test func programAgreesForTCPAndUDP() throws {
        for workers in [2, 3] {
            for keysOnPorts in [true, false] {
                let steering = FlowSteering(workerCount: workers, keysOnPorts: keysOnPorts)
                for port in stride(from: UInt16(1024), to: 1524, by: 7) {
                    for proto: UInt8 in [6, 17] {
                        let packet = Self.ipv4(source: client, destination: vip, protocol: proto,
                                               payload: Self.ports(source: port, destination: 80))
                        let got = try BPFInterpreter.run(steering.fanoutProgram, network: packet, etherType: 0x0800)
                        #expect(Int(got) % workers == steering.worker(client: client, clientPort: port))
                    }
                }
            }
        }
    }

    @Test func programHonoursIPOptions() throws {
        let steering = FlowSteering(workerCount: 3)
        for port in UInt16(5000)..<5050 {
            let packet = Self.ipv4(source: client, destination: vip, protocol: 6, optionWords: 2,
                                   payload: Self.ports(source: port, destination: 80))
            let got = try BPFInterpreter.run(steering.fanoutProgram, network: packet, etherType: 0x0800)
            #expect(Int(got) % 3 == steering.worker(client: client, clientPort: port))
        }
    }

    @Test func icmpErrorGoesToTheQuotedClientsWorker() throws {
        let steering = FlowSteering(workerCount: 3)
        let router = IPv4Address(10, 200, 0, 1)
        for port in UInt16(30000)..<30040 {
            // The real server's reply VIP:80 → client:port, quoted by a router's error.
            let quoted = Self.ipv4(source: vip, destination: client, protocol: 6,
                                   payload: Self.ports(source: 80, destination: port))
            let icmp: [UInt8] = [3, 4, 0, 0, 0, 0, 5, 0xDC] + quoted.prefix(28)
            let packet = Self.ipv4(source: router, destination: vip, protocol: 1, payload: icmp)
            let got = try BPFInterpreter.run(steering.fanoutProgram, network: packet, etherType: 0x0800)
            #expect(Int(got) % 3 == steering.worker(client: client, clientPort: port))
        }
    }

    @Test func fragmentsAndOtherProtocolsKeyOnTheSourceAlone() throws {
        let steering = FlowSteering(workerCount: 3)
        var fragment = Self.ipv4(source: client, destination: vip, protocol: 17, payload: Self.ports(source: 999, destination: 53))
        fragment[6] = 0x20  // more fragments
        let gre = Self.ipv4(source: client, destination: vip, protocol: 47, payload: [0, 0, 0, 0])
        let echo = Self.ipv4(source: client, destination: vip, protocol: 1, payload: [8, 0, 0, 0, 0, 1, 0, 1])
        for packet in [fragment, gre, echo] {
            let got = try BPFInterpreter.run(steering.fanoutProgram, network: packet, etherType: 0x0800)
            #expect(Int(got) % 3 == steering.worker(client: client, clientPort: 0))
        }
    }

    @Test func arpAndTruncatedFramesGoToWorkerZero() throws {
        let steering = FlowSteering(workerCount: 4)
        #expect(try BPFInterpreter.run(steering.fanoutProgram, network: Array(repeating: 1, count: 28), etherType: 0x0806) == 0)
        let packet = Self.ipv4(source: client, destination: vip, protocol: 6, payload: Self.ports(source: 1, destination: 80))
        #expect(try BPFInterpreter.run(steering.fanoutProgram, network: Array(packet.prefix(21)), etherType: 0x0800) == 0)
    }

    @Test func programFitsTheKernelsLimits() {
        let program = FlowSteering(workerCount: 64).fanoutProgram
        #expect(program.count < 4096)
        #expect(program.last == ClassicBPFInstruction(code: BPF.ret | BPF.k, k: 0))
    }

    // MARK: - Helpers

    static func ports(source: UInt16, destination: UInt16) -> [UInt8] {
        [UInt8(source >> 8), UInt8(source & 0xFF), UInt8(destination >> 8), UInt8(destination & 0xFF), 0, 0, 0, 0]
    }

    static func ipv4(source: IPv4Address, destination: IPv4Address, protocol proto: UInt8, optionWords: Int = 0,
                     payload: [UInt8]) -> [UInt8] {
        let header = 20 + 4 * optionWords
        let total = header + payload.count
        var p: [UInt8] = [0x40 | UInt8(header / 4), 0, UInt8(total >> 8), UInt8(total & 0xFF), 0, 1, 0, 0, 64, proto, 0, 0]
        for a in [source, destination] {
            p += [UInt8(a.value >> 24), UInt8((a.value >> 16) & 0xFF), UInt8((a.value >> 8) & 0xFF), UInt8(a.value & 0xFF)]
        }
        p += Array(repeating: 1, count: 4 * optionWords)
        return p + payload
    }
}

/// The part of classic BPF the fanout program uses, with the kernel's rules: loads relative to
/// the network header (SKF_NET_OFF) or of the ancillary protocol, 32-bit arithmetic, and a load
/// past the end ending the program with 0.
enum BPFInterpreter {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static func run(_ program: [ClassicBPFInstruction], network: [UInt8], etherType: UInt16) throws -> UInt32 {
        var a: UInt32 = 0
        var x: UInt32 = 0
        var memory = Array(repeating: UInt32(0), count: 16)
        var pc = 0
        func load(_ offset: Int64, _ size: UInt16) -> UInt32? {
            if offset == Int64(BPF.ancillaryProtocol) { return UInt32(etherType) }
            let start = offset - Int64(BPF.networkOffset)
            let width = size == BPF.w ? 4 : size == BPF.h ? 2 : 1
            guard offset >= Int64(BPF.networkOffset), start + Int64(width) <= Int64(network.count) else { return nil }
            var value: UInt32 = 0
            for i in 0..<width { value = value << 8 | UInt32(network[Int(start) + i]) }
            return value
        }
        var steps = 0
        while pc < program.count {
            steps += 1
            guard steps < 10_000 else { throw Failure(description: "no end") }
            let i = program[pc]
            let cls = i.code & 0x07
            let k = i.k
            pc += 1
            switch cls {
            case BPF.ld:
                let mode = i.code & 0xE0
                switch mode {
                case BPF.abs, BPF.ind:
                    let offset = Int64(Int32(bitPattern: k)) + (mode == BPF.ind ? Int64(x) : 0)
                    guard let v = load(offset, i.code & 0x18) else { return 0 }
                    a = v
                case BPF.mem: a = memory[Int(k)]
                case BPF.imm: a = k
                default: throw Failure(description: "ld mode \(mode)")
                }
            case BPF.ldx:
                switch i.code & 0xE0 {
                case BPF.mem: x = memory[Int(k)]
                case BPF.imm: x = k
                default: throw Failure(description: "ldx \(i.code)")
                }
            case BPF.st: memory[Int(k)] = a
            case BPF.alu:
                let operand = i.code & BPF.x != 0 ? x : k
                switch i.code & 0xF0 {
                case BPF.add: a = a &+ operand
                case BPF.mul: a = a &* operand
                case BPF.and: a &= operand
                case BPF.lsh: a <<= operand
                case BPF.rsh: a >>= operand
                case BPF.xor: a ^= operand
                case BPF.mod:
                    guard operand != 0 else { return 0 }
                    a %= operand
                default: throw Failure(description: "alu \(i.code)")
                }
            case BPF.jmp:
                switch i.code & 0xF0 {
                case BPF.ja: pc += Int(k)
                case BPF.jeq: pc += Int(a == k ? i.jt : i.jf)
                case BPF.jset: pc += Int(a & k != 0 ? i.jt : i.jf)
                default: throw Failure(description: "jmp \(i.code)")
                }
            case BPF.ret: return i.code & 0x18 == BPF.a ? a : k
            case BPF.misc:
                if i.code & 0xF8 == BPF.tax { x = a } else { a = x }
            default: throw Failure(description: "class \(cls)")
            }
        }
        throw Failure(description: "fell off the end")
    }
}
