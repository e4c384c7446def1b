@testable import LVSHealth
import Testing

@Suite("MD5, DNS messages, HTTP responses")
struct MessageTests {
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

    @Test("DNS: the query's bytes, and which responses count")
    func dns() {
        #expect(DNSMessage.query(id: 0x1234, name: ".", type: 6) == [0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 6, 0, 1])
        let q = DNSMessage.query(id: 7, name: "example.com.", type: 1)!
        #expect(Array(q[12...]) == [7] + Array("example".utf8) + [3] + Array("com".utf8) + [0, 0, 1, 0, 1])
        #expect(DNSMessage.query(id: 1, name: String(repeating: "a", count: 64), type: 1) == nil)
        #expect(DNSMessage.query(id: 1, name: "a..b", type: 1) == nil)

        func verdict(_ bytes: [UInt8], id: UInt16) -> DNSMessage.Verdict { bytes.withUnsafeBytes { DNSMessage.verdict($0, id: id) } }
        var response = q
        response[2] |= 0x80
        #expect(verdict(response, id: 7) == .answer)
        #expect(verdict(response, id: 8) == .notOurs)
        #expect(verdict(q, id: 7) == .notOurs, "a query is not an answer")
        var servfail = response
        servfail[3] = 0x82
        #expect(verdict(servfail, id: 7) == .bad("response code SERVFAIL"))
        #expect(verdict(Array(response.prefix(20)), id: 7) == .bad("malformed response (question section)"))
    }

    @Test("HTTP: status, Content-Length, a body split anywhere, the end of the stream")
    func httpReader() {
        let body = "hello world\n"
        let response = Array("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)".utf8)
        for split in [1, 5, 17, 40, response.count - 3] {
            var r = HTTPResponseReader(wantsDigest: true)
            let first = response[..<split].withUnsafeBytes { r.consume($0) }
            let second = response[split...].withUnsafeBytes { r.consume($0) }
            #expect(first == .needMore, "split \(split)")
            #expect(second == .done(status: 200, digest: MD5.hex(Array(body.utf8))), "split \(split)")
        }
        var noLength = HTTPResponseReader(wantsDigest: true)
        #expect(Array("HTTP/1.0 503 Busy\r\n\r\nbody".utf8).withUnsafeBytes { noLength.consume($0) } == .needMore)
        #expect(noLength.endOfStream() == .done(status: 503, digest: MD5.hex(Array("body".utf8))))
        var statusOnly = HTTPResponseReader(wantsDigest: false)
        #expect(Array("HTTP/1.0 404 Not Found\r\nContent-Length: 100\r\n\r\n".utf8).withUnsafeBytes { statusOnly.consume($0) } == .done(status: 404, digest: nil))
        var bad = HTTPResponseReader(wantsDigest: false)
        #expect(Array("SSH-2.0-OpenSSH\r\n\r\n".utf8).withUnsafeBytes { bad.consume($0) } == .malformed("bad status line 'SSH-2.0-OpenSSH'"))
        var short = HTTPResponseReader(wantsDigest: true)
        _ = Array("HTTP/1.0 200 OK\r\nContent-Length: 10\r\n\r\nabc".utf8).withUnsafeBytes { short.consume($0) }
        #expect(short.endOfStream() == .malformed("connection closed after 3 of 10 body bytes"))
        #expect(HTTPChecker.request(path: "/health", host: "10.0.0.1") == Array("GET /health HTTP/1.0\r\nUser-Agent: KeepAliveClient\r\nHost: 10.0.0.1\r\nConnection: close\r\n\r\n".utf8))
    }

    @Test("ICMP echo request checksum")
    func echo() {
        let p = PingChecker.echoRequest(id: 0x0102, sequence: 3)
        #expect(p.count == 24 && p[0] == 8)
        #expect(PingChecker.checksum(p) == 0, "a packet with its checksum sums to zero")
    }
}
