import Testing
import LVSCore

@Suite struct IPv4AddressTests {
    // Dotted quads parse to host-order values: 10.0.0.100 = 0x0A000064.
    @Test(arguments: [("10.0.0.100", UInt32(0x0A00_0064)), ("0.0.0.0", 0), ("255.255.255.255", 0xFFFF_FFFF),
                      ("192.0.2.1", 0xC000_0201), ("1.2.3.4", 0x0102_0304)])
    func parsesDottedQuad(text: String, value: UInt32) {
        #expect(IPv4Address(text)?.value == value)
    }

    // Leading zeros are read as decimal, up to three digits per octet ("010" is 10, not octal 8
    // as inet_aton would read it); a fourth digit is refused even when the value is small.
    @Test func leadingZerosAreDecimal() {
        #expect(IPv4Address("010.001.000.009") == IPv4Address(10, 1, 0, 9))
        #expect(IPv4Address("0010.1.1.1") == nil)
    }

    // Out-of-range octets, wrong octet counts, empty octets, signs, spaces, letters, ports.
    @Test(arguments: ["256.1.1.1", "1.2.3.256", "999.1.1.1", "1.2.3", "1.2.3.4.5", "", "1..3.4", ".1.2.3", "1.2.3.",
                      "...", " 1.2.3.4", "1.2.3.4 ", "1. 2.3.4", "+1.2.3.4", "-1.2.3.4", "1.2.3.a", "0x1.2.3.4",
                      "1.2.3.4:80", "167772260", "10", "1.2.3.4\n"])
    func rejectsMalformed(text: String) {
        #expect(IPv4Address(text) == nil)
    }

    // Substrings parse too (the rules parser hands it slices).
    @Test func parsesSubstring() {
        let s = "10.0.0.1:80"
        #expect(IPv4Address(s.split(separator: ":")[0]) == IPv4Address(10, 0, 0, 1))
    }

    // description prints the dotted quad back; ordering follows the numeric value.
    @Test func descriptionAndOrder() {
        #expect(IPv4Address(0xC000_0201).description == "192.0.2.1")
        #expect(IPv4Address(10, 0, 0, 2) < IPv4Address(10, 0, 0, 10))
        #expect(IPv4Address(9, 255, 255, 255) < IPv4Address(10, 0, 0, 0))
        #expect(IPv4Address.any.value == 0)
    }
}
