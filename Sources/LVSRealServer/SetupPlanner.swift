import LVSCore

/// The pure part of apply and revert: desired configuration plus observed host state in, the
/// list of changes (each with its undo) out. Nothing here touches the host.
public enum SetupPlanner {
    /// `arp_ignore` values (as the kernel reads them: max of `all` and the device) that keep the
    /// host from answering ARP for an address it holds on another device: 1 (only addresses on
    /// the incoming interface), 2 (same, and the sender in its subnet), 8 (never). 0 and the
    /// reserved 4-7 answer; 3 answers for any address of global scope.
    public static let protectiveARPIgnore: Set<Int> = [1, 2, 8]

    // MARK: - apply

    /// The steps that establish `config` on `host`, in a safe order: ARP is silenced (sysctls,
    /// arptables rules) before a VIP appears, so there is no moment in which the host answers
    /// for it; revert undoes in reverse, so the VIP is gone before ARP is let loose again.
    /// Steps for things already in place are left out, so planning again after an apply gives
    /// nothing to do.
    ///
    /// - Throws: `RealServerError` when the method cannot be used here (tool missing, firewalld
    ///   not running, a VIP where the method cannot leave it, a file that is not ours).
    public static func planApply(_ config: RealServerConfiguration, host: HostState,
                                 layout: PersistenceLayout = PersistenceLayout()) throws -> [PlannedStep] {
        guard !config.virtualAddresses.isEmpty else {
            throw RealServerError(.invalidArgument, "no VIP given", remedy: "pass --vip VIP[,VIP...]")
        }
        guard let interface = host.interface(named: config.interface) else {
            throw RealServerError(.invalidArgument, "no interface '\(config.interface)' on this host (it has: \(host.interfaces.map(\.name).joined(separator: ", ")))",
                                  remedy: "pass --interface with the interface that faces the director")
        }
        if config.method == .iptables || config.method == .firewalld, config.ports.isEmpty {
            throw RealServerError(.invalidArgument, "--method \(config.method) redirects per port, and no --ports were given",
                                  remedy: "pass the service ports, e.g. --ports 80,443 (UDP as 53/udp)")
        }
        try checkAddressPlacement(config, host: host)

        var steps: [PlannedStep] = []
        switch config.method {
        case .sysctl:
            steps += sysctlSteps(config, host: host)
            steps += addressSteps(config, host: host, device: "lo")
        case .arptables:
            guard let tool = host.arptables else {
                throw RealServerError(.toolMissing, "--method arptables needs arptables, which is not installed",
                                      remedy: "apt-get install arptables (or dnf install arptables), or use --method sysctl")
            }
            guard let rip = config.realServerAddress ?? interface.primaryAddress else {
                throw RealServerError(.invalidArgument, "\(interface.name) has no IPv4 address to put in this host's ARP requests in place of the VIP",
                                      remedy: "give the interface its address first, or pass --rip ADDRESS")
            }
            steps += ruleSteps(tool: .arptables, state: tool, rules: arptablesRules(config, rip: rip))
            steps += addressSteps(config, host: host, device: interface.name)
        case .iptables:
            guard let tool = host.iptables else {
                throw RealServerError(.toolMissing, "--method iptables needs iptables, which is not installed",
                                      remedy: "apt-get install iptables (or dnf install iptables), or use --method sysctl")
            }
            steps += ruleSteps(tool: .iptables, state: tool, rules: iptablesRules(config))
        case .firewalld:
            switch host.firewalld {
            case .notInstalled:
                throw RealServerError(.toolMissing, "--method firewalld needs firewall-cmd, which is not installed; nothing was changed",
                                      remedy: "install and start firewalld, or use --method iptables (the same REDIRECT rule without firewalld)")
            case let .notRunning(said):
                throw RealServerError(.firewalldNotRunning,
                                      "--method firewalld needs a running firewalld; `firewall-cmd --state` said: \(said.isEmpty ? "(nothing)" : said); nothing was changed",
                                      remedy: "start it (systemctl start firewalld), or use --method iptables (the same REDIRECT rule without firewalld)")
            case let .running(runtime, permanent):
                for rule in firewalldRules(config) {
                    if !runtime.contains(rule.joined(separator: " ")) {
                        steps.append(PlannedStep(action: .addFirewalldRule(rule: rule, permanent: false),
                                                 undo: .removeFirewalldRule(rule: rule, permanent: false)))
                    }
                    if config.persist, !permanent.contains(rule.joined(separator: " ")) {
                        steps.append(PlannedStep(action: .addFirewalldRule(rule: rule, permanent: true),
                                                 undo: .removeFirewalldRule(rule: rule, permanent: true)))
                    }
                }
            }
        }
        if config.persist {
            steps += try persistenceSteps(config, host: host, layout: layout, rip: config.realServerAddress ?? interface.primaryAddress)
        }
        return steps
    }

