import Testing
import LVSCore

@Suite struct MACAddressTests {
    // Colon or dash separated, either case, one or two hex digits per byte (as /etc/ethers allows).
    @Test(arguments: [("02:00:00:00:01:0a", UInt64(0x0200_0000_010A)), ("02-00-00-00-01-0A", 0x0200_0000_010A),
                      ("AA:bb:Cc:dD:ee:FF", 0xAABB_CCDD_EEFF), ("2:0:0:0:1:a", 0x0200_0000_010A),
                      ("ff:ff:ff:ff:ff:ff", 0xFFFF_FFFF_FFFF)])
    func parses(text: String, value: UInt64) {
        #expect(MACAddress(text)?.value == value)
    }

    // Wrong byte counts, empty bytes (doubled, leading or trailing separators), 3-digit
    // bytes, non-hex, signs and spaces are refused.
    @Test(arguments: ["", "02:00:00:00:01", "02:00:00:00:01:0a:0b", "02::00:00:01:0a:0b", "02:00::00:00:01:0a",
                      ":02:00:00:00:01:0a", "02:00:00:00:01:0a:", "002:00:00:00:01:0a", "g2:00:00:00:01:0a",
                      "+2:00:00:00:01:0a", "-2:00:00:00:01:0a", " 02:00:00:00:01:0a", "02:00:00:00:01:0a ",
                      "02 00 00 00 01 0a", "0200.0000.010a", "02:00:00:00:01:-a"])
    func rejectsMalformed(text: String) {
        #expect(MACAddress(text) == nil)
    }

    // Printing gives two lower-case digits per byte; byte(i) counts from the first transmitted byte.
    @Test func descriptionAndBytes() {
        let mac = MACAddress(bytes: (0x02, 0x0A, 0x00, 0xFF, 0x10, 0x01))
        #expect(mac.description == "02:0a:00:ff:10:01")
        #expect(mac.byte(0) == 0x02)
        #expect(mac.byte(5) == 0x01)
        #expect(MACAddress(mac.description) == mac)
    }

    // The group bit is the low bit of the first byte: 01:00:5e:… and broadcast are multicast, 02:… is not.
    @Test func multicastBit() {
        #expect(MACAddress("01:00:5e:00:00:01")!.isMulticast)
        #expect(MACAddress.broadcast.isMulticast)
        #expect(!MACAddress("02:00:00:00:00:01")!.isMulticast)
        #expect(!MACAddress.zero.isMulticast)
    }

    // init(value:) keeps only 48 bits.
    @Test func valueIsMaskedTo48Bits() {
        #expect(MACAddress(value: 0xFFFF_0200_0000_0001).value == 0x0200_0000_0001)
    }
}
