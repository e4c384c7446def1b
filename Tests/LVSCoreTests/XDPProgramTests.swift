import LVSCore
import Testing

@Suite("XDP program builder")
struct XDPProgramTests {
    @Test("instructions encode as struct bpf_insn: opcode, dst in the low nibble, offset, immediate")
    func encoding() {
        let i = BPFInstruction(code: 0x63, destination: 10, source: 5, offset: -4, immediate: 0)
        #expect(i.encoded == 0x0000_0000_FFFC_5A63)
        let j = BPFInstruction(code: 0xB7, destination: 0, immediate: -1)
        #expect(j.encoded == 0xFFFF_FFFF_0000_00B7)
    }

    @Test("every jump lands on the XDP_PASS tail, and the map loads carry the map fds")
    func jumpsAndMaps() {
        let p = XDPProgram.instructions(addressMap: 7, socketMap: 9)
        let pass = p.count - 2
        #expect(p[pass] == BPFInstruction(code: 0xB7, destination: 0, immediate: 2))
        #expect(p[pass + 1].code == 0x95)
        let jumps = p.enumerated().filter { [0x2D, 0x55, 0x15].contains($0.element.code) }
        #expect(jumps.count == 4)
        for (index, jump) in jumps { #expect(index + 1 + Int(jump.offset) == pass) }
        let maps = p.filter { $0.code == 0x18 }
        #expect(maps.map(\.immediate) == [7, 9])
        #expect(maps.allSatisfy { $0.source == 1 })
    }

    @Test("LPM keys: prefix length in host order, then the address in network order")
    func keys() throws {
        let vip = try #require(IPv4Network(address: IPv4Address(10, 200, 0, 100), prefixLength: 32))
        #expect(XDPProgram.key(vip) == [32, 0, 0, 0, 10, 200, 0, 100])
        let net = try #require(IPv4Network(address: IPv4Address(10, 1, 0, 0), prefixLength: 16))
        #expect(XDPProgram.key(net) == [16, 0, 0, 0, 10, 1, 0, 0])
    }
}
