import LVSAdmin
import LVSCore

/// Director states for the golden listings. Real servers are given in the kernel's list order
/// (newest first, the reverse of `-a` order), which is what `--nosort` prints.
enum ListingFixtures {
    static func ip(_ text: String) -> IPv4Address {
        IPv4Address(text) ?? .any
    }

    static func destination(_ address: String, _ port: UInt16, weight: Int32 = 1, active: UInt32 = 0,
                            inactive: UInt32 = 0, persistent: UInt32 = 0, upper: UInt32 = 0, lower: UInt32 = 0,
                            stats: TrafficStats = TrafficStats(),
                            rates: TrafficRates = TrafficRates()) -> DestinationStatus {
        DestinationStatus(config: RealServerConfig(address: ip(address), port: port, weight: weight,
                                                   upperThreshold: upper, lowerThreshold: lower),
                          activeConnections: active, inactiveConnections: inactive,
                          persistentConnections: persistent, stats: stats, rates: rates)
    }

    static func service(_ transport: TransportProtocol, _ address: String, _ port: UInt16, _ scheduler: String,
                        flags: SchedulerFlags = [], persistence: Persistence? = nil, ops: Bool = false,
                        stats: TrafficStats = TrafficStats(), rates: TrafficRates = TrafficRates(),
                        destinations: [DestinationStatus] = []) -> ServiceStatus {
        let config = VirtualServiceConfig(
            key: VirtualServiceKey(transport: transport, address: ip(address), port: port), scheduler: scheduler,
            schedulerFlags: flags, persistence: persistence, onePacketScheduling: ops,
            realServers: destinations.reversed().map(\.config))
        return ServiceStatus(config: config, stats: stats, rates: rates, destinations: destinations)
    }

    static let defaultTimeouts = TimeoutSetting(tcp: 900, tcpFin: 120, udp: 300)

    /// Seven services in creation order, covering every piece of the default service line.
    static var mixed: DirectorStatus {
        DirectorStatus(connectionTableSize: 4096, timeouts: defaultTimeouts, services: [
            service(.tcp, "10.0.0.100", 80, "wlc", destinations: [
                destination("192.168.1.12", 80, weight: 3, active: 7, inactive: 0),
                destination("192.168.1.11", 80, weight: 1, active: 12, inactive: 40, upper: 100, lower: 50),
            ]),
            service(.udp, "10.0.0.100", 53, "rr", ops: true, destinations: [
                destination("192.168.1.21", 53, weight: 1, inactive: 5),
            ]),
            service(.tcp, "10.0.0.100", 443, "wrr",
                    persistence: Persistence(timeout: 360, netmask: ip("255.255.255.0")), destinations: [
                        destination("192.168.1.12", 443, weight: 2, active: 3, inactive: 1, persistent: 4,
                                    upper: 2000, lower: 1500),
                        destination("192.168.1.11", 443, weight: 0, active: 0, inactive: 2, persistent: 3),
                    ]),
            service(.tcp, "10.0.0.101", 8080, "sh", flags: [.fallback, .port], destinations: [
                destination("192.168.1.31", 8080, weight: 1, active: 1, inactive: 1),
            ]),
            service(.tcp, "10.0.0.102", 25, "sh", flags: [.flag3]),
            service(.udp, "10.0.0.100", 123, "lc", flags: [.flag1, .flag3],
                    persistence: Persistence(timeout: 60, netmask: ip("255.255.0.0")), ops: true, destinations: [
                        destination("192.168.1.22", 123, weight: 5),
                    ]),
            service(.tcp, "10.0.0.101", 0, "wlc", persistence: Persistence(timeout: 1800), destinations: [
                destination("192.168.1.32", 0, weight: 1),
                destination("192.168.1.31", 0, weight: 1, active: 2, inactive: 3, persistent: 1),
            ]),
        ])
    }

    static func stats(_ connections: UInt64, _ inPackets: UInt64, _ outPackets: UInt64, _ inBytes: UInt64,
                      _ outBytes: UInt64) -> TrafficStats {
        var stats = TrafficStats()
        stats.connections = connections
        stats.inPackets = inPackets
        stats.outPackets = outPackets
        stats.inBytes = inBytes
        stats.outBytes = outBytes
        return stats
    }

