import LVSCore

extension KeepalivedInterpreter {
    /// The most addresses one range of a virtual_server_group may stand for: a /16. Each
    /// address becomes a service with all the group's real servers and checkers, so a typo in a
    /// range end must not silently create hundreds of thousands of them.
    static let largestGroupRange: UInt32 = 65536

    /// `virtual_server_group NAME { IP[-range] [PORT] ... ; fwmark N }`: every address of every
    /// range, each with its port (none: port 0, which needs persistence). fwmark entries are
    /// skipped with a warning, as fwmark services are not supported yet. The group's warnings
    /// are kept and given out when the main reading reaches the group, so that warnings come in
    /// file order.
    mutating func readGroup(_ statement: KeepalivedStatement) throws(ConfigurationError) {
        let entries = try block(of: statement)
        guard statement.values.count == 1 else {
            throw error(statement, "virtual_server_group needs one name: virtual_server_group NAME {")
        }
        let name = statement.values[0]
        if let existing = groups[name] {
            throw error(statement, "virtual_server_group '\(name)' is already defined at \(existing.file):\(existing.line)")
        }
        var group = KeepalivedServerGroup(name: name, file: statement.file, line: statement.line)
        for entry in entries {
            if entry.block != nil {
                throw error(entry, "unexpected '{' in virtual_server_group '\(name)': it lists addresses (IP[-range] [PORT]) and fwmarks")
            }
            if entry.keyword == "fwmark" {
                group.warnings.append(ConfigurationWarning(
                    file: entry.file, line: entry.line,
                    message: "'\(entry.spelling)' in virtual_server_group '\(name)': firewall-mark services are not supported by the director yet; this entry is skipped"))
                continue
            }
            guard entry.values.count <= 1 else {
                throw error(entry, "unexpected '\(entry.values.dropFirst().joined(separator: " "))' after '\(entry.keyword) \(entry.values[0])': a group entry is IP[-range] [PORT]")
            }
            guard let range = try addressRange(entry.keyword, entry) else {
                group.warnings.append(ConfigurationWarning(
                    file: entry.file, line: entry.line,
                    message: "'\(entry.spelling)' in virtual_server_group '\(name)' is IPv6: SwiftLVS forwards IPv4 only; this entry is skipped"))
                continue
            }
            let port = try entry.values.first.map { (text: String) throws(ConfigurationError) in try self.port(text, entry) }
            for value in range {
                group.entries.append(KeepalivedServerGroup.Entry(address: IPv4Address(value), port: port, file: entry.file, line: entry.line))
            }
        }
        groups[name] = group
    }

    /// The addresses `a.b.c.d`, `a.b.c.d-e`, `a.b.c.d-w.x.y.z` or `a.b.c.d/n` stand for, as host
    /// order values; nil for an IPv6 entry.
    func addressRange(_ text: String, _ statement: KeepalivedStatement) throws(ConfigurationError) -> ClosedRange<UInt32>? {
        if KeepalivedValues.isIPv6(text) || (text.contains(":") && KeepalivedValues.isIPv6(String(text.split(separator: "/")[0]))) {
            return nil
        }
        let bad = { (why: String) in
            ConfigurationError(file: statement.file, line: statement.line,
                               message: "'\(text)' is not a valid address range (\(why)): expected 10.0.0.1, 10.0.0.1-20, 10.0.0.250-10.0.1.5 or 10.0.0.0/28")
        }
        let range: ClosedRange<UInt32>
        if let slash = text.firstIndex(of: "/") {
            guard let base = IPv4Address(text[..<slash]),
                  let length = KeepalivedValues.unsigned(String(text[text.index(after: slash)...]), in: 0...32) else {
                throw bad("address/prefix length")
            }
            let mask: UInt32 = length == 0 ? 0 : UInt32.max << (32 - UInt32(length))
            range = (base.value & mask)...(base.value | ~mask)
        } else if let dash = text.firstIndex(of: "-") {
            guard let start = IPv4Address(text[..<dash]) else { throw bad("start address") }
            let endText = String(text[text.index(after: dash)...])
            let end: UInt32
            if let full = IPv4Address(endText) {
                end = full.value
            } else if let last = KeepalivedValues.unsigned(endText, in: 0...255) {
                end = start.value & 0xFFFF_FF00 | UInt32(last)
            } else {
                throw bad("end of range")
            }
            guard end >= start.value else { throw bad("the end is before the start") }
            range = start.value...end
        } else if let single = IPv4Address(text) {
            range = single.value...single.value
        } else {
            throw bad("not an IPv4 address")
        }
        guard range.upperBound - range.lowerBound < Self.largestGroupRange else {
            throw bad("\(UInt64(range.upperBound) - UInt64(range.lowerBound) + 1) addresses; at most \(Self.largestGroupRange) per range")
        }
        return range
    }
}
