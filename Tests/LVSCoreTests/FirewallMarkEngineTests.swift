import LVSCore
import Testing

/// Firewall-mark services in the engine (IPVS-SEMANTICS.md §3.2, §3.7): a new flow's service is
/// the firewall-mark service of the mark the classifier gives it, else the `-t`/`-u` service of
/// its protocol, VIP and port; persistence templates of a firewall-mark service are keyed on
/// the mark, so one client's flows to every port (and VIP) of the mark share a server.
///
/// Rules: mark 1 for TCP 10.0.0.100:80,443 and 10.0.0.101:80 and 10.0.5.0/24 (any port), mark 2
/// for UDP 10.0.0.100:53, mark 9 (no service) for TCP 10.0.0.100:8443, mark 5 (no service)
/// for TCP 10.0.0.102:80. Services: `-f 1 -s rr -p 300` over rs1, rs2, rs3 (port 0, so the
/// list is rs3, rs2, rs1), `-f 2 -s rr` over rs1, rs2, and `-t 10.0.0.100:22` and
/// `-t 10.0.0.100:8443` over rs1 alone.
@Suite struct FirewallMarkEngineTests {
    static let second: UInt64 = 1_000_000_000
    static let vip = TestNetwork.vip
    static let vip101 = IPv4Address(10, 0, 0, 101)
    static let vip102 = IPv4Address(10, 0, 0, 102)
    static let routed = IPv4Network(address: IPv4Address(10, 0, 5, 0), prefixLength: 24)!

    static func host(_ address: IPv4Address) -> IPv4Network { IPv4Network(address: address, prefixLength: 32)! }

    static let rules = MarkClassifier(rules: [
        MarkRule(mark: 1, transport: .tcp, network: host(vip), ports: [80...80, 443...443]),
        MarkRule(mark: 1, transport: .tcp, network: host(vip101), ports: [80...80]),
        MarkRule(mark: 2, transport: .udp, network: host(vip), ports: [53...53]),
        MarkRule(mark: 9, transport: .tcp, network: host(vip), ports: [8443...8443]),
        MarkRule(mark: 5, transport: .tcp, network: host(vip102), ports: [80...80]),
        MarkRule(mark: 1, transport: .tcp, network: routed, ports: MarkRule.anyPort),
    ])

    static func servers(_ addresses: [IPv4Address], port: UInt16 = 0) -> [RealServerConfig] {
        addresses.map { RealServerConfig(address: $0, port: port) }
    }

    static func configuration(persistent: Bool = true, markServices: Bool = true) -> DirectorConfiguration {
        var services = [
            VirtualServiceConfig(key: VirtualServiceKey(transport: .tcp, address: vip, port: 22), scheduler: "rr",
                                 realServers: servers([TestNetwork.rs1], port: 22)),
            VirtualServiceConfig(key: VirtualServiceKey(transport: .tcp, address: vip, port: 8443), scheduler: "rr",
                                 realServers: servers([TestNetwork.rs1], port: 8443)),
        ]
        if markServices {
            services += [
                VirtualServiceConfig(key: .firewallMark(1), scheduler: "rr",
                                     persistence: persistent ? Persistence(timeout: 300) : nil,
                                     realServers: servers([TestNetwork.rs1, TestNetwork.rs2, TestNetwork.rs3])),
                VirtualServiceConfig(key: .firewallMark(2), scheduler: "rr",
                                     realServers: servers([TestNetwork.rs1, TestNetwork.rs2])),
            ]
        }
        return DirectorConfiguration(services: services, markRules: rules)
    }

    static func engine(_ configuration: DirectorConfiguration = configuration()) throws -> ForwardingEngine {
        try ForwardingEngine(configuration: configuration, directorMAC: TestNetwork.directorMAC,
                             directorAddress: TestNetwork.directorIP, connectionCapacity: 1024, hashSeed: 11,
                             staticNeighbors: [TestNetwork.rs1: TestNetwork.rs1MAC, TestNetwork.rs2: TestNetwork.rs2MAC,
                                               TestNetwork.rs3: TestNetwork.rs3MAC])
    }

    /// A TCP segment from `client`:`port` to `destination`:`vport`: the server it went to, or
    /// "-" with the verdict when it was not forwarded.
    static func tcp(_ e: ForwardingEngine, client: IPv4Address = TestNetwork.client, port: UInt16,
                    to destination: IPv4Address = vip, _ vport: UInt16, flags: UInt8 = Wire.tcpSYN,
                    at now: UInt64 = 0) -> String {
        var frame = FrameBuilder.tcp(destinationMAC: TestNetwork.directorMAC, sourceMAC: TestNetwork.routerMAC,
                                     source: client, destination: destination, sourcePort: port, destinationPort: vport,
                                     flags: flags)
        let verdict = withFrame(&frame) { e.process($0, now: now) }
        return verdict == .transmit ? ForwardingEngineTests.server(frame) : "- \(verdict)"
    }

