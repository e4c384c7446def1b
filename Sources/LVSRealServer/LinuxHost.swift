import Foundation

/// The two things the orchestration needs from a host: read its state, make one change.
/// `LinuxHost` does it for real; unit tests use a model of a host.
public protocol HostControl {
    /// Reads everything the planner and the checks look at; `paths` are the persistence paths
    /// (as on disk) to look at too.
    func observe(paths: [String]) throws -> HostState
    /// Makes one change, or throws a `RealServerError` naming the command and what to do.
    func perform(_ action: HostAction) throws
}

/// The executor: reads the host with `ip`, /proc and the rule tools' dumps, and changes it with
/// `ip`, /proc/sys writes, `arptables`, `iptables`, `nft`, `firewall-cmd` and file operations.
/// Thin on purpose: every decision is in `SetupPlanner` and `RealServerCheck`.
public struct LinuxHost: HostControl {
    public var runner: CommandRunner

    public init(runner: CommandRunner = CommandRunner()) { self.runner = runner }

    // MARK: - observe

    public func observe(paths: [String]) throws -> HostState {
        var state = HostState()
        state.interfaces = try HostState.parseInterfaces(
            ipAddrJSON: runner.check("ip", ["-j", "addr", "show"], remedy: "install iproute2"))
        state.defaultRoutes = try HostState.parseDefaultRoutes(
            ipRouteJSON: runner.check("ip", ["-j", "-4", "route", "show", "default"]))
        for device in ["all", "default"] + state.interfaces.map(\.name) {
            for name in SysctlKey.settingNames {
                let key = SysctlKey(device, name)
                if let text = try? String(contentsOfFile: key.procPath, encoding: .utf8), let value = Int(text.trimmingWhitespace()) {
                    state.sysctls[key] = value
                }
            }
        }
        for (file, transport, ipv6) in [("tcp", ServicePort.Transport.tcp, false), ("tcp6", .tcp, true),
                                        ("udp", .udp, false), ("udp6", .udp, true)] {
            if let text = try? String(contentsOfFile: "/proc/net/\(file)", encoding: .utf8) {
                state.listeners += HostState.parseListeners(procNet: text, transport: transport, ipv6: ipv6)
            }
        }
        state.arptables = try ruleTool("arptables")
        state.iptables = try ruleTool("iptables")
        state.hasNft = runner.locate("nft") != nil
        state.firewalld = try firewalld()
        for path in paths {
            if let p = Self.pathState(path) { state.paths[path] = p }
        }
        for tool in ["ip", "arptables", "arptables-restore", "iptables", "iptables-restore"] {
            if let path = runner.locate(tool) { state.toolPaths[tool] = path }
        }
        return state
    }

    /// The tool's backend (from `-V`) and its `-save` dump, or `nil` when it is not installed.
    func ruleTool(_ tool: String) throws -> RuleToolState? {
        guard runner.locate(tool) != nil, runner.locate("\(tool)-save") != nil else { return nil }
        let version = try runner.run(tool, ["-V"])
        let backend: XtablesBackend = (version.stdout + version.stderr).contains("nf_tables") ? .nftables : .legacy
        let dump = try runner.check("\(tool)-save", [],
                                    remedy: "run as root; in a container, \(tool) needs CAP_NET_ADMIN")
        return RuleToolState(backend: backend, dump: try RuleDump(saveOutput: dump))
    }

    func firewalld() throws -> FirewalldState {
        guard runner.locate("firewall-cmd") != nil else { return .notInstalled }
        let state = try runner.run("firewall-cmd", ["--state"])
        let said = (state.stdout + state.stderr).trimmingWhitespace()
        guard state.status == 0, said == "running" else { return .notRunning(String(said)) }
        func rules(_ extra: [String]) throws -> [String] {
            try runner.check("firewall-cmd", extra + ["--direct", "--get-all-rules"])
                .split(separator: "\n").map { $0.split(separator: " ").joined(separator: " ") }
        }
        return .running(runtimeRules: try rules([]), permanentRules: try rules(["--permanent"]))
    }

