extension KeepalivedInterpreter {
    /// Blocks of a `vrrp_instance` that are lists (one address, peer or tracked object a line)
    /// rather than `keyword value` settings.
    static let vrrpListBlocks: Set<String> = [
        "virtual_ipaddress", "virtual_ipaddress_excluded", "virtual_routes", "virtual_rules", "unicast_peer",
        "track_interface", "track_script", "track_process", "track_file", "track_bfd", "track_src_ip",
    ]

    /// `vrrp_instance NAME { ... }`, kept whole (settings in order) for director high
    /// availability; lvsd does not run VRRP from it yet.
    mutating func readVRRPInstance(_ statement: KeepalivedStatement) throws(ConfigurationError) {
        let block = try block(of: statement)
        guard statement.values.count == 1 else {
            throw error(statement, "vrrp_instance needs one name: vrrp_instance NAME {")
        }
        let flat = Self.flattenWithLines(block, prefix: nil)
        vrrpInstances.append(VRRPInstanceBlock(name: statement.values[0], settings: flat.map(\.setting),
                                               file: statement.file, line: statement.line,
                                               settingLines: flat.map(\.line)))
    }

    static func flatten(_ statements: [KeepalivedStatement], prefix: String?) -> [(keyword: String, values: [String])] {
        flattenWithLines(statements, prefix: prefix).map(\.setting)
    }

    /// `flatten`, with the line each setting came from.
    static func flattenWithLines(_ statements: [KeepalivedStatement], prefix: String?)
        -> [(setting: (keyword: String, values: [String]), line: Int)] {
        var settings: [(setting: (keyword: String, values: [String]), line: Int)] = []
        for statement in statements {
            let name = prefix.map { "\($0).\(statement.keyword)" } ?? statement.keyword
            guard let block = statement.block else {
                settings.append(((name, statement.values), statement.line))
                continue
            }
            if !statement.values.isEmpty { settings.append(((name, statement.values), statement.line)) }
            if vrrpListBlocks.contains(statement.keyword) {
                for entry in block {
                    settings.append(((name, [entry.keyword] + entry.values), entry.line))
                    if let inner = entry.block { settings += flattenWithLines(inner, prefix: "\(name).\(entry.keyword)") }
                }
            } else {
                settings += flattenWithLines(block, prefix: name)
            }
        }
        return settings
    }
}