    static func udp(_ e: ForwardingEngine, port: UInt16, _ vport: UInt16, at now: UInt64 = 0) -> String {
        var frame = FrameBuilder.udp(destinationMAC: TestNetwork.directorMAC, sourceMAC: TestNetwork.routerMAC,
                                     source: TestNetwork.client, destination: vip, sourcePort: port,
                                     destinationPort: vport, payload: [1, 2, 3])
        let verdict = withFrame(&frame) { e.process($0, now: now) }
        return verdict == .transmit ? ForwardingEngineTests.server(frame) : "- \(verdict)"
    }

    static func arpRequest(_ e: ForwardingEngine, for target: IPv4Address) -> Verdict {
        var request = FrameBuilder.arp(operation: Wire.arpRequest, ethernetDestination: .broadcast,
                                       ethernetSource: TestNetwork.routerMAC, senderMAC: TestNetwork.routerMAC,
                                       senderIP: IPv4Address(10, 0, 0, 1), targetMAC: .zero, targetIP: target)
        return withFrame(&request) { e.process($0, now: 0) }
    }

    // The point of a firewall-mark service: http and https of one client go to one server,
    // because the template is keyed on the mark, not on the port.
    @Test func twoPortsOfOneMarkSharePersistence() throws {
        let e = try Self.engine()
        let a = IPv4Address(192, 0, 2, 10)
        let b = IPv4Address(198, 51, 100, 7)
        #expect(Self.tcp(e, client: a, port: 40000, 80) == "rs3")
        #expect(Self.tcp(e, client: a, port: 40001, 443) == "rs3")
        #expect(Self.tcp(e, client: a, port: 40002, 80) == "rs3")
        // Another client is scheduled afresh (rr goes on to rs2) and sticks there on both ports.
        #expect(Self.tcp(e, client: b, port: 50000, 443) == "rs2")
        #expect(Self.tcp(e, client: b, port: 50001, 80) == "rs2")
        // The mark's other VIP shares the template too, as a mark over several VIPs does.
        #expect(Self.tcp(e, client: a, port: 40003, to: Self.vip101, 80) == "rs3")
        // One template per client, counted in PersistConn; the connections count as usual.
        let slots = e.services[2].order
        #expect(slots.map { e.destination(slot: $0).persistentConnections } == [1, 1, 0])
        #expect(slots.map { e.destination(slot: $0).activeConnections } == [4, 2, 0])
        #expect(e.stats(service: 2).connections == 6)
    }

    // Without persistence a firewall-mark service schedules every flow, whatever its port.
    @Test func withoutPersistenceEveryFlowIsScheduled() throws {
        let e = try Self.engine(Self.configuration(persistent: false))
        let picks = [80, 443, 80, 443].enumerated().map { Self.tcp(e, port: 41000 + UInt16($0.offset), UInt16($0.element)) }
        #expect(picks == ["rs3", "rs2", "rs1", "rs3"])
        // A known connection is not looked up again: its later segments follow it.
        #expect(Self.tcp(e, port: 41001, 443, flags: Wire.tcpACK) == "rs2")
    }

    // Flows the rules do not mark, or mark for no service, go to the -t/-u services, as in the
    // kernel (fwmark first, then protocol/VIP/port).
    @Test func unmarkedFlowsFallBackToAddressServices() throws {
        let e = try Self.engine()
        #expect(Self.tcp(e, port: 42000, 22) == "rs1")
        #expect(e.stats(service: 0).connections == 1)
        // Mark 9 has no service: the -t 10.0.0.100:8443 service takes the flow.
        #expect(Self.tcp(e, port: 42001, 8443) == "rs1")
        #expect(e.stats(service: 1).connections == 1)
        // Neither a marked port nor a service: a VIP's unknown port is dropped as before.
        #expect(Self.tcp(e, port: 42002, 8080) == "- drop")
        #expect(e.counter(.noService) == 1)
        // A rule for a mark no service takes claims nothing: 10.0.0.102 is not ours.
        #expect(Self.tcp(e, port: 42003, to: Self.vip102, 80) == "- pass")
        #expect(e.stats(service: 2).connections == 0)
    }

    // The protocol is the rule's business: a firewall-mark service takes UDP as well.
    @Test func udpFlowsOfAMark() throws {
        let e = try Self.engine()
        #expect(Self.udp(e, port: 5000, 53) == "rs2")
        #expect(Self.udp(e, port: 5001, 53) == "rs1")
        #expect(Self.udp(e, port: 5000, 53) == "rs2")
        #expect(e.stats(service: 3).connections == 2)
        // TCP to port 53 matches no rule and no service.
        #expect(Self.tcp(e, port: 5000, 53) == "- drop")
    }

