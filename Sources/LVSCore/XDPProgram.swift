/// One eBPF instruction, as the kernel reads it: opcode, destination and source registers,
/// a signed 16-bit offset and a signed 32-bit immediate (`struct bpf_insn`, 8 bytes).
public struct BPFInstruction: Equatable, Sendable {
    public var code: UInt8
    public var destination: UInt8
    public var source: UInt8
    public var offset: Int16
    public var immediate: Int32

    public init(code: UInt8, destination: UInt8 = 0, source: UInt8 = 0, offset: Int16 = 0, immediate: Int32 = 0) {
        self.code = code
        self.destination = destination
        self.source = source
        self.offset = offset
        self.immediate = immediate
    }

    /// The instruction as the 8 bytes of `struct bpf_insn` on a little-endian host, read as one
    /// little-endian UInt64 (the registers share byte 1: destination in the low nibble).
    public var encoded: UInt64 {
        UInt64(code) | UInt64((source & 0xF) << 4 | (destination & 0xF)) << 8
            | UInt64(UInt16(bitPattern: offset)) << 16 | UInt64(UInt32(bitPattern: immediate)) << 32
    }
}

/// The XDP program of lvsd's AF_XDP backend, hand-assembled: SwiftPM cannot compile a BPF
/// object at build time and the project commits no binaries, and the program is two dozen
/// instructions (docs/DATAPLANE.md, "AF_XDP").
///
/// What it does, frame by frame: an Ethernet frame of type IPv4 whose destination address is in
/// the LPM-trie map of VIPs (/32) and mark-rule networks goes to the AF_XDP socket of the queue
/// it arrived on (`bpf_redirect_map(sockets, rx_queue_index, missing)`), unless the longest
/// matching entry is a "pass" entry (the director's own address inside a mark-rule network);
/// everything else (ARP,
/// the director's own traffic, health-check replies, VRRP, IPv6, runts) is XDP_PASS, so the
/// kernel and lvsd's ARP socket still see it. This is what the AF_PACKET socket filter admits
/// for VIP traffic, minus ARP (which the ARP socket gets from the kernel).
public enum XDPProgram {
    /// XDP actions (enum xdp_action).
    public enum Action: Int32, Sendable {
        case aborted = 0, drop = 1, pass = 2, transmit = 3, redirect = 4
    }

    /// Key of the address map, `struct bpf_lpm_trie_key` with four data bytes: the prefix length
    /// (host order) then the address in network order.
    public static let keySize = 8
    /// The address map's value, one 32-bit word: `redirectValue` for a VIP or network,
    /// `passValue` for an address inside such a network that stays the kernel's (the
    /// director's own: the longest prefix wins, so its /32 overrides a mark rule's /24).
    public static let valueSize = 4
    public static let redirectValue: UInt32 = 1
    public static let passValue: UInt32 = 0

    /// The key for `network` in the address map (a VIP is a /32).
    public static func key(_ network: IPv4Network) -> [UInt8] {
        let length = UInt32(network.prefixLength)
        let a = network.address.value
        return [UInt8(truncatingIfNeeded: length), UInt8(truncatingIfNeeded: length >> 8),
                UInt8(truncatingIfNeeded: length >> 16), UInt8(truncatingIfNeeded: length >> 24),
                UInt8(truncatingIfNeeded: a >> 24), UInt8(truncatingIfNeeded: a >> 16),
                UInt8(truncatingIfNeeded: a >> 8), UInt8(truncatingIfNeeded: a)]
    }

    // Opcodes (linux/bpf.h, bpf_common.h).
    static let loadWord: UInt8 = 0x61          // BPF_LDX | BPF_MEM | BPF_W
    static let loadHalf: UInt8 = 0x69          // BPF_LDX | BPF_MEM | BPF_H
    static let storeWordRegister: UInt8 = 0x63 // BPF_STX | BPF_MEM | BPF_W
    static let storeWordImmediate: UInt8 = 0x62 // BPF_ST | BPF_MEM | BPF_W
    static let moveRegister: UInt8 = 0xBF      // BPF_ALU64 | BPF_MOV | BPF_X
    static let moveImmediate: UInt8 = 0xB7     // BPF_ALU64 | BPF_MOV | BPF_K
    static let addImmediate: UInt8 = 0x07      // BPF_ALU64 | BPF_ADD | BPF_K
    static let jumpGreaterRegister: UInt8 = 0x2D // BPF_JMP | BPF_JGT | BPF_X
    static let jumpNotEqualImmediate: UInt8 = 0x55 // BPF_JMP | BPF_JNE | BPF_K
    static let jumpEqualImmediate: UInt8 = 0x15 // BPF_JMP | BPF_JEQ | BPF_K
    static let call: UInt8 = 0x85
    static let exit: UInt8 = 0x95
    static let loadImmediate64: UInt8 = 0x18   // BPF_LD | BPF_IMM | BPF_DW (two slots)
    /// src_reg of a 64-bit load whose immediate is a map's fd (BPF_PSEUDO_MAP_FD).
    static let pseudoMapFD: UInt8 = 1
    static let helperMapLookup: Int32 = 1      // bpf_map_lookup_elem
    static let helperRedirectMap: Int32 = 51   // bpf_redirect_map