    /// Refuses a VIP the method would leave answering ARP: on an ARP-speaking interface it
    /// only belongs with the arptables method, which drops the requests.
    static func checkAddressPlacement(_ config: RealServerConfiguration, host: HostState) throws {
        guard config.method != .arptables else { return }
        for vip in config.virtualAddresses {
            for (holder, _) in host.holders(of: vip) where holder.speaksARP {
                let instead = config.method == .sysctl ? "with --method sysctl it belongs on lo" : "with --method \(config.method) it needs no address at all"
                throw RealServerError(.conflict, "VIP \(vip) is on \(holder.name), where this host answers ARP for it; \(instead). Nothing was changed",
                                      remedy: "remove it (ip addr del \(vip)/32 dev \(holder.name)) and apply again, or use --method arptables")
            }
        }
    }

    /// `arp_ignore` to 1 and `arp_announce` to 2 on `all` and the interface, where the value
    /// there is not already one that protects (a stricter `arp_ignore` of 2 or 8 is kept).
    static func sysctlSteps(_ config: RealServerConfiguration, host: HostState) -> [PlannedStep] {
        var steps: [PlannedStep] = []
        for (name, target) in [("arp_ignore", 1), ("arp_announce", 2)] {
            for device in ["all", config.interface] {
                let key = SysctlKey(device, name)
                let current = host.sysctls[key] ?? 0
                let fine = name == "arp_ignore" ? protectiveARPIgnore.contains(current) : current == 2
                if !fine {
                    steps.append(PlannedStep(action: .setSysctl(key: key, value: target, expected: current),
                                             undo: .setSysctl(key: key, value: current, expected: target)))
                }
            }
        }
        return steps
    }

    /// The value each ARP setting will have once `sysctlSteps` ran (what --persist writes).
    static func sysctlTargets(_ config: RealServerConfiguration, host: HostState) -> [(SysctlKey, Int)] {
        var result: [(SysctlKey, Int)] = []
        for (name, target) in [("arp_ignore", 1), ("arp_announce", 2)] {
            for device in ["all", config.interface] {
                let key = SysctlKey(device, name)
                let current = host.sysctls[key] ?? 0
                let fine = name == "arp_ignore" ? protectiveARPIgnore.contains(current) : current == 2
                result.append((key, fine ? current : target))
            }
        }
        return result
    }

    /// `ip addr add VIP/32` for each VIP the host does not hold yet (one it holds is left where
    /// it is: `checkAddressPlacement` already refused the places that leak).
    static func addressSteps(_ config: RealServerConfiguration, host: HostState, device: String) -> [PlannedStep] {
        var steps: [PlannedStep] = []
        var usedLabels = Set(host.interface(named: device)?.addresses.map(\.label) ?? [])
        for vip in config.virtualAddresses where host.holders(of: vip).isEmpty {
            var label: String?
            if device == "lo" {
                // lo:0, lo:1, ...: the classic alias names, first free one.
                var n = 0
                while usedLabels.contains("lo:\(n)") { n += 1 }
                label = "lo:\(n)"
                usedLabels.insert("lo:\(n)")
            }
            steps.append(PlannedStep(action: .addAddress(address: vip.description, device: device, label: label),
                                     undo: .removeAddress(address: vip.description, device: device)))
        }
        return steps
    }

