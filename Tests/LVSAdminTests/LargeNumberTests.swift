import Testing
@testable import LVSAdmin

/// `print_largenum` at each edge of its bands, with and without `--exact`.
@Suite struct LargeNumberTests {
    @Test(arguments: [
        (UInt64(0), "        0"),
        (99_999_999, " 99999999"),
        (100_000_000, "  100000K"),
        (999_999_999, "  999999K"),
        (1_000_000_000, "    1000M"),
        (99_999_999_999, "   99999M"),
        (100_000_000_000, "     100G"),
        (99_999_999_999_999, "   99999G"),
        (100_000_000_000_000, "     100T"),
        // Eight digits of T fill all 9 bytes: the column touches the one before it.
        (UInt64.max, "18446744T"),
    ])
    func abbreviated(value: UInt64, expected: String) {
        #expect(LargeNumber.format(value, exact: false) == expected)
    }

    @Test(arguments: [
        (UInt64(0), "        0"),
        (12_345_678, " 12345678"),
        (123_456_789, " 123456789"),
        (UInt64.max, " 18446744073709551615"),
    ])
    func exact(value: UInt64, expected: String) {
        #expect(LargeNumber.format(value, exact: true) == expected)
    }
}
