/// Where `--persist` writes the files that make the setup survive a reboot.
///
/// Every path is below `root` (`/` on a real host; a scratch directory in tests). The paths
/// inside the files (the unit's ExecStart lines) are the real ones, without the root, as they
/// will be read after a reboot.
public struct PersistenceLayout: Sendable, Equatable {
    public var root: String

    public init(root: String = "/") { self.root = root }

    public static let sysctlFile = "/etc/sysctl.d/90-lvs-realserver.conf"
    public static let configDirectory = "/etc/lvs-realserver"
    public static let arptablesRules = "/etc/lvs-realserver/arptables.rules"
    public static let iptablesRules = "/etc/lvs-realserver/iptables.rules"
    public static let unitName = "lvs-realserver.service"
    public static let unitFile = "/etc/systemd/system/lvs-realserver.service"
    /// What `systemctl enable` would create.
    public static let wantsLink = "/etc/systemd/system/multi-user.target.wants/lvs-realserver.service"
    /// A copy of the state file that survives the reboot (/run does not), so revert still knows
    /// what to undo afterwards.
    public static let stateCopy = "/var/lib/lvs-realserver/state.json"

    /// `path` (absolute, as on the real host) below the root.
    public func hostPath(_ path: String) -> String {
        if root == "/" || root.isEmpty { return path }
        return (root.hasSuffix("/") ? String(root.dropLast()) : root) + path
    }

    /// The real path and its ancestors below the root, outermost first: `/etc/sysctl.d/x` gives
    /// `/etc`, `/etc/sysctl.d`, `/etc/sysctl.d/x`.
    static func ancestors(of path: String) -> [String] {
        var result: [String] = []
        var current = ""
        for component in path.split(separator: "/") {
            current += "/" + component
            result.append(current)
        }
        return result
    }

    /// Every path (real form) the persistence files may touch, for the observer to look at.
    public static var observedPaths: [String] {
        var all: [String] = []
        for p in [sysctlFile, arptablesRules, iptablesRules, unitFile, wantsLink, stateCopy] {
            for a in ancestors(of: p) where !all.contains(a) { all.append(a) }
        }
        return all
    }
}