    static func arptablesRules(_ config: RealServerConfiguration, rip: IPv4Address) -> [FirewallRule] {
        config.virtualAddresses.flatMap { vip in
            [FirewallRule(chain: "INPUT", arguments: ["-d", vip.description, "-j", "DROP"]),
             FirewallRule(chain: "OUTPUT", arguments: ["-s", vip.description, "-j", "mangle", "--mangle-ip-s", rip.description])]
        }
    }

    static func iptablesRules(_ config: RealServerConfiguration) -> [FirewallRule] {
        config.virtualAddresses.flatMap { vip in
            config.ports.map { port in
                FirewallRule(chain: "PREROUTING", arguments: ["-p", port.transport.rawValue, "-d", vip.description,
                                                              "--dport", String(port.port), "-j", "REDIRECT"])
            }
        }
    }

    static func firewalldRules(_ config: RealServerConfiguration) -> [[String]] {
        iptablesRules(config).map { ["ipv4", "nat", $0.chain, "0"] + $0.arguments }
    }

    /// Appends the rules not there yet. With the nftables backend the first rule creates the
    /// table, which stays after its rules are deleted: the plan then also undoes the table.
    static func ruleSteps(tool: RuleTool, state: RuleToolState, rules: [FirewallRule]) -> [PlannedStep] {
        let missing = rules.filter { !state.dump.contains($0, in: tool.table) }
        guard !missing.isEmpty else { return [] }
        var steps: [PlannedStep] = []
        if state.backend == .nftables, state.dump.tables[tool.table] == nil {
            steps.append(PlannedStep(action: nil, undo: .dropTableIfPristine(tool: tool)))
        }
        for rule in missing {
            steps.append(PlannedStep(action: .appendRule(tool: tool, rule: rule), undo: .deleteRule(tool: tool, rule: rule)))
        }
        return steps
    }

    // MARK: - persistence

    static let header = "# Written by `lvs-realserver apply --persist`; `lvs-realserver revert` removes it.\n"