    static func rates(_ cps: UInt64, _ inPPS: UInt64, _ outPPS: UInt64, _ inBPS: UInt64,
                      _ outBPS: UInt64) -> TrafficRates {
        var rates = TrafficRates()
        rates.connectionsPerSecond = cps
        rates.inPacketsPerSecond = inPPS
        rates.outPacketsPerSecond = outPPS
        rates.inBytesPerSecond = inBPS
        rates.outBytesPerSecond = outBPS
        return rates
    }

    /// Counters on both sides of every `print_largenum` threshold, and real-server counters
    /// above 2^32.
    static var counters: DirectorStatus {
        DirectorStatus(connectionTableSize: 4096, timeouts: defaultTimeouts, services: [
            service(.tcp, "10.0.0.100", 80, "wlc",
                    stats: stats(99_999_999, 100_000_000, 0, 123_456_789_012, 100_000_000_000_000),
                    rates: rates(250, 1_500, 0, 150_000_000, 0),
                    destinations: [
                        destination("192.168.1.12", 80,
                                    stats: stats(12_345, 1_000_000_000, 0, 5_000_000_000_000, 0),
                                    rates: rates(130, 123_456_789, 0, 4_294_967_296 + 80_000_000, 0)),
                        destination("192.168.1.11", 80,
                                    stats: stats(4_294_967_296 + 7, 999_999_999, 0, 98_765_432_109, 0),
                                    rates: rates(120, 700, 0, 70_000_000, 0)),
                    ]),
            service(.udp, "10.0.0.100", 53, "rr"),
        ])
    }

    /// Addresses 2^31 or more apart, which ipvsadm's comparators order "backwards".
    static var sortQuirk: DirectorStatus {
        DirectorStatus(connectionTableSize: 65536, timeouts: defaultTimeouts, services: [
            service(.tcp, "10.0.0.1", 80, "wlc", destinations: [
                destination("10.1.0.1", 80),
                destination("192.168.0.1", 80),
            ]),
            service(.tcp, "200.0.0.1", 80, "wlc", destinations: [destination("192.168.0.2", 80)]),
            service(.udp, "10.0.0.1", 53, "wlc", destinations: [destination("10.1.0.2", 53)]),
        ])
    }

    static func connection(_ transport: TransportProtocol, _ state: String, _ milliseconds: UInt64,
                           _ client: String, _ clientPort: UInt16, _ vip: String, _ vport: UInt16,
                           _ server: String, _ serverPort: UInt16, template: Bool = false) -> ConnectionStatus {
        ConnectionStatus(transport: transport, state: state, expiresInMilliseconds: milliseconds,
                         clientAddress: ip(client), clientPort: clientPort, virtualAddress: ip(vip),
                         virtualPort: vport, destinationAddress: ip(server), destinationPort: serverPort,
                         isTemplate: template)
    }

    static var withConnections: DirectorStatus {
        var status = mixed
        status.connections = [
            connection(.tcp, "ESTABLISHED", 899_500, "172.16.0.5", 51000, "10.0.0.100", 80, "192.168.1.11", 80),
            connection(.tcp, "FIN_WAIT", 119_999, "172.16.0.6", 51001, "10.0.0.100", 80, "192.168.1.12", 80),
            connection(.udp, "UDP", 299_000, "172.16.0.7", 33333, "10.0.0.100", 53, "192.168.1.21", 53),
            connection(.tcp, "NONE", 359_000, "172.16.0.0", 0, "10.0.0.100", 443, "192.168.1.12", 443,
                       template: true),
            connection(.tcp, "SYN_RECV", 59_000, "172.16.100.200", 65535, "10.0.0.100", 80, "192.168.1.12", 80),
            connection(.tcp, "NONE", 6_000_000, "172.16.0.0", 0, "10.0.0.101", 0, "192.168.1.31", 0, template: true),
            connection(.tcp, "CLOSE", 999, "172.16.0.8", 40000, "10.0.0.100", 80, "192.168.1.11", 80),
        ]
        return status
    }

    /// A firewall-mark service (`-f mark`): no address or port, TCP as ipvsadm sets it.
    static func markService(_ mark: UInt32, _ scheduler: String, flags: SchedulerFlags = [],
                            persistence: Persistence? = nil, ops: Bool = false, stats: TrafficStats = TrafficStats(),
                            destinations: [DestinationStatus] = []) -> ServiceStatus {
        let config = VirtualServiceConfig(key: .firewallMark(mark), scheduler: scheduler, schedulerFlags: flags,
                                          persistence: persistence, onePacketScheduling: ops,
                                          realServers: destinations.reversed().map(\.config))
        return ServiceStatus(config: config, stats: stats, destinations: destinations)
    }

