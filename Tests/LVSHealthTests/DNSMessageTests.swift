@testable import LVSHealth
import Testing

@Suite("DNS messages")
struct DNSMessageTests {
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
}
