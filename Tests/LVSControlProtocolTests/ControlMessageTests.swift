import LVSConfig
import LVSControlProtocol
import LVSCore
import Testing

@Suite struct ControlMessageTests {
    static let vip = IPv4Address(10, 200, 0, 100)

    static func sampleStatus(connections: Bool) -> DirectorStatus {
        var web = VirtualServiceConfig(key: VirtualServiceKey(transport: .tcp, address: vip, port: 80), scheduler: "wrr",
                                       schedulerFlags: [.flag1, .flag3],
                                       persistence: Persistence(timeout: 600, netmask: IPv4Address(255, 255, 255, 0)))
        let first = RealServerConfig(address: IPv4Address(10, 200, 0, 11), port: 80, weight: 3, upperThreshold: 100,
                                     lowerThreshold: 10)
        let second = RealServerConfig(address: IPv4Address(10, 200, 0, 12), port: 80, weight: 0)
        web.realServers = [first, second]
        var stats = TrafficStats()
        stats.connections = 7
        stats.inPackets = 1_000_000_007
        stats.inBytes = UInt64.max
        var rates = TrafficRates()
        rates.connectionsPerSecond = 3
        rates.inBytesPerSecond = 12345
        let service = ServiceStatus(config: web, stats: stats, rates: rates, destinations: [
            DestinationStatus(config: second, activeConnections: 0, inactiveConnections: 4, persistentConnections: 1),
            DestinationStatus(config: first, activeConnections: 2, inactiveConnections: 1, persistentConnections: 2,
                              stats: stats, rates: rates),
        ])
        let dns = ServiceStatus(config: VirtualServiceConfig(key: VirtualServiceKey(transport: .udp, address: vip, port: 53),
                                                             scheduler: "sh", onePacketScheduling: true))
        // A firewall-mark service with the highest mark, and a server added without a port.
        let marked = ServiceStatus(config: VirtualServiceConfig(
            key: .firewallMark(4_294_967_295), scheduler: "rr", persistence: Persistence(timeout: 300),
            realServers: [RealServerConfig(address: IPv4Address(10, 200, 0, 13), port: 0)]),
            destinations: [DestinationStatus(config: RealServerConfig(address: IPv4Address(10, 200, 0, 13), port: 0),
                                             activeConnections: 1, persistentConnections: 1)])
        var status = DirectorStatus(connectionTableSize: 1 << 20, timeouts: TimeoutSetting(tcp: 900, tcpFin: 120, udp: 300),
                                    services: [service, dns, marked])
        if connections {
            status.connections = [
                ConnectionStatus(transport: .tcp, state: "ESTABLISHED", expiresInMilliseconds: 899_000,
                                 clientAddress: IPv4Address(10, 200, 0, 2), clientPort: 40000, virtualAddress: vip,
                                 virtualPort: 80, destinationAddress: IPv4Address(10, 200, 0, 11), destinationPort: 80,
                                 isTemplate: false),
                ConnectionStatus(transport: .tcp, state: "NONE", expiresInMilliseconds: 359_000,
                                 clientAddress: IPv4Address(10, 200, 0, 0), clientPort: 0, virtualAddress: vip,
                                 virtualPort: 80, destinationAddress: IPv4Address(10, 200, 0, 11), destinationPort: 80,
                                 isTemplate: true),
                ConnectionStatus(transport: .tcp, state: "NONE", expiresInMilliseconds: 299_000,
                                 clientAddress: IPv4Address(10, 200, 0, 10), clientPort: 0,
                                 virtualAddress: IPv4Address(4_294_967_295), virtualPort: 0,
                                 destinationAddress: IPv4Address(10, 200, 0, 13), destinationPort: 0, isTemplate: true,
                                 firewallMark: 4_294_967_295),
            ]
            status.vipConflict = VIPConflict(vip: vip, mac: MACAddress(value: 0x0200_0AC8_000C),
                                             senderAddress: IPv4Address(10, 200, 0, 12), count: 3)
        }
        return status
    }

    @Test(arguments: [false, true])
    func statusSurvivesTheWire(connections: Bool) throws {
        let status = Self.sampleStatus(connections: connections)
        let decoded = try ControlResponse.decode(ControlResponse.ok(status).encoded())
        #expect(decoded == .ok(status))
    }

    // The firewall mark travels in the service record (after the port) and in the conn record
    // (last): the layout of version 2.
    @Test func firewallMarkFields() throws {
        let text = ControlResponse.ok(Self.sampleStatus(connections: true)).encoded()
        #expect(text.hasPrefix("lvsctl 4 ok\n"))
        #expect(text.contains("\nservice\t6\t0.0.0.0\t0\t4294967295\trr\t0\t300\t255.255.255.255\t0\t"))
        #expect(text.contains("\nservice\t6\t10.200.0.100\t80\t0\twrr\t"))
        #expect(text.contains("\tNONE\t299000\t10.200.0.10\t0\t255.255.255.255\t0\t10.200.0.13\t0\t1\t4294967295\n"))
        #expect(text.contains("\t10.200.0.11\t80\t0\t0\n"))
    }

