/// ipvsadm's `print_largenum`: how `--stats` and `--rate` squeeze a 64-bit counter into a
/// 9-byte column (IPVS-SEMANTICS.md §5.6).
///
/// Below 10^8 the number is printed whole; above, it is divided (integer division, so it is
/// truncated, never rounded) and suffixed K, M, G or T, always 9 bytes wide. The thresholds are
/// not powers of 1000 apart (10^8, 10^9, 10^11, 10^14) so that each band keeps at most 8 digits.
/// `--exact` prints the whole number instead, right-aligned in 9 bytes, or with one leading
/// space when it has more than 8 digits, so columns still never touch.
enum LargeNumber {
    static func format(_ value: UInt64, exact: Bool) -> String {
        if exact {
            let digits = String(value)
            let length = digits.utf8.count
            return TextColumn.right(digits, length <= 8 ? 9 : length + 1)
        }
        switch value {
        case ..<100_000_000:
            return TextColumn.right(String(value), 9)
        case ..<1_000_000_000:
            return TextColumn.right(String(value / 1_000), 8) + "K"
        case ..<100_000_000_000:
            return TextColumn.right(String(value / 1_000_000), 8) + "M"
        case ..<100_000_000_000_000:
            return TextColumn.right(String(value / 1_000_000_000), 8) + "G"
        default:
            return TextColumn.right(String(value / 1_000_000_000_000), 8) + "T"
        }
    }
}
