import Testing
import LVSCore
@testable import LVSConfig

/// The value syntaxes of keepalived.conf(5) ("PARAMETER SYNTAX", UDP_CHECK's HEX_STR, scripts).
@Suite struct KeepalivedValuesTests {
    @Test func timersTakeFractions() {
        #expect(KeepalivedValues.timer("3") == 3)
        #expect(KeepalivedValues.timer("2.71828") == 2.71828)
        #expect(KeepalivedValues.timer(".5") == 0.5)
        #expect(KeepalivedValues.timer("1.") == 1)
        for bad in ["", ".", "-1", "1e3", "3s", "1.2.3", " 3", "nan"] {
            #expect(KeepalivedValues.timer(bad) == nil, "\(bad)")
        }
    }

    @Test func unsignedNumbersAreDecimalOnly() {
        #expect(KeepalivedValues.uint32("65535", in: 0...65535) == 65535)
        #expect(KeepalivedValues.uint32("65536", in: 0...65535) == nil)
        #expect(KeepalivedValues.uint32("+1") == nil)
        #expect(KeepalivedValues.uint32("0x10") == nil)
        #expect(KeepalivedValues.uint32("99999999999") == nil)
    }

    @Test func booleans() {
        #expect(["on", "true", "YES"].map(KeepalivedValues.bool) == [true, true, true])
        #expect(["off", "False", "no"].map(KeepalivedValues.bool) == [false, false, false])
        #expect(KeepalivedValues.bool("1") == nil)
    }

    // The man page's own example: "Ab12f 3 456 546443123" is AB 12 0F 03 45 06 54 64 43 12 03.
    @Test func hexStringsAreReadTwoDigitsAtATimePerWord() {
        #expect(KeepalivedValues.hexBytes(["Ab12f", "3", "456", "546443123"])
                == [0xAB, 0x12, 0x0F, 0x03, 0x45, 0x06, 0x54, 0x64, 0x43, 0x12, 0x03])
        #expect(KeepalivedValues.hexBytes(["70696e67"]) == Array("ping".utf8))
        #expect(KeepalivedValues.hexBytes(["0g"]) == nil)
    }

    // keepalived.conf(5): `"/etc/keepalived/notify_event.sh ' spaces\\x20f\x69le ' '\"s p a c e \"' ..."`
    // gives the arguments ' spaces\x20file ' and '"s p a c e "' once the config's quotes are read.
    @Test func scriptsSplitAtUnquotedSpaces() throws {
        let line = #"notify_up "/etc/keepalived/notify_event.sh ' spaces\\x20f\x69le ' '\"s p a c e \"' SG1.low master""#
        let words = try KeepalivedTokenizer.tokenize(line: Substring(line), file: "t", number: 1).map(\.text)
        #expect(KeepalivedValues.scriptArguments(words[1])
                == ["/etc/keepalived/notify_event.sh", #" spaces\x20file "#, #""s p a c e ""#, "SG1.low", "master"])
        #expect(KeepalivedValues.scriptArguments("  /bin/check\t-p 80  ") == ["/bin/check", "-p", "80"])
        #expect(KeepalivedValues.scriptArguments(#"/bin/x a\ b "" ''"#) == ["/bin/x", "a b", "", ""])
    }

    @Test func granularityIsAMaskOrAPrefixLength() {
        #expect(KeepalivedValues.netmask("255.255.255.0") == IPv4Address(255, 255, 255, 0))
        #expect(KeepalivedValues.netmask("24") == IPv4Address(255, 255, 255, 0))
        #expect(KeepalivedValues.netmask("32") == IPv4Address(255, 255, 255, 255))
        #expect(KeepalivedValues.netmask("0") == IPv4Address(0))
        #expect(KeepalivedValues.netmask("33") == nil)
        #expect(KeepalivedValues.netmask("255.255.0") == nil)
    }

    @Test func ipv6LiteralsAreRecognised() {
        #expect(KeepalivedValues.isIPv6("2001:db8::1"))
        #expect(KeepalivedValues.isIPv6("fe80::1%eth0"))
        #expect(!KeepalivedValues.isIPv6("10.0.0.1"))
        #expect(!KeepalivedValues.isIPv6("a:b:c"))
    }

    @Test func suggestionsForMisspeltKeywords() {
        #expect(KeepalivedKeywords.suggestion(for: "weigth", in: KeepalivedKeywords.realServer) == "weight")
        #expect(KeepalivedKeywords.suggestion(for: "delay_lop", in: KeepalivedKeywords.virtualServer) == "delay_loop")
        #expect(KeepalivedKeywords.suggestion(for: "lb_kinds", in: KeepalivedKeywords.virtualServer) == "lb_kind")
        #expect(KeepalivedKeywords.suggestion(for: "completely_different", in: KeepalivedKeywords.virtualServer) == nil)
    }
}
