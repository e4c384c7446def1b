/// An xtables tool lvs-realserver drives, with the one table it uses.
public enum RuleTool: String, Codable, Sendable {
    case arptables
    case iptables

    /// The table our rules go in.
    public var table: String { self == .arptables ? "filter" : "nat" }
    /// The nftables family the nftables backend keeps that table in.
    public var nftFamily: String { self == .arptables ? "arp" : "ip" }
    /// The arguments that select the table (arptables has only one).
    public var tableArguments: [String] { self == .arptables ? [] : ["-t", "nat"] }
}

/// One change to the host. `apply` performs a list of them and records, for each, the action
/// that undoes it; `revert` performs the recorded undo actions in reverse order.
///
/// Undo actions carry what apply left behind (the value it set, the file contents it wrote),
/// so revert can tell whether someone changed the thing since, and then leave it alone.
public enum HostAction: Codable, Equatable, Sendable, CustomStringConvertible {
    /// `ip addr add ADDRESS/32 dev DEVICE [label LABEL]`
    case addAddress(address: String, device: String, label: String?)
    /// `ip addr del ADDRESS/32 dev DEVICE`
    case removeAddress(address: String, device: String)
    /// Writes `value` to the setting, which holds `expected` before (revert skips the step when
    /// it does not).
    case setSysctl(key: SysctlKey, value: Int, expected: Int)
    case appendRule(tool: RuleTool, rule: FirewallRule)
    case deleteRule(tool: RuleTool, rule: FirewallRule)
    /// `nft delete table FAMILY TABLE`, for the table an nftables-backed tool created for our
    /// first rule; planned only while the table has no rules, no user chains, ACCEPT policies.
    case dropTableIfPristine(tool: RuleTool)
    /// `firewall-cmd [--permanent] --direct --add-rule RULE...`
    case addFirewalldRule(rule: [String], permanent: Bool)
    case removeFirewalldRule(rule: [String], permanent: Bool)
    case makeDirectory(path: String)
    /// Removes the directory if it is empty (it may hold files that are not ours).
    case removeDirectory(path: String)
    case writeFile(path: String, contents: String)
    /// Removes the file if it still holds `contents`.
    case removeFile(path: String, contents: String)
    case makeSymlink(path: String, target: String)
    case removeSymlink(path: String, target: String)

    /// The command an administrator would type for the same change.
    public var description: String {
        switch self {
        case let .addAddress(address, device, label):
            return "ip addr add \(address)/32 dev \(device)" + (label.map { " label \($0)" } ?? "")
        case let .removeAddress(address, device):
            return "ip addr del \(address)/32 dev \(device)"
        case let .setSysctl(key, value, _):
            return "sysctl -w \(key)=\(value)"
        case let .appendRule(tool, rule):
            return ([tool.rawValue] + tool.tableArguments + ["-A", rule.chain] + rule.arguments).joined(separator: " ")
        case let .deleteRule(tool, rule):
            return ([tool.rawValue] + tool.tableArguments + ["-D", rule.chain] + rule.arguments).joined(separator: " ")
        case let .dropTableIfPristine(tool):
            return "nft delete table \(tool.nftFamily) \(tool.table)"
        case let .addFirewalldRule(rule, permanent):
            return "firewall-cmd\(permanent ? " --permanent" : "") --direct --add-rule \(rule.joined(separator: " "))"
        case let .removeFirewalldRule(rule, permanent):
            return "firewall-cmd\(permanent ? " --permanent" : "") --direct --remove-rule \(rule.joined(separator: " "))"
        case let .makeDirectory(path):
            return "mkdir \(path)"
        case let .removeDirectory(path):
            return "rmdir \(path)"
        case let .writeFile(path, _):
            return "write \(path)"
        case let .removeFile(path, _):
            return "rm \(path)"
        case let .makeSymlink(path, target):
            return "ln -s \(target) \(path)"
        case let .removeSymlink(path, _):
            return "rm \(path)"
        }
    }
}

/// One step of an apply plan: the change (if any) and what undoes it (if anything must).
public struct PlannedStep: Equatable, Sendable {
    public var action: HostAction?
    public var undo: HostAction?

    public init(action: HostAction?, undo: HostAction?) {
        self.action = action
        self.undo = undo
    }
}
