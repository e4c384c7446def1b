import LVSCore

/// Static real-server MAC entries in the /etc/ethers format (`MAC IPv4` per line, `#`
/// comments), for segments where the director should not, or cannot, ARP for them.
public enum StaticNeighbors {
    public static func load(path: String) throws(ConfigurationError) -> [IPv4Address: MACAddress] {
        try parse(readConfigurationFile(path, what: "the neighbours file"), file: path)
    }

    public static func parse(_ text: String, file: String) throws(ConfigurationError) -> [IPv4Address: MACAddress] {
        var entries: [IPv4Address: MACAddress] = [:]
        var lineNumber = 0
        for raw in lines(of: text) {
            lineNumber += 1
            let line = raw.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" })
            if fields.isEmpty { continue }
            guard fields.count == 2 else {
                throw ConfigurationError(file: file, line: lineNumber, message: "expected `MAC IPv4-address`, got \(fields.count) fields")
            }
            guard let mac = MACAddress(fields[0]), !mac.isMulticast, mac != .zero else {
                throw ConfigurationError(file: file, line: lineNumber, message: "'\(fields[0])' is not a unicast MAC address (expected aa:bb:cc:dd:ee:ff)")
            }
            guard let address = IPv4Address(fields[1]) else {
                throw ConfigurationError(file: file, line: lineNumber, message: "'\(fields[1])' is not an IPv4 address (host names are not resolved)")
            }
            entries[address] = mac
        }
        return entries
    }
}