    static func pathState(_ path: String) -> PathState? {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path) else { return nil }
        switch attributes[.type] as? FileAttributeType {
        case .typeSymbolicLink?:
            return .symlink(target: (try? FileManager.default.destinationOfSymbolicLink(atPath: path)) ?? "")
        case .typeDirectory?:
            return .directory
        default:
            return .file(contents: (try? String(contentsOfFile: path, encoding: .utf8)) ?? "")
        }
    }

    // MARK: - perform

    public func perform(_ action: HostAction) throws {
        switch action {
        case let .addAddress(address, device, label):
            try runner.check("ip", ["addr", "add", "\(address)/32", "dev", device] + (label.map { ["label", $0] } ?? []))
        case let .removeAddress(address, device):
            try runner.check("ip", ["addr", "del", "\(address)/32", "dev", device])
        case let .setSysctl(key, value, _):
            try writeSysctl(key, value)
        case let .appendRule(tool, rule):
            try runner.check(tool.rawValue, tool.tableArguments + ["-A", rule.chain] + rule.arguments,
                             remedy: tool == .arptables ? "check that the kernel has nf_tables with the arp family (or the arp_tables module for arptables-legacy)" : nil)
        case let .deleteRule(tool, rule):
            try runner.check(tool.rawValue, tool.tableArguments + ["-D", rule.chain] + rule.arguments)
        case let .dropTableIfPristine(tool):
            try runner.check("nft", ["delete", "table", tool.nftFamily, tool.table])
        case let .addFirewalldRule(rule, permanent):
            try runner.check("firewall-cmd", (permanent ? ["--permanent"] : []) + ["--direct", "--add-rule"] + rule)
        case let .removeFirewalldRule(rule, permanent):
            try runner.check("firewall-cmd", (permanent ? ["--permanent"] : []) + ["--direct", "--remove-rule"] + rule)
        case let .makeDirectory(path):
            try fileOperation("create directory \(path)") {
                try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false,
                                                        attributes: [.posixPermissions: 0o755])
            }
        case let .removeDirectory(path):
            // Only when empty: something else may have put files there since.
            if rmdir(path) != 0, errno != ENOTEMPTY, errno != EEXIST, errno != ENOENT {
                throw RealServerError(.fileError, "cannot remove directory \(path): \(String(cString: strerror(errno)))")
            }
        case let .writeFile(path, contents):
            try fileOperation("write \(path)") {
                guard FileManager.default.createFile(atPath: path, contents: Data(contents.utf8),
                                                     attributes: [.posixPermissions: 0o644]) else {
                    throw CocoaError(.fileWriteUnknown)
                }
            }
        case let .removeFile(path, _), let .removeSymlink(path, _):
            if unlink(path) != 0, errno != ENOENT {
                throw RealServerError(.fileError, "cannot remove \(path): \(String(cString: strerror(errno)))")
            }
        case let .makeSymlink(path, target):
            try fileOperation("create link \(path)") {
                try FileManager.default.createSymbolicLink(atPath: path, withDestinationPath: target)
            }
        }
    }

    /// Writes /proc/sys directly: the same as `sysctl -w`, without parsing sysctl's names.
    func writeSysctl(_ key: SysctlKey, _ value: Int) throws {
        guard FileManager.default.fileExists(atPath: key.procPath) else {
            throw RealServerError(.fileError, "\(key.procPath) does not exist (no device \(key.device)?)",
                                  remedy: "check the interface name given with --interface")
        }
        guard let handle = FileHandle(forWritingAtPath: key.procPath) else {
            throw RealServerError(.fileError, "cannot open \(key.procPath) for writing (sysctl -w \(key)=\(value))",
                                  remedy: "run as root; in a container, /proc/sys/net must be writable (its own network namespace)")
        }
        defer { try? handle.close() }
        do {
            try handle.write(contentsOf: Data("\(value)\n".utf8))
        } catch {
            throw RealServerError(.fileError, "writing \(value) to \(key.procPath) failed: \(error)",
                                  remedy: "run as root")
        }
    }

    func fileOperation(_ what: String, _ body: () throws -> Void) throws {
        do {
            try body()
        } catch let error as RealServerError {
            throw error
        } catch {
            throw RealServerError(.fileError, "cannot \(what): \(error.localizedDescription)",
                                  remedy: "check the permissions of the persistence root (--persist-root)")
        }
    }
}
