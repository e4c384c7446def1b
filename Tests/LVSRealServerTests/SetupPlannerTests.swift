import LVSCore
@testable import LVSRealServer
import Testing

@Suite struct SetupPlannerTests {
    static let all_ignore = SysctlKey("all", "arp_ignore")
    static let eth0_ignore = SysctlKey("eth0", "arp_ignore")
    static let all_announce = SysctlKey("all", "arp_announce")
    static let eth0_announce = SysctlKey("eth0", "arp_announce")

    @Test func sysctlMethodSilencesARPBeforeTheVIPAppears() throws {
        let steps = try SetupPlanner.planApply(Hosts.config(), host: Hosts.bare())
        #expect(steps.map(\.action) == [
            .setSysctl(key: Self.all_ignore, value: 1, expected: 0),
            .setSysctl(key: Self.eth0_ignore, value: 1, expected: 0),
            .setSysctl(key: Self.all_announce, value: 2, expected: 0),
            .setSysctl(key: Self.eth0_announce, value: 2, expected: 0),
            .addAddress(address: "10.200.0.100", device: "lo", label: "lo:0"),
        ])
        #expect(steps.map(\.undo) == [
            .setSysctl(key: Self.all_ignore, value: 0, expected: 1),
            .setSysctl(key: Self.eth0_ignore, value: 0, expected: 1),
            .setSysctl(key: Self.all_announce, value: 0, expected: 2),
            .setSysctl(key: Self.eth0_announce, value: 0, expected: 2),
            .removeAddress(address: "10.200.0.100", device: "lo"),
        ])
        #expect(steps.last?.action?.description == "ip addr add 10.200.0.100/32 dev lo label lo:0")
    }

    @Test func nothingToDoOnAHostSetUpByHand() throws {
        #expect(try SetupPlanner.planApply(Hosts.config(), host: Hosts.configured()).isEmpty)
    }

    @Test func strictValuesAreKeptAndOnlyTheWeakKeyChanges() throws {
        var host = Hosts.bare()
        host.sysctls[Self.all_ignore] = 2      // stricter than 1: keep
        host.sysctls[Self.eth0_ignore] = 4     // reserved, answers: fix
        host.sysctls[Self.all_announce] = 2
        host.sysctls[Self.eth0_announce] = 1
        let actions = try SetupPlanner.planApply(Hosts.config(), host: host).compactMap(\.action)
        #expect(actions.prefix(2) == [.setSysctl(key: Self.eth0_ignore, value: 1, expected: 4),
                                      .setSysctl(key: Self.eth0_announce, value: 2, expected: 1)])
    }

    @Test func aTakenLabelGivesTheNextOneAndSeveralVIPsGetOneEach() throws {
        var host = Hosts.bare()
        host.interfaces[0].addresses.append(InterfaceAddress(address: IPv4Address(10, 1, 1, 1), prefixLength: 32, label: "lo:0"))
        var config = Hosts.config()
        config.virtualAddresses = [Hosts.vip, IPv4Address(10, 200, 0, 101)]
        let adds = try SetupPlanner.planApply(config, host: host).compactMap(\.action).filter {
            if case .addAddress = $0 { return true } else { return false }
        }
        #expect(adds == [.addAddress(address: "10.200.0.100", device: "lo", label: "lo:1"),
                         .addAddress(address: "10.200.0.101", device: "lo", label: "lo:2")])
    }

    @Test func aVIPOnTheARPingInterfaceIsRefusedForSysctlAndIptables() {
        var host = Hosts.bare()
        host.interfaces[1].addresses.append(InterfaceAddress(address: Hosts.vip, prefixLength: 32, label: "eth0"))
        for method in [SetupMethod.sysctl, .iptables] {
            #expect {
                try SetupPlanner.planApply(Hosts.config(method), host: host)
            } throws: { error in
                let e = error as? RealServerError
                return e?.code == .conflict && e?.message.contains("10.200.0.100 is on eth0") == true
                    && e?.remedy?.contains("ip addr del 10.200.0.100/32 dev eth0") == true
            }
        }
        // The arptables method is the one that copes with it.
        #expect(throws: Never.self) { try SetupPlanner.planApply(Hosts.config(.arptables), host: host) }
    }

    @Test func arptablesMethodRulesFirstThenTheVIPOnTheInterface() throws {
        let steps = try SetupPlanner.planApply(Hosts.config(.arptables), host: Hosts.bare())
        let drop = FirewallRule(chain: "INPUT", arguments: ["-d", "10.200.0.100", "-j", "DROP"])
        let mangle = FirewallRule(chain: "OUTPUT", arguments: ["-s", "10.200.0.100", "-j", "mangle", "--mangle-ip-s", "10.200.0.11"])
        #expect(steps == [
            // The nftables backend creates the table with the first rule: revert drops it last.
            PlannedStep(action: nil, undo: .dropTableIfPristine(tool: .arptables)),
            PlannedStep(action: .appendRule(tool: .arptables, rule: drop), undo: .deleteRule(tool: .arptables, rule: drop)),
            PlannedStep(action: .appendRule(tool: .arptables, rule: mangle), undo: .deleteRule(tool: .arptables, rule: mangle)),
            PlannedStep(action: .addAddress(address: "10.200.0.100", device: "eth0", label: nil),
                        undo: .removeAddress(address: "10.200.0.100", device: "eth0")),
        ])
        #expect(steps[1].action?.description == "arptables -A INPUT -d 10.200.0.100 -j DROP")
    }

    @Test func anExistingTableOrTheLegacyBackendIsNotOursToDrop() throws {
        var host = Hosts.bare()
        host.iptables!.dump = RuleDump(tables: ["nat": RuleDump.Table(chains: ["PREROUTING": "ACCEPT"])])
        var steps = try SetupPlanner.planApply(Hosts.config(.iptables), host: host)
        #expect(!steps.contains { $0.undo == .dropTableIfPristine(tool: .iptables) })
        host = Hosts.bare()
        host.iptables!.backend = .legacy
        steps = try SetupPlanner.planApply(Hosts.config(.iptables), host: host)
        #expect(!steps.contains { $0.undo == .dropTableIfPristine(tool: .iptables) })
    }

    @Test func iptablesMethodOneRedirectPerVIPAndPortAndNoAddress() throws {
        let config = Hosts.config(.iptables, ports: [ServicePort(.udp, 53), ServicePort(.tcp, 80)])
        let actions = try SetupPlanner.planApply(config, host: Hosts.bare()).compactMap(\.action)
        #expect(actions.map(\.description) == [
            "iptables -t nat -A PREROUTING -p udp -d 10.200.0.100 --dport 53 -j REDIRECT",
            "iptables -t nat -A PREROUTING -p tcp -d 10.200.0.100 --dport 80 -j REDIRECT",
        ])
        #expect {
            try SetupPlanner.planApply(Hosts.config(.iptables, ports: []), host: Hosts.bare())
        } throws: { ($0 as? RealServerError)?.message.contains("no --ports") == true }
    }

    @Test func missingToolsAreNamedBeforeAnythingChanges() {
        var host = Hosts.bare()
        host.arptables = nil
        host.iptables = nil
        #expect {
            try SetupPlanner.planApply(Hosts.config(.arptables), host: host)
        } throws: { ($0 as? RealServerError)?.code == .toolMissing && ($0 as? RealServerError)?.remedy?.contains("apt-get install arptables") == true }
        #expect {
            try SetupPlanner.planApply(Hosts.config(.iptables), host: host)
        } throws: { ($0 as? RealServerError)?.code == .toolMissing }
    }

    @Test func firewalldMustRun() throws {
        var host = Hosts.bare()
        #expect {
            try SetupPlanner.planApply(Hosts.config(.firewalld), host: host)
        } throws: { ($0 as? RealServerError)?.code == .toolMissing }
        host.firewalld = .notRunning("not running")
        #expect {
            try SetupPlanner.planApply(Hosts.config(.firewalld), host: host)
        } throws: { error in
            let e = error as? RealServerError
            return e?.code == .firewalldNotRunning && e?.message.contains("said: not running; nothing was changed") == true
                && e?.remedy?.contains("--method iptables") == true
        }
        host.firewalld = .running(runtimeRules: [], permanentRules: [])
        let steps = try SetupPlanner.planApply(Hosts.config(.firewalld, persist: true), host: host)
        #expect(steps.compactMap(\.action).map(\.description) == [
            "firewall-cmd --direct --add-rule ipv4 nat PREROUTING 0 -p tcp -d 10.200.0.100 --dport 80 -j REDIRECT",
            "firewall-cmd --permanent --direct --add-rule ipv4 nat PREROUTING 0 -p tcp -d 10.200.0.100 --dport 80 -j REDIRECT",
        ])
    }

    @Test func persistWritesBelowTheRootAndMakesOnlyMissingDirectories() throws {
        var host = Hosts.bare()
        host.paths["/tmp/root/etc"] = .directory
        let layout = PersistenceLayout(root: "/tmp/root")
        let steps = try SetupPlanner.planApply(Hosts.config(persist: true), host: host, layout: layout)
        let actions = steps.compactMap(\.action).map(\.description)
        #expect(Array(actions.dropFirst(5)) == [
            "mkdir /tmp/root/etc/sysctl.d",
            "write /tmp/root/etc/sysctl.d/90-lvs-realserver.conf",
            "mkdir /tmp/root/etc/systemd",
            "mkdir /tmp/root/etc/systemd/system",
            "write /tmp/root/etc/systemd/system/lvs-realserver.service",
            "mkdir /tmp/root/etc/systemd/system/multi-user.target.wants",
            "ln -s /etc/systemd/system/lvs-realserver.service /tmp/root/etc/systemd/system/multi-user.target.wants/lvs-realserver.service",
            "mkdir /tmp/root/var",
            "mkdir /tmp/root/var/lib",
            "mkdir /tmp/root/var/lib/lvs-realserver",
        ])
        guard case let .writeFile(_, sysctl)? = steps[6].action, case let .writeFile(_, unit)? = steps[9].action else {
            Issue.record("no files in \(actions)")
            return
        }
        #expect(sysctl.hasSuffix("""
            net.ipv4.conf.all.arp_ignore = 1
            net.ipv4.conf.eth0.arp_ignore = 1
            net.ipv4.conf.all.arp_announce = 2
            net.ipv4.conf.eth0.arp_announce = 2

            """))
        // Paths inside the unit are the real ones, read after the reboot.
        #expect(unit.contains("ExecStart=-/usr/sbin/ip addr add 10.200.0.100/32 dev lo label lo:0\n"))
        #expect(unit.contains("WantedBy=multi-user.target"))
        #expect(!unit.contains("/tmp/root"))
    }

    @Test func persistRefusesAFileThatIsNotOursAndAMissingRoot() {
        var host = Hosts.bare()
        host.paths["/tmp/root/etc"] = .directory
        host.paths["/tmp/root/etc/sysctl.d"] = .directory
        host.paths["/tmp/root/etc/sysctl.d/90-lvs-realserver.conf"] = .file(contents: "kernel.panic = 1\n")
        #expect {
            try SetupPlanner.planApply(Hosts.config(persist: true), host: host, layout: PersistenceLayout(root: "/tmp/root"))
        } throws: { ($0 as? RealServerError)?.code == .conflict }
        #expect {
            try SetupPlanner.planApply(Hosts.config(persist: true), host: Hosts.bare(), layout: PersistenceLayout(root: "/nonexistent"))
        } throws: { ($0 as? RealServerError)?.message.contains("/nonexistent is not a directory") == true }
    }

    @Test func arptablesAndIptablesPersistSavedRulesAndAUnitThatRestoresThem() throws {
        let layout = PersistenceLayout(root: "/tmp/root")
        for (method, file, restore) in [(SetupMethod.arptables, "/tmp/root/etc/lvs-realserver/arptables.rules", "arptables-restore"),
                                        (.iptables, "/tmp/root/etc/lvs-realserver/iptables.rules", "iptables-restore")] {
            let steps = try SetupPlanner.planApply(Hosts.config(method, persist: true), host: Hosts.bare(), layout: layout)
            let files = Dictionary(uniqueKeysWithValues: steps.compactMap { step -> (String, String)? in
                if case let .writeFile(path, contents)? = step.action { return (path, contents) } else { return nil }
            })
            let rules = try #require(files[file])
            let dump = try RuleDump(saveOutput: rules)
            #expect(dump.rules(in: method == .arptables ? "filter" : "nat").count == (method == .arptables ? 2 : 1))
            let unit = try #require(files["/tmp/root/etc/systemd/system/lvs-realserver.service"])
            #expect(unit.contains("ExecStart=/usr/sbin/\(restore) --noflush /etc/lvs-realserver/\(method).rules\n"))
        }
    }

    // MARK: - revert

    @Test func revertSkipsWhatWasChangedSinceAndSaysSo() {
        var host = Hosts.configured()
        host.sysctls[Self.all_announce] = 1   // an admin changed it after apply
        let undo: [HostAction] = [
            .setSysctl(key: Self.all_ignore, value: 0, expected: 1),
            .setSysctl(key: Self.all_announce, value: 0, expected: 2),
            .removeAddress(address: "10.200.0.100", device: "lo"),
            .removeAddress(address: "10.200.0.200", device: "lo"),
        ]
        let (actions, notes) = SetupPlanner.planRevert(undo, host: host)
        #expect(actions == [.removeAddress(address: "10.200.0.100", device: "lo"),
                            .setSysctl(key: Self.all_ignore, value: 0, expected: 1)])
        #expect(notes == ["10.200.0.200/32 is no longer on lo: nothing to remove",
                          "left net.ipv4.conf.all.arp_announce at 1: apply set it to 2 and it was changed since (it was 0 before apply)"])
    }

    @Test func theTableIsDroppedOnlyWhenNothingButOurRulesWasInIt() throws {
        let ours = FirewallRule(chain: "PREROUTING", arguments: ["-p", "tcp", "-d", "10.200.0.100", "--dport", "80", "-j", "REDIRECT"])
        let undo: [HostAction] = [.dropTableIfPristine(tool: .iptables), .deleteRule(tool: .iptables, rule: ours)]
        var host = Hosts.bare()
        host.iptables!.dump = RuleDump(tables: ["nat": RuleDump.Table(chains: ["PREROUTING": "ACCEPT", "POSTROUTING": "ACCEPT"], rules: [ours])])
        #expect(SetupPlanner.planRevert(undo, host: host).actions == [.deleteRule(tool: .iptables, rule: ours), .dropTableIfPristine(tool: .iptables)])

        host.iptables!.dump.tables["nat"]!.rules.append(FirewallRule(chain: "POSTROUTING", arguments: ["-j", "MASQUERADE"]))
        let (actions, notes) = SetupPlanner.planRevert(undo, host: host)
        #expect(actions == [.deleteRule(tool: .iptables, rule: ours)])
        #expect(notes.first?.contains("kept iptables table nat") == true)

        host.iptables!.dump.tables["nat"]!.rules.removeLast()
        host.hasNft = false
        #expect(SetupPlanner.planRevert(undo, host: host).notes.first?.contains("needs nft") == true)
    }

    @Test func filesChangedSinceApplyAreLeft() {
        var host = Hosts.bare()
        host.paths["/r/f"] = .file(contents: "edited\n")
        host.paths["/r/l"] = .symlink(target: "/elsewhere")
        let (actions, notes) = SetupPlanner.planRevert([.removeFile(path: "/r/f", contents: "ours\n"),
                                                        .removeSymlink(path: "/r/l", target: "/etc/x"),
                                                        .removeFile(path: "/r/gone", contents: "")], host: host)
        #expect(actions.isEmpty)
        #expect(notes == ["/r/gone is already gone", "left /r/l: it is no longer the link apply made",
                          "left /r/f: it was changed since apply wrote it"])
    }
}