    /// The program, with the fds of its two maps: `addressMap` (LPM trie, `key(_:)`) and
    /// `socketMap` (XSKMAP indexed by receive queue). `missingSocket` is what a VIP frame gets
    /// when its queue has no socket in the map: XDP_PASS in lvsd (the kernel sees what it would
    /// without lvsd); the tests pass XDP_DROP to tell a map hit from a miss.
    public static func instructions(addressMap: Int32, socketMap: Int32,
                                    missingSocket: Action = .pass) -> [BPFInstruction] {
        // Registers: r1 context, then the helpers' arguments; r6 keeps the context across the
        // lookup call; r10 the frame pointer (the key lives at r10-8).
        let etherTypeIPv4 = Int32(UInt16(0x0800).bigEndian)  // loaded in host order from the wire
        var p: [BPFInstruction] = [
            BPFInstruction(code: moveRegister, destination: 6, source: 1),
            BPFInstruction(code: loadWord, destination: 2, source: 1, offset: 0),   // data
            BPFInstruction(code: loadWord, destination: 3, source: 1, offset: 4),   // data_end
            BPFInstruction(code: moveRegister, destination: 4, source: 2),
            // Ethernet header and IPv4 up to its destination address: 14 + 20 bytes.
            BPFInstruction(code: addImmediate, destination: 4, immediate: 34),
            BPFInstruction(code: jumpGreaterRegister, destination: 4, source: 3, offset: -1),  // -> pass
            BPFInstruction(code: loadHalf, destination: 5, source: 2, offset: 12),
            BPFInstruction(code: jumpNotEqualImmediate, destination: 5, offset: -1, immediate: etherTypeIPv4),  // -> pass
            BPFInstruction(code: loadWord, destination: 5, source: 2, offset: 30),  // IPv4 destination
            BPFInstruction(code: storeWordRegister, destination: 10, source: 5, offset: -4),
            BPFInstruction(code: storeWordImmediate, destination: 10, offset: -8, immediate: 32),
        ]
        p += loadMap(register: 1, fd: addressMap)
        p += [
            BPFInstruction(code: moveRegister, destination: 2, source: 10),
            BPFInstruction(code: addImmediate, destination: 2, immediate: -8),
            BPFInstruction(code: call, immediate: helperMapLookup),
            BPFInstruction(code: jumpEqualImmediate, destination: 0, offset: -1, immediate: 0),  // -> pass
            BPFInstruction(code: loadWord, destination: 5, source: 0, offset: 0),   // the value
            BPFInstruction(code: jumpEqualImmediate, destination: 5, offset: -1, immediate: Int32(passValue)),  // -> pass
            BPFInstruction(code: loadWord, destination: 2, source: 6, offset: 16),  // rx_queue_index
        ]
        p += loadMap(register: 1, fd: socketMap)
        p += [
            BPFInstruction(code: moveImmediate, destination: 3, immediate: missingSocket.rawValue),
            BPFInstruction(code: call, immediate: helperRedirectMap),
            BPFInstruction(code: exit),
        ]
        let pass = p.count
        p += [BPFInstruction(code: moveImmediate, destination: 0, immediate: Action.pass.rawValue),
              BPFInstruction(code: exit)]
        // Resolve the jumps to `pass` (marked with offset -1, which no real jump here uses).
        for i in 0..<pass where p[i].offset == -1 && [jumpGreaterRegister, jumpNotEqualImmediate,
                                                          jumpEqualImmediate].contains(p[i].code) {
            p[i].offset = Int16(pass - (i + 1))
        }
        return p
    }

    /// `register = map fd`, a two-slot 64-bit immediate load the kernel rewrites to the map.
    static func loadMap(register: UInt8, fd: Int32) -> [BPFInstruction] {
        [BPFInstruction(code: loadImmediate64, destination: register, source: pseudoMapFD, immediate: fd),
         BPFInstruction(code: 0)]
    }
}
