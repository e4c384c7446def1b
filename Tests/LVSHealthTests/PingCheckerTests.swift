@testable import LVSHealth
import Testing

@Suite("ICMP echo")
struct PingCheckerTests {
    @Test("ICMP echo request checksum")
    func echo() {
        let p = PingChecker.echoRequest(id: 0x0102, sequence: 3)
        #expect(p.count == 24 && p[0] == 8)
        #expect(PingChecker.checksum(p) == 0, "a packet with its checksum sums to zero")
    }
}
