@testable import LVSHealth
import Testing

@Suite("MD5")
struct MD5Tests {
    @Test("MD5: RFC 1321's test suite, and a body fed in pieces")
    func md5() {
        let vectors = [
            ("", "d41d8cd98f00b204e9800998ecf8427e"),
            ("a", "0cc175b9c0f1b6a831c399e269772661"),
            ("abc", "900150983cd24fb0d6963f7d28e17f72"),
            ("message digest", "f96b697d7cb7938d525a2f31aaf161d0"),
            ("abcdefghijklmnopqrstuvwxyz", "c3fcd3d76192e4007dfb496cca67e13b"),
            ("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", "d174ab98d277d9f5a5611c2c9f419d9f"),
            ("12345678901234567890123456789012345678901234567890123456789012345678901234567890", "57edf4a22be3c955ac49da2e2107b67a"),
        ]
        for (text, digest) in vectors { #expect(MD5.hex(Array(text.utf8)) == digest, "\(text)") }
        var m = MD5()
        let long = Array("12345678901234567890123456789012345678901234567890123456789012345678901234567890".utf8)
        for chunk in stride(from: 0, to: long.count, by: 7) { m.update(Array(long[chunk..<min(long.count, chunk + 7)])) }
        #expect(m.finalize() == "57edf4a22be3c955ac49da2e2107b67a")
    }
}
