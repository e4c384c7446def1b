import LVSCore
import Testing

@Suite("Partial checksum completion (AF_XDP receive)")
struct PartialChecksumTests {
    /// A TCP SYN 10.200.0.10:34140 -> 10.200.0.100:80 with 20 bytes of options, checksum zero.
    static func syn() -> [UInt8] {
        var f = [UInt8](repeating: 0, count: 74)
        f[12] = 0x08; f[13] = 0x00
        f[14] = 0x45; f[16] = 0; f[17] = 60; f[22] = 64; f[23] = 6
        f[26...29] = [10, 200, 0, 10]; f[30...33] = [10, 200, 0, 100]
        f[34] = 0x85; f[35] = 0x5C; f[36] = 0; f[37] = 80
        f[38...41] = [0x15, 0x83, 0x4F, 0xD4]
        f[46] = 0xA0; f[47] = 0x02; f[48] = 0xFA; f[49] = 0xF0
        for i in 54..<74 { f[i] = UInt8(i) }
        return f
    }

    func with(_ bytes: inout [UInt8], _ body: (FrameBytes) -> Void) {
        bytes.withUnsafeMutableBytes { raw in
            if let base = raw.baseAddress { body(FrameBytes(base: base, count: raw.count)) }
        }
    }

    @Test("a field holding the pseudo-header sum is completed to the segment's checksum")
    func completesPartial() {
        var full = Self.syn()
        var expected: UInt16 = 0
        with(&full) { f in
            let pseudo = InternetChecksum.sum(f, offset: 26, count: 8, initial: 6 + 40)
            expected = ~InternetChecksum.fold(InternetChecksum.sum(f, offset: 34, count: 40, initial: pseudo))
        }
        var partial = Self.syn()
        var done = false
        var result: UInt16 = 0
        with(&partial) { f in
            let pseudo = InternetChecksum.sum(f, offset: 26, count: 8, initial: 6 + 40)
            f.setU16(50, InternetChecksum.fold(pseudo))
            done = PartialChecksum.completeIfPartial(f)
            result = f.u16(50)
        }
        #expect(done)
        #expect(result == expected)
    }

    @Test("a complete checksum, a wrong one and a non-TCP/UDP frame are left alone")
    func leavesOthers() {
        var frame = Self.syn()
        with(&frame) { f in
            let pseudo = InternetChecksum.sum(f, offset: 26, count: 8, initial: 6 + 40)
            let valid = ~InternetChecksum.fold(InternetChecksum.sum(f, offset: 34, count: 40, initial: pseudo))
            f.setU16(50, valid)
            #expect(!PartialChecksum.completeIfPartial(f))
            #expect(f.u16(50) == valid)
            f.setU16(50, 0x1234)
            #expect(!PartialChecksum.completeIfPartial(f))
            #expect(f.u16(50) == 0x1234)
            f.setU8(23, 1)
            #expect(!PartialChecksum.completeIfPartial(f))
        }
    }
}