    /// The files that redo the setup at boot: sysctl.d for the settings, saved rules, and a
    /// oneshot unit (enabled through its multi-user.target.wants link) that restores the rules
    /// and then adds the VIP. firewalld keeps its own permanent rules.
    static func persistenceSteps(_ config: RealServerConfiguration, host: HostState, layout: PersistenceLayout,
                                 rip: IPv4Address?) throws -> [PlannedStep] {
        if layout.root != "/", host.paths[layout.root] != .directory {
            throw RealServerError(.invalidArgument, "the persistence root \(layout.root) is not a directory; nothing was changed",
                                  remedy: "create it, or pass an existing directory with --persist-root")
        }
        var files: [(String, String)] = []
        var start: [String] = []
        var stop: [String] = []
        let ip = host.toolPath("ip")
        switch config.method {
        case .sysctl:
            var text = header
            for (key, value) in sysctlTargets(config, host: host) { text += "\(key) = \(value)\n" }
            files.append((PersistenceLayout.sysctlFile, text))
            for (index, vip) in config.virtualAddresses.enumerated() {
                let label = existingOrPlannedLabel(vip, host: host, config: config, index: index)
                start.append("-\(ip) addr add \(vip)/32 dev lo label \(label)")
                stop.append("-\(ip) addr del \(vip)/32 dev lo")
            }
        case .arptables:
            guard let rip else { return [] }
            var text = header + "*filter\n"
            for rule in arptablesRules(config, rip: rip) { text += rule.description + "\n" }
            text += "COMMIT\n"
            files.append((PersistenceLayout.arptablesRules, text))
            let restore = host.toolPath("arptables-restore")
            start.append("\(restore) --noflush \(PersistenceLayout.arptablesRules)")
            for vip in config.virtualAddresses {
                start.append("-\(ip) addr add \(vip)/32 dev \(config.interface)")
                stop.append("-\(ip) addr del \(vip)/32 dev \(config.interface)")
            }
            let arptables = host.toolPath("arptables")
            for rule in arptablesRules(config, rip: rip) {
                stop.append("-\(arptables) -D \(rule.chain) \(rule.arguments.joined(separator: " "))")
            }
        case .iptables:
            var text = header + "*nat\n"
            for rule in iptablesRules(config) { text += rule.description + "\n" }
            text += "COMMIT\n"
            files.append((PersistenceLayout.iptablesRules, text))
            start.append("\(host.toolPath("iptables-restore")) --noflush \(PersistenceLayout.iptablesRules)")
            let iptables = host.toolPath("iptables")
            for rule in iptablesRules(config) {
                stop.append("-\(iptables) -t nat -D \(rule.chain) \(rule.arguments.joined(separator: " "))")
            }
        case .firewalld:
            return []  // --permanent rules, added with the runtime ones
        }
        if !start.isEmpty {
            var unit = header + """
                [Unit]
                Description=LVS direct-routing real server setup (lvs-realserver \(config.summary))
                Wants=network-online.target
                After=network-online.target

                [Service]
                Type=oneshot
                RemainAfterExit=yes

                """
            for line in start { unit += "ExecStart=\(line)\n" }
            for line in stop.reversed() { unit += "ExecStop=\(line)\n" }
            unit += "\n[Install]\nWantedBy=multi-user.target\n"
            files.append((PersistenceLayout.unitFile, unit))
        }

        var steps: [PlannedStep] = []
        var plannedDirectories = Set<String>()
        func ensureParents(of path: String) throws {
            for ancestor in PersistenceLayout.ancestors(of: path).dropLast() {
                let disk = layout.hostPath(ancestor)
                if plannedDirectories.contains(disk) { continue }
                switch host.paths[disk] {
                case .directory, .symlink: continue  // a symlinked /var/lib is still a directory
                case .file:
                    throw RealServerError(.conflict, "\(disk) is a file, where --persist needs a directory; nothing was changed",
                                          remedy: "move it away, or apply without --persist")
                case nil:
                    plannedDirectories.insert(disk)
                    steps.append(PlannedStep(action: .makeDirectory(path: disk), undo: .removeDirectory(path: disk)))
                }
            }
        }
        for (path, contents) in files {
            let disk = layout.hostPath(path)
            switch host.paths[disk] {
            case .file(contents: contents)?:
                continue  // already written by an earlier apply of the same setup
            case .some:
                throw RealServerError(.conflict, "\(disk) exists and was not written by lvs-realserver for this setup; nothing was changed",
                                      remedy: "move it away (or run `lvs-realserver revert` if an earlier setup wrote it), then apply again")
            case nil:
                try ensureParents(of: path)
                steps.append(PlannedStep(action: .writeFile(path: disk, contents: contents),
                                         undo: .removeFile(path: disk, contents: contents)))
            }
        }
        if files.contains(where: { $0.0 == PersistenceLayout.unitFile }) {
            let link = layout.hostPath(PersistenceLayout.wantsLink)
            switch host.paths[link] {
            case .symlink(target: PersistenceLayout.unitFile)?:
                break
            case .some:
                throw RealServerError(.conflict, "\(link) exists and is not lvs-realserver's link; nothing was changed",
                                      remedy: "move it away, then apply again")
            case nil:
                try ensureParents(of: PersistenceLayout.wantsLink)
                steps.append(PlannedStep(action: .makeSymlink(path: link, target: PersistenceLayout.unitFile),
                                         undo: .removeSymlink(path: link, target: PersistenceLayout.unitFile)))
            }
        }
        // The directory of the state copy; the copy itself is written by RealServerSetup.
        try ensureParents(of: PersistenceLayout.stateCopy)
        return steps
    }