    // -o on a firewall-mark service makes its UDP flows one-packet connections; TCP flows of
    // the same mark keep their connections (the kernel sets ONE_PACKET for UDP only).
    @Test func onePacketSchedulingAppliesToUDPOnly() throws {
        var config = Self.configuration()
        config.services[3].onePacketScheduling = true
        config.markRules.rules.append(MarkRule(mark: 2, transport: .tcp, network: Self.host(Self.vip), ports: [9000...9000]))
        let e = try Self.engine(config)
        #expect(Self.udp(e, port: 5000, 53) == "rs2")
        #expect(Self.udp(e, port: 5000, 53) == "rs1")
        #expect(e.connections.count == 0)
        #expect(Self.tcp(e, port: 6000, 9000) == "rs2")
        #expect(Self.tcp(e, port: 6000, 9000, flags: Wire.tcpACK) == "rs2")
        #expect(e.connections.count == 1)
    }

    // Single-address rule destinations of a used mark are VIPs: ARP is answered. Networks are
    // forwarded for but never answered ARP for (they may hold other hosts), and the director's
    // own address is never taken, whatever network a rule names.
    @Test func ruleDestinationsAndARP() throws {
        var config = Self.configuration()
        config.markRules.rules.append(
            MarkRule(mark: 1, transport: .tcp, network: IPv4Network(address: IPv4Address(10, 0, 0, 0), prefixLength: 24)!,
                     ports: MarkRule.anyPort))
        let e = try Self.engine(config)
        #expect(e.virtualAddressList == [Self.vip, Self.vip101])
        #expect(e.virtualNetworkList == [Self.routed, IPv4Network(address: IPv4Address(10, 0, 0, 0), prefixLength: 24)!])
        #expect(Self.arpRequest(e, for: Self.vip101) == .transmit)
        #expect(Self.arpRequest(e, for: Self.vip102) == .pass)
        #expect(Self.arpRequest(e, for: IPv4Address(10, 0, 5, 7)) == .pass)
        #expect(e.counter(.arpRepliesSent) == 1)
        #expect(Self.tcp(e, port: 43000, to: IPv4Address(10, 0, 5, 7), 8080) == "rs3")
        #expect(Self.tcp(e, port: 43001, to: IPv4Address(10, 0, 0, 55), 25) == "rs3")
        #expect(Self.tcp(e, port: 43002, to: TestNetwork.directorIP, 22) == "- pass")
        // UDP to the routed network matches no rule: the network is ours, so it is dropped.
        var frame = FrameBuilder.udp(destinationMAC: TestNetwork.directorMAC, sourceMAC: TestNetwork.routerMAC,
                                     source: TestNetwork.client, destination: IPv4Address(10, 0, 5, 7),
                                     sourcePort: 1, destinationPort: 53, payload: [0])
        #expect(withFrame(&frame) { e.process($0, now: 0) } == .drop)
        #expect(e.counter(.noService) == 1)
    }

