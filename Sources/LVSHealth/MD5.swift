/// MD5 (RFC 1321), incremental: what HTTP_GET's `digest` compares (keepalived's genhash prints
/// it). Written here because the only packaged implementation, swift-crypto, would bring
/// BoringSSL into the build for 100 lines of arithmetic. Not for anything that needs security.
struct MD5 {
    private var a: UInt32 = 0x6745_2301
    private var b: UInt32 = 0xefcd_ab89
    private var c: UInt32 = 0x98ba_dcfe
    private var d: UInt32 = 0x1032_5476
    private var buffer = [UInt8](repeating: 0, count: 64)
    private var buffered = 0
    private var length: UInt64 = 0

    init() {}

    /// Per-round left rotations.
    private static let shifts: [UInt32] = [
        7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22, 7, 12, 17, 22,
        5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20, 5, 9, 14, 20,
        4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23, 4, 11, 16, 23,
        6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21, 6, 10, 15, 21,
    ]

    /// floor(abs(sin(i + 1)) × 2^32).
    private static let constants: [UInt32] = [
        0xd76a_a478, 0xe8c7_b756, 0x2420_70db, 0xc1bd_ceee, 0xf57c_0faf, 0x4787_c62a, 0xa830_4613, 0xfd46_9501,
        0x6980_98d8, 0x8b44_f7af, 0xffff_5bb1, 0x895c_d7be, 0x6b90_1122, 0xfd98_7193, 0xa679_438e, 0x49b4_0821,
        0xf61e_2562, 0xc040_b340, 0x265e_5a51, 0xe9b6_c7aa, 0xd62f_105d, 0x0244_1453, 0xd8a1_e681, 0xe7d3_fbc8,
        0x21e1_cde6, 0xc337_07d6, 0xf4d5_0d87, 0x455a_14ed, 0xa9e3_e905, 0xfcef_a3f8, 0x676f_02d9, 0x8d2a_4c8a,
        0xfffa_3942, 0x8771_f681, 0x6d9d_6122, 0xfde5_380c, 0xa4be_ea44, 0x4bde_cfa9, 0xf6bb_4b60, 0xbebf_bc70,
        0x289b_7ec6, 0xeaa1_27fa, 0xd4ef_3085, 0x0488_1d05, 0xd9d4_d039, 0xe6db_99e5, 0x1fa2_7cf8, 0xc4ac_5665,
        0xf429_2244, 0x432a_ff97, 0xab94_23a7, 0xfc93_a039, 0x655b_59c3, 0x8f0c_cc92, 0xffef_f47d, 0x8584_5dd1,
        0x6fa8_7e4f, 0xfe2c_e6e0, 0xa301_4314, 0x4e08_11a1, 0xf753_7e82, 0xbd3a_f235, 0x2ad7_d2bb, 0xeb86_d391,
    ]

    mutating func update(_ bytes: UnsafeRawBufferPointer) {
        length &+= UInt64(bytes.count)
        var i = 0
        while i < bytes.count {
            let n = min(64 - buffered, bytes.count - i)
            for j in 0..<n { buffer[buffered + j] = bytes[i + j] }
            buffered += n
            i += n
            if buffered == 64 {
                compress()
                buffered = 0
            }
        }
    }

    mutating func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { update($0) }
    }

    /// The digest as 32 lowercase hex digits; the value is spent afterwards.
    mutating func finalize() -> String {
        let bits = length &* 8
        var padding: [UInt8] = [0x80]
        let afterMarker = (Int(length % 64) + 1) % 64
        let zeros = afterMarker <= 56 ? 56 - afterMarker : 120 - afterMarker
        padding += [UInt8](repeating: 0, count: zeros)
        for k in 0..<8 { padding.append(UInt8(truncatingIfNeeded: bits >> (8 * UInt64(k)))) }
        let saved = length
        update(padding)
        length = saved
        var hex = ""
        for word in [a, b, c, d] {
            for k in 0..<4 {
                let byte = UInt8(truncatingIfNeeded: word >> (8 * UInt32(k)))
                hex += String(byte >> 4, radix: 16) + String(byte & 0xf, radix: 16)
            }
        }
        return hex
    }

    static func hex(_ bytes: [UInt8]) -> String {
        var m = MD5()
        m.update(bytes)
        return m.finalize()
    }

    private mutating func compress() {
        var m = [UInt32](repeating: 0, count: 16)
        for k in 0..<16 {
            m[k] = UInt32(buffer[4 * k]) | UInt32(buffer[4 * k + 1]) << 8
                | UInt32(buffer[4 * k + 2]) << 16 | UInt32(buffer[4 * k + 3]) << 24
        }
        var aa = a, bb = b, cc = c, dd = d
        for i in 0..<64 {
            var f: UInt32
            let g: Int
            switch i {
            case 0..<16:
                f = (bb & cc) | (~bb & dd)
                g = i
            case 16..<32:
                f = (dd & bb) | (~dd & cc)
                g = (5 * i + 1) % 16
            case 32..<48:
                f = bb ^ cc ^ dd
                g = (3 * i + 5) % 16
            default:
                f = cc ^ (bb | ~dd)
                g = (7 * i) % 16
            }
            f = f &+ aa &+ Self.constants[i] &+ m[g]
            aa = dd
            dd = cc
            cc = bb
            let s = Self.shifts[i]
            bb = bb &+ ((f << s) | (f >> (32 - s)))
        }
        a = a &+ aa
        b = b &+ bb
        c = c &+ cc
        d = d &+ dd
    }
}
