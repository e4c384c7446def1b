import Testing
import LVSCore

@Suite struct ConfigurationTests {
    // VIPs and real-server addresses are listed once each, in first-seen order.
    @Test func distinctAddressesInFirstSeenOrder() {
        let vip2 = IPv4Address(10, 0, 0, 200)
        let c = DirectorConfiguration(services: [
            VirtualServiceConfig(key: VirtualServiceKey(transport: .tcp, address: TestNetwork.vip, port: 80), scheduler: "rr",
                                 realServers: [RealServerConfig(address: TestNetwork.rs2, port: 80),
                                               RealServerConfig(address: TestNetwork.rs1, port: 80)]),
            VirtualServiceConfig(key: VirtualServiceKey(transport: .tcp, address: vip2, port: 80), scheduler: "rr",
                                 realServers: [RealServerConfig(address: TestNetwork.rs1, port: 80),
                                               RealServerConfig(address: TestNetwork.rs3, port: 80)]),
            VirtualServiceConfig(key: VirtualServiceKey(transport: .udp, address: TestNetwork.vip, port: 53), scheduler: "rr"),
        ])
        #expect(c.virtualAddresses == [TestNetwork.vip, vip2])
        #expect(c.realServerAddresses == [TestNetwork.rs2, TestNetwork.rs1, TestNetwork.rs3])
    }

    // Defaults of a real server follow ipvsadm (§5.3): weight 1, no thresholds, direct routing.
    @Test func realServerDefaults() {
        let rs = RealServerConfig(address: TestNetwork.rs1, port: 80)
        #expect(rs.weight == 1)
        #expect(rs.upperThreshold == 0)
        #expect(rs.lowerThreshold == 0)
        #expect(rs.forwarding == .directRouting)
        #expect(ForwardingMethod.directRouting.rawValue == "Route")
        #expect(VirtualServiceKey(transport: .udp, address: TestNetwork.vip, port: 53).description == "UDP 10.0.0.100:53")
    }
}
