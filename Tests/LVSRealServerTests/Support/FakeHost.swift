import LVSCore
@testable import LVSRealServer

/// A model of a real server: a `HostState` that `perform` changes the way the real tools
/// would, so apply and revert can be run end to end without touching a host.
final class FakeHost: HostControl {
    var state: HostState
    /// `perform` throws when asked for this action (to test the rollback).
    var failOn: HostAction?
    private(set) var performed: [HostAction] = []

    init(_ state: HostState) { self.state = state }

    func observe(paths: [String]) throws -> HostState { state }

    func perform(_ action: HostAction) throws {
        if action == failOn {
            throw RealServerError(.commandFailed, "simulated failure of `\(action)`")
        }
        performed.append(action)
        switch action {
        case let .addAddress(address, device, label):
            let i = state.interfaces.firstIndex { $0.name == device }!
            state.interfaces[i].addresses.append(InterfaceAddress(address: IPv4Address(address)!, prefixLength: 32, label: label ?? device))
        case let .removeAddress(address, device):
            let i = state.interfaces.firstIndex { $0.name == device }!
            state.interfaces[i].addresses.removeAll { $0.address.description == address && $0.prefixLength == 32 }
        case let .setSysctl(key, value, _):
            state.sysctls[key] = value
        case let .appendRule(tool, rule):
            update(tool) { dump in
                if dump.tables[tool.table] == nil {
                    let chains = tool == .arptables ? ["INPUT", "OUTPUT"] : ["PREROUTING", "INPUT", "OUTPUT", "POSTROUTING"]
                    dump.tables[tool.table] = RuleDump.Table(chains: Dictionary(uniqueKeysWithValues: chains.map { ($0, "ACCEPT") }))
                }
                dump.tables[tool.table]!.rules.append(rule)
            }
        case let .deleteRule(tool, rule):
            update(tool) { dump in
                let i = dump.tables[tool.table]!.rules.firstIndex { $0.matches(rule) }!
                dump.tables[tool.table]!.rules.remove(at: i)
            }
        case let .dropTableIfPristine(tool):
            update(tool) { $0.tables[tool.table] = nil }
        case let .addFirewalldRule(rule, permanent):
            guard case .running(var runtime, var saved) = state.firewalld else { fatalError("firewalld not running") }
            if permanent { saved.append(rule.joined(separator: " ")) } else { runtime.append(rule.joined(separator: " ")) }
            state.firewalld = .running(runtimeRules: runtime, permanentRules: saved)
        case let .removeFirewalldRule(rule, permanent):
            guard case .running(var runtime, var saved) = state.firewalld else { fatalError("firewalld not running") }
            if permanent { saved.removeAll { $0 == rule.joined(separator: " ") } } else { runtime.removeAll { $0 == rule.joined(separator: " ") } }
            state.firewalld = .running(runtimeRules: runtime, permanentRules: saved)
        case let .makeDirectory(path):
            state.paths[path] = .directory
        case let .removeDirectory(path):
            if !state.paths.keys.contains(where: { $0.hasPrefix(path + "/") }) { state.paths[path] = nil }
        case let .writeFile(path, contents):
            state.paths[path] = .file(contents: contents)
        case let .removeFile(path, _), let .removeSymlink(path, _):
            state.paths[path] = nil
        case let .makeSymlink(path, target):
            state.paths[path] = .symlink(target: target)
        }
    }

    private func update(_ tool: RuleTool, _ body: (inout RuleDump) -> Void) {
        if tool == .arptables { body(&state.arptables!.dump) } else { body(&state.iptables!.dump) }
    }
}

/// Hosts as the test bed's real servers look.
enum Hosts {
    static let vip = IPv4Address("10.200.0.100")!
    static let rip = IPv4Address("10.200.0.11")!

    /// A bare real server: eth0 with its address, nothing for the VIP, kernel defaults,
    /// arptables and iptables (nftables backend) installed with empty rule sets, a web server.
    static func bare() -> HostState {
        var sysctls: [SysctlKey: Int] = [:]
        for device in ["all", "default", "lo", "eth0"] {
            for name in SysctlKey.settingNames { sysctls[SysctlKey(device, name)] = 0 }
        }
        return HostState(
            interfaces: [
                HostInterface(name: "lo", flags: ["LOOPBACK", "UP", "LOWER_UP"],
                              addresses: [InterfaceAddress(address: IPv4Address(127, 0, 0, 1), prefixLength: 8, label: "lo", scope: "host")]),
                HostInterface(name: "eth0", flags: ["BROADCAST", "MULTICAST", "UP", "LOWER_UP"],
                              addresses: [InterfaceAddress(address: rip, prefixLength: 24, label: "eth0")]),
            ],
            sysctls: sysctls,
            listeners: [ListeningSocket(transport: .tcp, address: nil, port: 80)],
            arptables: RuleToolState(backend: .nftables, dump: RuleDump()),
            iptables: RuleToolState(backend: .nftables, dump: RuleDump()),
            hasNft: true,
            paths: ["/tmp/root": .directory])
    }

    /// The classic setup done by hand: VIP on lo:0, arp_ignore=1, arp_announce=2.
    static func configured() -> HostState {
        var host = bare()
        host.interfaces[0].addresses.append(InterfaceAddress(address: vip, prefixLength: 32, label: "lo:0"))
        for device in ["all", "eth0"] {
            host.sysctls[SysctlKey(device, "arp_ignore")] = 1
            host.sysctls[SysctlKey(device, "arp_announce")] = 2
        }
        return host
    }

    static func config(_ method: SetupMethod = .sysctl, ports: [ServicePort] = [ServicePort(.tcp, 80)],
                       persist: Bool = false) -> RealServerConfiguration {
        RealServerConfiguration(virtualAddresses: [vip], method: method, interface: "eth0", ports: ports, persist: persist)
    }
}
