import Testing
import LVSCore

/// SipHash-1-3 (the 64-bit kernel's `hsiphash`) against known answers.
///
/// Reference vectors use the key 00 01 … 0f and the messages 00, 00 01, … (the SipHash paper's
/// convention). The 2-4 values are the paper's published vectors; the 1-3 values are the
/// published SipHash-1-3 vectors of firedancer's `fd_siphash13` tests, which agree with an
/// independent Python implementation written for these tests:
///
///     M = 2**64 - 1
///     rotl = lambda x, b: ((x << b) | (x >> (64 - b))) & M
///     def rnd(a, b, c, d):
///         a = (a + b) & M; b = rotl(b, 13) ^ a; a = rotl(a, 32)
///         c = (c + d) & M; d = rotl(d, 16) ^ c
///         a = (a + d) & M; d = rotl(d, 21) ^ a
///         c = (c + b) & M; b = rotl(b, 17) ^ c; c = rotl(c, 32)
///         return a, b, c, d
///     def siphash(k0, k1, msg, c, d):
///         v = [k0 ^ 0x736f6d6570736575, k1 ^ 0x646f72616e646f6d, k0 ^ 0x6c7967656e657261, k1 ^ 0x7465646279746573]
///         full = len(msg) - len(msg) % 8
///         for i in range(0, full, 8):
///             m = int.from_bytes(msg[i:i+8], 'little'); v[3] ^= m
///             for _ in range(c): v = list(rnd(*v))
///             v[0] ^= m
///         b = (len(msg) & 0xff) << 56 | int.from_bytes(msg[full:], 'little')
///         v[3] ^= b
///         for _ in range(c): v = list(rnd(*v))
///         v[0] ^= b; v[2] ^= 0xff
///         for _ in range(d): v = list(rnd(*v))
///         return v[0] ^ v[1] ^ v[2] ^ v[3]
///     hsiphash = lambda x, k: siphash(k, k, x.to_bytes(4, 'little'), 1, 3) & 0xffffffff
@Suite struct SipHash13Tests {
    static let key: (UInt64, UInt64) = (0x0706_0504_0302_0100, 0x0f0e_0d0c_0b0a_0908)
    static func message(_ n: Int) -> [UInt8] { (0..<n).map { UInt8($0) } }

    @Test func sipHash24PublishedVectors() {
        let h = { (n: Int) in SipHash13.hash(Self.message(n), key: Self.key, compressionRounds: 2, finalizationRounds: 4) }
        #expect(h(0) == 0x726f_db47_dd0e_0e31)
        #expect(h(1) == 0x74f8_39c5_93dc_67fd)
        #expect(h(7) == 0xab02_00f5_8b01_d137)
        #expect(h(8) == 0x93f5_f579_9a93_2462)
        #expect(h(15) == 0xa129_ca61_49be_45e5)
        #expect(h(63) == 0x958a_324c_eb06_4572)
    }

    @Test(arguments: [
        (0, 0xabac_0158_050f_c4dc as UInt64), (1, 0xc9f4_9bf3_7d57_ca93), (2, 0x82cb_9b02_4dc7_d44d),
        (3, 0x8bf8_0ab8_e7dd_f7fb), (4, 0xcf75_5760_88d3_8328), (5, 0xdef9_d52f_4953_3b67),
        (7, 0xd392_7d98_9bb1_1140), (8, 0x3690_9511_8d29_9a8e), (9, 0x25a4_8eb3_6c06_3de4),
        (15, 0xd320_d86d_2a51_9956), (16, 0xcc4f_dd1a_7d90_8b66),
    ])
    func sipHash13Vectors(length: Int, expected: UInt64) {
        #expect(SipHash13.hash(Self.message(length), key: Self.key) == expected)
    }

    // With the all-zero key and the empty message (the value other SipHash-1-3 ports publish).
    @Test func zeroKeyEmptyMessage() {
        #expect(SipHash13.hash([], key: (0, 0)) == 0xd1fb_a762_150c_532c)
    }

    // The 4-byte fast path equals the general hash of the value's little-endian bytes, low half.
    @Test(arguments: [0 as UInt32, 1, 0x0a00_0101, 0xc000_0201, 0xffff_ffff])
    func hsiphashIsLowHalfOfSipHash13(value: UInt32) {
        let bytes = withUnsafeBytes(of: value.littleEndian) { Array($0) }
        for key in [MaglevHashScheduler.hash1, MaglevHashScheduler.hash2, Self.key] {
            #expect(SipHash13.hsiphash(value, key: key) == UInt32(truncatingIfNeeded: SipHash13.hash(bytes, key: key)))
        }
    }

    // Kernel mh keys, from the Python above: hsiphash(v, 2654435761) and hsiphash(v, 2654446892).
    @Test func maglevKeysKnownAnswers() {
        let cases: [(UInt32, UInt32, UInt32)] = [
            (0, 492_468_162, 4_169_286_463), (1, 384_591_538, 2_182_130_385),
            (0x0a00_0101, 582_582_192, 2_099_916_710), (0xc000_0201, 2_458_426_504, 3_338_568_677),
            (0xffff_ffff, 583_391_001, 4_149_874_525),
        ]
        for (v, h1, h2) in cases {
            #expect(SipHash13.hsiphash(v, key: MaglevHashScheduler.hash1) == h1)
            #expect(SipHash13.hsiphash(v, key: MaglevHashScheduler.hash2) == h2)
        }
    }
}
