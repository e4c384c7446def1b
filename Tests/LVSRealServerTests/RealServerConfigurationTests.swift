import Foundation
import LVSCore
import LVSRealServer
import Testing

@Suite struct RealServerConfigurationTests {
    @Test func portsDefaultToTCPAreSortedAndDeduplicated() throws {
        let ports = try ServicePort.parseList("443,80/tcp,53/UDP,80")
        #expect(ports == [ServicePort(.udp, 53), ServicePort(.tcp, 80), ServicePort(.tcp, 443)])
        #expect(ports.map(\.description) == ["53/udp", "80/tcp", "443/tcp"])
    }

    @Test(arguments: ["", "0", "80/sctp", "http", "70000", "80/tcp/x", "80,,443"])
    func badPortsAreRejectedWithTheSyntax(text: String) {
        #expect {
            try ServicePort.parseList(text)
        } throws: { error in
            (error as? RealServerError)?.code == .invalidArgument && (error as? RealServerError)?.remedy?.isEmpty == false
        }
    }

    @Test func vipListKeepsOrderDropsDuplicatesAndAcceptsSlash32() throws {
        #expect(try parseVirtualAddresses("10.0.0.2,10.0.0.1/32,10.0.0.2") == [IPv4Address(10, 0, 0, 2), IPv4Address(10, 0, 0, 1)])
        #expect(throws: RealServerError.self) { try parseVirtualAddresses("10.0.0.300") }
        #expect(throws: RealServerError.self) { try parseVirtualAddresses("0.0.0.0") }
        #expect(throws: RealServerError.self) { try parseVirtualAddresses("10.0.0.0/24") }
    }

    @Test func configurationSurvivesTheStateFile() throws {
        var config = Hosts.config(.arptables, persist: true)
        config.realServerAddress = IPv4Address(10, 200, 0, 11)
        let state = AppliedState(configuration: config, persistRoot: "/", undo: [
            .setSysctl(key: SysctlKey("all", "arp_ignore"), value: 0, expected: 1),
            .deleteRule(tool: .arptables, rule: FirewallRule(chain: "INPUT", arguments: ["-d", "10.200.0.100", "-j", "DROP"])),
            .removeAddress(address: "10.200.0.100", device: "eth0"),
        ])
        let decoded = try AppliedState.decode(try state.encoded(), from: "test")
        #expect(decoded == state)
        #expect(String(decoding: try state.encoded(), as: UTF8.self).contains("\"vips\" : [\n      \"10.200.0.100\""))
    }

    @Test func aStateFileOfAnotherVersionOrKindIsRefused() {
        #expect(throws: RealServerError.self) { try AppliedState.decode(Data("{}".utf8), from: "x") }
        let future = #"{"version": 2, "configuration": {"vips": [], "method": "sysctl", "interface": "eth0", "ports": [], "persist": false}, "undo": []}"#
        #expect {
            try AppliedState.decode(Data(future.utf8), from: "x")
        } throws: { error in
            (error as? RealServerError)?.message.contains("version 2") == true
        }
    }
}
