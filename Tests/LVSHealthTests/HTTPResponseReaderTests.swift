@testable import LVSHealth
import Testing

@Suite("HTTP responses")
struct HTTPResponseReaderTests {
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
}