    /// The label a VIP on lo has, or will get from `addressSteps`.
    static func existingOrPlannedLabel(_ vip: IPv4Address, host: HostState, config: RealServerConfiguration, index: Int) -> String {
        if let entry = host.holders(of: vip).first?.entry { return entry.label }
        for step in addressSteps(config, host: host, device: "lo") {
            if case let .addAddress(address, _, label?)? = step.action, address == vip.description { return label }
        }
        return "lo:\(index)"
    }

    // MARK: - revert

    /// The undo actions still to run, newest first, and a note for each one left out because
    /// the thing it would undo is gone or was changed by someone else since apply.
    public static func planRevert(_ undo: [HostAction], host: HostState) -> (actions: [HostAction], notes: [String]) {
        var actions: [HostAction] = []
        var notes: [String] = []
        var deleted: [RuleTool: [FirewallRule]] = [:]
        for action in undo.reversed() {
            switch action {
            case let .setSysctl(key, value, expected):
                let current = host.sysctls[key]
                if current == expected {
                    actions.append(action)
                } else {
                    notes.append("left \(key) at \(current.map(String.init) ?? "(missing)"): apply set it to \(expected) and it was changed since (it was \(value) before apply)")
                }
            case let .removeAddress(address, device):
                if host.interface(named: device)?.addresses.contains(where: { $0.address.description == address && $0.prefixLength == 32 }) == true {
                    actions.append(action)
                } else {
                    notes.append("\(address)/32 is no longer on \(device): nothing to remove")
                }
            case let .deleteRule(tool, rule):
                let state = tool == .arptables ? host.arptables : host.iptables
                if state?.dump.contains(rule, in: tool.table) == true {
                    actions.append(action)
                    deleted[tool, default: []].append(rule)
                } else {
                    notes.append("rule `\(rule)` is no longer in \(tool.rawValue): nothing to delete")
                }
            case let .dropTableIfPristine(tool):
                guard let state = tool == .arptables ? host.arptables : host.iptables,
                      var table = state.dump.tables[tool.table] else { continue }
                let gone = deleted[tool] ?? []
                table.rules.removeAll { rule in gone.contains { $0.matches(rule) } }
                if !table.isPristine {
                    notes.append("kept \(tool.rawValue) table \(tool.table): it holds rules or chains that are not ours")
                } else if !host.hasNft {
                    notes.append("\(tool.rawValue) table \(tool.table) is empty but stays: removing it needs nft (apt-get install nftables), then `nft delete table \(tool.nftFamily) \(tool.table)`")
                } else {
                    actions.append(action)
                }
            case let .removeFirewalldRule(rule, permanent):
                guard case let .running(runtime, permanentRules) = host.firewalld else {
                    notes.append("firewalld is not running: direct rule `\(rule.joined(separator: " "))` left to firewalld")
                    continue
                }
                if (permanent ? permanentRules : runtime).contains(rule.joined(separator: " ")) {
                    actions.append(action)
                } else {
                    notes.append("firewalld direct rule `\(rule.joined(separator: " "))` is already gone")
                }
            case let .removeFile(path, contents):
                switch host.paths[path] {
                case .file(contents: contents)?: actions.append(action)
                case nil: notes.append("\(path) is already gone")
                case .some: notes.append("left \(path): it was changed since apply wrote it")
                }
            case let .removeSymlink(path, target):
                if host.paths[path] == .symlink(target: target) {
                    actions.append(action)
                } else {
                    notes.append("left \(path): it is no longer the link apply made")
                }
            default:
                actions.append(action)
            }
        }
        return (actions, notes)
    }
}
