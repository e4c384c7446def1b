/// SipHash-1-3, the keyed hash behind the kernel's `hsiphash` on 64-bit machines.
///
/// The mh scheduler (ip_vs_mh.c) places servers and clients with `hsiphash`, and on a 64-bit
/// kernel lib/siphash.c implements that as SipHash with one compression round and three
/// finalisation rounds, returning the low 32 bits of `v0 ^ v1 ^ v2 ^ v3`. Reproducing it bit for
/// bit is what lets every SwiftLVS director, and a kernel director, build the same Maglev table
/// from the same server list. It is a hash-table hash, not a MAC: SipHash-1-3 is not meant to
/// resist a determined attacker, and mh uses fixed public keys anyway.
public enum SipHash13 {
    /// `hsiphash(&v, 4, key)` for a 32-bit value, as a 64-bit little-endian kernel computes it:
    /// the four bytes of `v` in memory order become the final block, with the length (4) in the
    /// top byte. The key is the kernel's `hsiphash_key_t`, two `unsigned long`s.
    @inlinable
    public static func hsiphash(_ value: UInt32, key: (UInt64, UInt64)) -> UInt32 {
        var s = State(key: key)
        let b = UInt64(4) << 56 | UInt64(value)
        s.v3 ^= b
        s.round()
        s.v0 ^= b
        s.v2 ^= 0xff
        s.round()
        s.round()
        s.round()
        return UInt32(truncatingIfNeeded: s.v0 ^ s.v1 ^ s.v2 ^ s.v3)
    }

    /// SipHash-1-3 of `message` with the 128-bit key `(k0, k1)` (k0 is the first eight key bytes
    /// read little-endian).
    public static func hash(_ message: [UInt8], key: (UInt64, UInt64)) -> UInt64 {
        hash(message, key: key, compressionRounds: 1, finalizationRounds: 3)
    }

    /// SipHash-c-d for any round counts. Only c = 1, d = 3 is used by the schedulers; the general
    /// form exists so that the tests can check this code against the published SipHash-2-4
    /// reference vectors as well as the 1-3 ones.
    public static func hash(_ message: [UInt8], key: (UInt64, UInt64),
                            compressionRounds c: Int, finalizationRounds d: Int) -> UInt64 {
        var s = State(key: key)
        let n = message.count
        let whole = n - n % 8
        var i = 0
        while i < whole {
            var m: UInt64 = 0
            for j in 0..<8 { m |= UInt64(message[i + j]) << (8 * UInt64(j)) }
            s.v3 ^= m
            for _ in 0..<c { s.round() }
            s.v0 ^= m
            i += 8
        }
        var b = UInt64(truncatingIfNeeded: n) << 56
        for j in 0..<(n - whole) { b |= UInt64(message[whole + j]) << (8 * UInt64(j)) }
        s.v3 ^= b
        for _ in 0..<c { s.round() }
        s.v0 ^= b
        s.v2 ^= 0xff
        for _ in 0..<d { s.round() }
        return s.v0 ^ s.v1 ^ s.v2 ^ s.v3
    }

    /// The four-word SipHash state and its ARX round (`SIPHASH_PERMUTATION`).
    @usableFromInline
    struct State {
        @usableFromInline var v0: UInt64
        @usableFromInline var v1: UInt64
        @usableFromInline var v2: UInt64
        @usableFromInline var v3: UInt64

        /// "somepseudorandomlygeneratedbytes", xored with the key as `PREAMBLE` does.
        @inlinable
        init(key: (UInt64, UInt64)) {
            v0 = 0x736f_6d65_7073_6575 ^ key.0
            v1 = 0x646f_7261_6e64_6f6d ^ key.1
            v2 = 0x6c79_6765_6e65_7261 ^ key.0
            v3 = 0x7465_6462_7974_6573 ^ key.1
        }

        /// Always inlined, like `rotl`: mh hashes every server twice per table build.
        @inlinable @inline(__always)
        mutating func round() {
            v0 &+= v1; v1 = Self.rotl(v1, 13); v1 ^= v0; v0 = Self.rotl(v0, 32)
            v2 &+= v3; v3 = Self.rotl(v3, 16); v3 ^= v2
            v0 &+= v3; v3 = Self.rotl(v3, 21); v3 ^= v0
            v2 &+= v1; v1 = Self.rotl(v1, 17); v1 ^= v2; v2 = Self.rotl(v2, 32)
        }

        /// Masking shifts, always inlined: with `<<`/`>>` the optimiser kept the over-shift
        /// checks, outlined this into a call per rotation, and a hash cost ~400 instructions.
        /// `bits` is 13, 16, 17, 21 or 32 here, where both forms agree.
        @inlinable @inline(__always)
        static func rotl(_ x: UInt64, _ bits: UInt64) -> UInt64 { x &<< bits | x &>> (64 &- bits) }
    }
}