    /// Firewall-mark services among -t/-u ones, in creation order: ipvsadm sorts on the mark
    /// first, so the -t/-u services (mark 0) come first and the marks follow in order.
    static var firewallMarks: DirectorStatus {
        DirectorStatus(connectionTableSize: 4096, timeouts: defaultTimeouts, services: [
            markService(2, "wlc", destinations: [destination("192.168.1.41", 0)]),
            service(.tcp, "10.0.0.100", 80, "rr", stats: stats(6, 120, 0, 9000, 0), destinations: [
                destination("192.168.1.11", 80, active: 5, inactive: 1, stats: stats(6, 120, 0, 9000, 0)),
            ]),
            markService(1, "rr", persistence: Persistence(timeout: 300, netmask: ip("255.255.255.0")),
                        stats: stats(8, 123_456_819, 0, 150_000_002_000, 0), destinations: [
                            destination("192.168.1.12", 0, weight: 2, active: 3, inactive: 4, persistent: 2,
                                        stats: stats(7, 123_456_789, 0, 150_000_000_000, 0)),
                            destination("192.168.1.11", 0, weight: 1, active: 1, inactive: 0, persistent: 1,
                                        stats: stats(1, 30, 0, 2000, 0)),
                        ]),
            markService(100, "sh", flags: [.port], ops: true, destinations: [destination("192.168.1.21", 443)]),
            service(.udp, "10.0.0.100", 53, "rr", stats: stats(5, 5, 0, 400, 0), destinations: [
                destination("192.168.1.21", 53, inactive: 5, stats: stats(5, 5, 0, 400, 0)),
            ]),
        ])
    }

    /// Connections of a firewall-mark service show the VIP and port the client used; its
    /// templates are the kernel's `<IP, client network, 0, mark, 0>` entries.
    static var firewallMarkConnections: DirectorStatus {
        var status = firewallMarks
        var template1 = connection(.tcp, "NONE", 299_000, "172.16.0.0", 0, "0.0.0.1", 0, "192.168.1.12", 0, template: true)
        template1.firewallMark = 1
        var template100 = connection(.tcp, "NONE", 59_000, "172.16.0.9", 0, "0.0.0.100", 0, "192.168.1.21", 0, template: true)
        template100.firewallMark = 100
        status.connections = [
            connection(.tcp, "ESTABLISHED", 899_500, "172.16.0.5", 51000, "10.0.0.100", 443, "192.168.1.12", 443),
            connection(.tcp, "FIN_WAIT", 119_999, "172.16.0.5", 51001, "10.0.0.100", 80, "192.168.1.12", 80),
            connection(.udp, "UDP", 299_000, "172.16.0.9", 5353, "10.0.0.100", 53, "192.168.1.21", 53),
            template1,
            template100,
        ]
        return status
    }

    static var named: DirectorStatus {
        DirectorStatus(connectionTableSize: 4096, timeouts: defaultTimeouts, services: [
            service(.tcp, "10.0.0.100", 80, "wlc", destinations: [
                destination("192.168.1.13", 80),
                destination("192.168.1.12", 80),
                destination("192.168.1.11", 80),
            ]),
            service(.tcp, "10.0.0.101", 8080, "rr", destinations: [destination("192.168.1.11", 8080, weight: 2)]),
            service(.udp, "10.0.0.100", 53, "rr", destinations: [destination("192.168.1.21", 53)]),
        ])
    }
}

/// Fixed answers in place of DNS and /etc/services.
struct FakeNames: NameResolver {
    static let hosts: [IPv4Address: String] = [
        ListingFixtures.ip("10.0.0.100"): "vip.example",
        ListingFixtures.ip("10.0.0.101"): "a-long-virtual-service-name.example.org",
        ListingFixtures.ip("192.168.1.11"): "web1.example",
        ListingFixtures.ip("192.168.1.12"): "realserver-with-a-long-name.dc1.example",
        ListingFixtures.ip("192.168.1.21"): "an-extremely-long-host-name-for-the-dns-real-server.internal.example",
    ]

    func hostName(for address: IPv4Address) -> String? {
        Self.hosts[address]
    }

    func serviceName(for port: UInt16, transport: TransportProtocol) -> String? {
        switch (port, transport) {
        case (80, .tcp): "http"
        case (443, .tcp): "https"
        case (53, .udp): "domain"
        default: nil
        }
    }
}
