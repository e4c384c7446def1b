import Foundation
import LVSCore
@testable import LVSRealServer
import Testing

/// apply and revert end to end against the host model: revert must give back exactly the
/// host apply found, whatever the method.
@Suite struct RealServerSetupTests {
    final class Directory {
        let path = NSTemporaryDirectory() + "lvs-realserver-test-" + UUID().uuidString
        deinit { try? FileManager.default.removeItem(atPath: path) }
    }

    static func setup(_ host: FakeHost, _ directory: Directory) -> RealServerSetup<FakeHost> {
        RealServerSetup(host: host, store: StateStore(directory: directory.path), layout: PersistenceLayout(root: "/tmp/root"))
    }

    @Test(arguments: [SetupMethod.sysctl, .arptables, .iptables, .firewalld])
    func revertGivesBackTheHostApplyFound(method: SetupMethod) throws {
        var bare = Hosts.bare()
        bare.firewalld = .running(runtimeRules: [], permanentRules: [])
        let host = FakeHost(bare)
        let directory = Directory()
        let setup = Self.setup(host, directory)
        let config = Hosts.config(method, persist: true)

        let report = try setup.apply(config)
        #expect(!report.performed.isEmpty)
        #expect(host.state != bare)
        #expect(RealServerCheck.run(CheckConfiguration(virtualAddresses: [Hosts.vip], method: method, interface: "eth0", ports: config.ports),
                                    host: host.state).allSatisfy { $0.status != .fail })
        #expect(try setup.loadState()?.configuration == config)

        let again = try setup.apply(config)
        #expect(again.performed.isEmpty && again.alreadyApplied)

        let revert = try setup.revert()
        #expect(revert.notes.isEmpty, "\(revert.notes)")
        #expect(host.state == bare)
        #expect(try setup.loadState() == nil)
        #expect(try setup.revert().nothingApplied)
    }

    @Test func aFailingStepUndoesTheStepsBeforeIt() throws {
        let bare = Hosts.bare()
        let host = FakeHost(bare)
        host.failOn = .addAddress(address: "10.200.0.100", device: "lo", label: "lo:0")
        let directory = Directory()
        let setup = Self.setup(host, directory)
        #expect {
            try setup.apply(Hosts.config())
        } throws: { error in
            let message = (error as? RealServerError)?.message ?? ""
            return message.contains("simulated failure") && message.contains("the 4 change(s) made before it were undone")
        }
        #expect(host.state == bare)
        #expect(try setup.loadState() == nil)
    }

    @Test func anotherConfigurationIsRefusedUntilRevert() throws {
        let host = FakeHost(Hosts.bare())
        let directory = Directory()
        let setup = Self.setup(host, directory)
        _ = try setup.apply(Hosts.config())
        let applied = host.state
        #expect {
            try setup.apply(Hosts.config(.arptables))
        } throws: { ($0 as? RealServerError)?.code == .conflict }
        #expect(host.state == applied)
    }

    @Test func applyingAgainRedoesOnlyWhatWasUndoneBehindItsBack() throws {
        let bare = Hosts.bare()
        let host = FakeHost(bare)
        let directory = Directory()
        let setup = Self.setup(host, directory)
        _ = try setup.apply(Hosts.config())
        host.state.sysctls[SysctlKey("eth0", "arp_announce")] = 0
        let report = try setup.apply(Hosts.config())
        #expect(report.performed == [.setSysctl(key: SysctlKey("eth0", "arp_announce"), value: 2, expected: 0)])
        _ = try setup.revert()
        #expect(host.state == bare)
    }

    @Test func aHostAlreadySetUpIsRecordedAndRevertLeavesItAlone() throws {
        let configured = Hosts.configured()
        let host = FakeHost(configured)
        let directory = Directory()
        let setup = Self.setup(host, directory)
        let report = try setup.apply(Hosts.config())
        #expect(report.performed.isEmpty && !report.alreadyApplied)
        _ = try setup.revert()
        #expect(host.state == configured)
        #expect(host.performed.isEmpty)
    }

    @Test func revertAfterARebootFindsThePersistedStateCopy() throws {
        let root = Directory()
        try FileManager.default.createDirectory(atPath: root.path + "/var/lib/lvs-realserver", withIntermediateDirectories: true)
        let state = AppliedState(configuration: Hosts.config(persist: true), persistRoot: root.path,
                                 undo: [.removeAddress(address: "10.200.0.100", device: "lo")])
        try StateStore.write(state, to: root.path + PersistenceLayout.stateCopy)
        let emptyRun = Directory()   // /run after the reboot
        let setup = RealServerSetup(host: FakeHost(Hosts.configured()), store: StateStore(directory: emptyRun.path),
                                    layout: PersistenceLayout(root: root.path))
        #expect(try setup.loadState() == state)
    }
}