    @Test func emptyTableAndPlainOK() throws {
        let empty = DirectorStatus(connectionTableSize: 4096, timeouts: TimeoutSetting(tcp: 1, tcpFin: 2, udp: 3))
        #expect(try ControlResponse.decode(ControlResponse.ok(empty).encoded()) == .ok(empty))
        #expect(try ControlResponse.decode(ControlResponse.ok(nil).encoded()) == .ok(nil))
    }

    @Test func failureKeepsCodeIndexAndOneLineMessage() throws {
        let failure = ControlFailure(message: "line 3: Service already exists\n(and more)", exitCode: 255, commandIndex: 2)
        guard case .failed(let back) = try ControlResponse.decode(ControlResponse.failed(failure).encoded()) else {
            Issue.record("not a failure")
            return
        }
        #expect(back.exitCode == 255)
        #expect(back.commandIndex == 2)
        #expect(back.message == "line 3: Service already exists (and more)")
        let noIndex = ControlFailure(message: "No such service", exitCode: 255)
        #expect(try ControlResponse.decode(ControlResponse.failed(noIndex).encoded()) == .failed(noIndex))
    }

    @Test func requestsRoundTrip() throws {
        let key = VirtualServiceKey(transport: .tcp, address: Self.vip, port: 80)
        let change = ControlRequest.change([
            .addService(VirtualServiceConfig(key: key, scheduler: "rr")), .clear,
            .addServer(key, RealServerConfig(address: IPv4Address(10, 200, 0, 11), port: 80, weight: 3)),
            .setTimeouts(TimeoutSetting(tcp: 1, tcpFin: 2, udp: 3)),
        ])
        #expect(try ControlRequest.decode(change.encoded()) == change)
        for connections in [false, true] {
            let status = ControlRequest.status(includeConnections: connections)
            #expect(try ControlRequest.decode(status.encoded()) == status)
        }
    }

    @Test func daemonRequestsAndListingRoundTrip() throws {
        var master = SyncDaemonOptions(role: .master)
        master.syncID = 9
        master.interface = "eth0"
        master.maximumLength = 1472
        master.group = IPv4Address(224, 0, 0, 81)
        master.port = 8848
        master.ttl = 1
        for request in [ControlRequest.startDaemon(master), .stopDaemon(SyncDaemonOptions(role: .backup)), .daemons,
                        .syncRole(.master), .syncRole(.backup)] {
            #expect(try ControlRequest.decode(request.encoded()) == request)
        }
        #expect(ControlRequest.startDaemon(master).encoded()
            == "lvsctl 4 start-daemon master syncid=9 interface=eth0 maxlen=1472 group=224.0.0.81 port=8848 ttl=1\n")
        for listing in [ControlResponse.daemons([]), .daemons([master])] {
            #expect(try ControlResponse.decode(listing.encoded()) == listing)
        }
    }

    @Test(arguments: [
        "", "hello\n", "lvsctl 1 status\n", "lvsctl 3 status\n", "lvsctl 4 start-daemon\n", "lvsctl 4 start-daemon primary\n",
        "lvsctl 4 start-daemon master syncid=300\n", "lvsctl 4 stop-daemon backup colour=blue\n", "lvsctl 4 daemons now\n", "lvsctl 4 sync-role\n", "lvsctl 4 sync-role leader\n", "lvsctl 2 status\n", "lvsctl 9 status\n", "lvsctl 4 frobnicate\n", "lvsctl 4 status everything\n",
        "lvsctl 4 change\n\n", "lvsctl 1 change\n-A\t-t\t10.200.0.100:80\n", "lvsctl 4 change\nA\t6\t10.200.0.100\t80\n",
        "lvsctl 4 status\nC\n", "lvsctl 4 change now\nC\n",
    ])
    func badRequestsAreRefused(text: String) {
        #expect(throws: ControlProtocolError.self) { try ControlRequest.decode(text) }
    }

    @Test(arguments: [
        "lvsctl 4 ok\nservice\t6\n", "lvsctl 4 ok\ndest\t10.0.0.1\t80\t1\t0\t0\t0\t0\t0\t0\t0\t0\t0\t0\t0\t0\t0\t0\t0\n",
        "lvsctl 4 ok\nsize\tmany\n", "lvsctl 4 ok\nwhat\n", "lvsctl 4 ok\nsize\t1\t2\n", "lvsctl 9 ok\n",
        "lvsctl 4 failed\tx\t-\tmsg\n", "no newline", "lvsctl 1 ok\n",
    ])
    func badResponsesAreRefused(text: String) {
        #expect(throws: ControlProtocolError.self) { try ControlResponse.decode(text) }
    }
}