    // `-L -c`: connections show the VIP:port the client used and, for servers without a port,
    // the packet's port; the template is the kernel's <IP, client, 0, mark, 0>.
    @Test func connectionListing() throws {
        let e = try Self.engine()
        #expect(Self.tcp(e, port: 40000, 443) == "rs3")
        let entries = e.status(now: 1, includeConnections: true).connections ?? []
        #expect(entries.count == 2)
        let template = entries.first { $0.isTemplate }
        #expect(template?.firewallMark == 1)
        #expect(template?.transport == .tcp)
        #expect(template?.virtualAddress == IPv4Address(0, 0, 0, 1) && template?.virtualPort == 0)
        #expect(template?.clientAddress == TestNetwork.client && template?.clientPort == 0)
        #expect(template?.destinationAddress == TestNetwork.rs3 && template?.destinationPort == 0)
        #expect(template?.state == "NONE")
        let connection = entries.first { !$0.isTemplate }
        #expect(connection?.firewallMark == 0)
        #expect(connection?.virtualAddress == Self.vip && connection?.virtualPort == 443)
        #expect(connection?.destinationAddress == TestNetwork.rs3 && connection?.destinationPort == 443)
        #expect(connection?.state == "SYN_RECV")
        // The status names the service by its mark.
        #expect(e.status(now: 1, includeConnections: false).services.map(\.config.key.description)
                == ["TCP 10.0.0.100:22", "TCP 10.0.0.100:8443", "FWM 1", "FWM 2"])
    }

    // A non-persistent firewall-mark server added with a port records that port (the kernel's
    // `dest->port ?: vport`); a persistent one always records the packet's.
    @Test func destinationPortOfServersWithAPort() throws {
        var config = Self.configuration(persistent: false)
        config.services[2].realServers = Self.servers([TestNetwork.rs1], port: 80)
        let e = try Self.engine(config)
        #expect(Self.tcp(e, port: 40000, 443) == "rs1")
        #expect(e.status(now: 1, includeConnections: true).connections?.first?.destinationPort == 80)
        config.services[2].persistence = Persistence()
        let p = try Self.engine(config)
        #expect(Self.tcp(p, port: 40000, 443) == "rs1")
        #expect(p.status(now: 1, includeConnections: true).connections?.first { !$0.isTemplate }?.destinationPort == 443)
    }

    // Services and rules meet at apply: a mark's VIPs and networks appear with its service
    // (the outcome asks the I/O layer to announce and filter them) and go with it.
    @Test func applyCompilesTheRulesAgainstTheServices() throws {
        let e = try Self.engine(Self.configuration(markServices: false))
        #expect(e.virtualAddressList == [Self.vip])
        #expect(e.virtualNetworkList.isEmpty)
        // Mark 1 has no service yet: the flow falls through to no service at all.
        #expect(Self.tcp(e, port: 44000, 80) == "- drop")
        #expect(Self.tcp(e, port: 44001, to: Self.vip101, 80) == "- pass")
        let added = try e.apply(Self.configuration())
        #expect(added.addedVIPs == [Self.vip101])
        #expect(added.addedNetworks == [Self.routed])
        #expect(added.vipSetChanged)
        #expect(added.addedServices == [.firewallMark(1), .firewallMark(2)])
        #expect(Self.tcp(e, port: 44002, 80) == "rs3")
        #expect(Self.tcp(e, port: 44003, to: Self.vip101, 80) == "rs3")
        // A new table without the mark services: their VIP and network go; the -t services stay.
        let removed = try e.apply(Self.configuration(markServices: false))
        #expect(removed.removedVIPs == [Self.vip101])
        #expect(removed.removedNetworks == [Self.routed])
        #expect(Self.tcp(e, port: 44004, 443) == "- drop")
        #expect(Self.tcp(e, port: 44005, 22) == "rs1")
        // An apply that changes neither leaves the filter alone.
        #expect(try !e.apply(Self.configuration(markServices: false)).vipSetChanged)
    }

    // A template of a firewall-mark service is found again by the connections it controls:
    // when they end, the template's count drops, and it expires after its timeout.
    @Test func templateLifecycle() throws {
        let e = try Self.engine()
        #expect(Self.tcp(e, port: 40000, 80) == "rs3")
        #expect(Self.tcp(e, port: 40001, 443) == "rs3")
        // Both connections end (RST in SYN_RECV keeps the state; send ACK then RST).
        for port: UInt16 in [40000, 40001] {
            _ = Self.tcp(e, port: port, port == 40000 ? 80 : 443, flags: Wire.tcpACK)
            _ = Self.tcp(e, port: port, port == 40000 ? 80 : 443, flags: Wire.tcpRST)
        }
        e.expireConnections(now: 20 * Self.second, budget: 4096)
        // The template outlives them until its own timeout...
        #expect(e.destination(slot: e.services[2].order[0]).persistentConnections == 1)
        #expect(Self.tcp(e, port: 40002, 443, at: 30 * Self.second) == "rs3")
        _ = Self.tcp(e, port: 40002, 443, flags: Wire.tcpACK, at: 30 * Self.second)
        _ = Self.tcp(e, port: 40002, 443, flags: Wire.tcpRST, at: 30 * Self.second)
        e.expireConnections(now: 400 * Self.second, budget: 4096)
        #expect(e.connections.count == 0)
        #expect(e.destination(slot: e.services[2].order[0]).persistentConnections == 0)
        // ...then the client is scheduled afresh: rr goes on after rs3.
        #expect(Self.tcp(e, port: 40003, 443, at: 401 * Self.second) == "rs2")
    }

    @Test func validation() throws {
        var misplaced = VirtualServiceKey.firewallMark(1)
        misplaced.address = Self.vip
        #expect(throws: EngineConfigurationError.self) {
            try Self.engine(DirectorConfiguration(services: [VirtualServiceConfig(key: misplaced, scheduler: "rr")]))
        }
        // One mark, one service, whatever protocol its key carries.
        var udpKey = VirtualServiceKey.firewallMark(1)
        udpKey.transport = .udp
        #expect(throws: EngineConfigurationError.self) {
            try Self.engine(DirectorConfiguration(services: [
                VirtualServiceConfig(key: .firewallMark(1), scheduler: "rr"),
                VirtualServiceConfig(key: udpKey, scheduler: "rr"),
            ]))
        }
        // No "Zero port specified for non-persistent service", and -o is allowed, as ipvsadm does.
        _ = try Self.engine(DirectorConfiguration(services: [
            VirtualServiceConfig(key: .firewallMark(1), scheduler: "rr", onePacketScheduling: true),
        ]))
    }
}
