import LVSConfig
import LVSCore
import Testing

/// ipvsadm's table commands applied to the configuration model, with the kernel's refusals in
/// ipvsadm's words and exit status 255 (IPVS-SEMANTICS.md §5.2 error table, §5.4 edits).
@Suite struct DirectorConfigurationCommandsTests {
    static let vip = IPv4Address(10, 0, 0, 100)
    static let tcp80 = VirtualServiceKey(transport: .tcp, address: vip, port: 80)
    static let udp53 = VirtualServiceKey(transport: .udp, address: vip, port: 53)

    static func server(_ last: UInt8, weight: Int32 = 1, upper: UInt32 = 0, lower: UInt32 = 0) -> RealServerConfig {
        RealServerConfig(address: IPv4Address(10, 0, 1, last), port: 80, weight: weight, upperThreshold: upper,
                         lowerThreshold: lower)
    }

    /// TCP :80 rr with servers .1 and .2, and UDP :53 wlc without servers.
    static let table = DirectorConfiguration(services: [
        VirtualServiceConfig(key: tcp80, scheduler: "rr", realServers: [server(1), server(2)]),
        VirtualServiceConfig(key: udp53, scheduler: "wlc"),
    ])

    /// Expects `command` on `table` to fail with `message` and `exitCode`.
    func expectRefusal(_ command: IpvsadmCommand, on table: DirectorConfiguration = Self.table, _ message: String,
                       exitCode: Int32 = 255, sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            _ = try table.applying(command)
            Issue.record("\(command) was accepted", sourceLocation: sourceLocation)
        } catch {
            #expect(error.message == message, sourceLocation: sourceLocation)
            #expect(error.exitCode == exitCode, sourceLocation: sourceLocation)
            #expect(!error.suggestsHelp, sourceLocation: sourceLocation)
        }
    }

    // MARK: - Services

    // -A appends an empty service (its servers come with -a); the same key again is EEXIST,
    // checked before the scheduler lookup (ENOENT).
    @Test func addService() throws {
        let key = VirtualServiceKey(transport: .tcp, address: Self.vip, port: 443)
        let added = try Self.table.applying(.addService(VirtualServiceConfig(
            key: key, scheduler: "sh", schedulerFlags: .fallback, persistence: Persistence(timeout: 60),
            realServers: [Self.server(9)])))
        #expect(added.services.count == 3)
        #expect(added.services[2] == VirtualServiceConfig(key: key, scheduler: "sh", schedulerFlags: .fallback,
                                                          persistence: Persistence(timeout: 60)))
        expectRefusal(.addService(VirtualServiceConfig(key: Self.tcp80, scheduler: "wlc")), "Service already exists")
        expectRefusal(.addService(VirtualServiceConfig(key: Self.tcp80, scheduler: "nonesuch")), "Service already exists")
        expectRefusal(.addService(VirtualServiceConfig(key: key, scheduler: "nonesuch")),
                      "Scheduler or persistence engine not found")
    }

    // ipvsadm's own option checks on -A/-E are kept, with its exit status 2.
    @Test func serviceOptionChecks() {
        let allPorts = VirtualServiceKey(transport: .tcp, address: Self.vip, port: 0)
        expectRefusal(.addService(VirtualServiceConfig(key: allPorts, scheduler: "rr")),
                      "Zero port specified for non-persistent service", exitCode: 2)
        expectRefusal(.addService(VirtualServiceConfig(key: VirtualServiceKey(transport: .tcp, address: Self.vip, port: 8080),
                                                       scheduler: "rr", onePacketScheduling: true)),
                      "One-Packet Scheduling is only for UDP virtual services", exitCode: 2)
        #expect(throws: Never.self) {
            try Self.table.applying(.addService(VirtualServiceConfig(key: allPorts, scheduler: "rr", persistence: Persistence())))
        }
    }

    // -E replaces scheduler, flags, persistence and -o, and keeps the real servers; an unknown
    // service is ESRCH "No such service".
    @Test func editService() throws {
        let edited = try Self.table.applying(.editService(VirtualServiceConfig(
            key: Self.tcp80, scheduler: "mh", schedulerFlags: [.fallback, .port],
            persistence: Persistence(timeout: 30, netmask: IPv4Address(255, 255, 255, 0)))))
        #expect(edited.services[0] == VirtualServiceConfig(
            key: Self.tcp80, scheduler: "mh", schedulerFlags: [.fallback, .port],
            persistence: Persistence(timeout: 30, netmask: IPv4Address(255, 255, 255, 0)),
            realServers: [Self.server(1), Self.server(2)]))
        // ipvsadm sends every field, so an -E without -p removes persistence.
        let plain = try edited.applying(.editService(VirtualServiceConfig(key: Self.tcp80, scheduler: "wlc")))
        #expect(plain.services[0].persistence == nil && plain.services[0].schedulerFlags == [])
        #expect(plain.services[1] == Self.table.services[1])
        let udpOPS = try Self.table.applying(.editService(VirtualServiceConfig(key: Self.udp53, scheduler: "rr",
                                                                              onePacketScheduling: true)))
        #expect(udpOPS.services[1].onePacketScheduling)
        let missing = VirtualServiceKey(transport: .udp, address: Self.vip, port: 80)
        expectRefusal(.editService(VirtualServiceConfig(key: missing, scheduler: "rr")), "No such service")
        expectRefusal(.editService(VirtualServiceConfig(key: missing, scheduler: "nonesuch")), "No such service")
        expectRefusal(.editService(VirtualServiceConfig(key: Self.tcp80, scheduler: "nonesuch")),
                      "Scheduler or persistence engine not found")
    }

    // -D removes the service with its servers; -C empties the table.
    @Test func deleteServiceAndClear() throws {
        let deleted = try Self.table.applying(.deleteService(Self.tcp80))
        #expect(deleted.services.map(\.key) == [Self.udp53])
        expectRefusal(.deleteService(Self.tcp80), on: deleted, "No such service")
        #expect(try Self.table.applying(.clear) == DirectorConfiguration())
        #expect(try DirectorConfiguration().applying(.clear) == DirectorConfiguration())
    }

    // MARK: - Real servers

    // -a appends in -a order. ESRCH "Service not defined" comes first, then ERANGE, then EEXIST.
    @Test func addServer() throws {
        let added = try Self.table.applying(.addServer(Self.tcp80, Self.server(3, weight: 0, upper: 10, lower: 5)))
        #expect(added.services[0].realServers == [Self.server(1), Self.server(2), Self.server(3, weight: 0, upper: 10, lower: 5)])
        let otherPort = RealServerConfig(address: IPv4Address(10, 0, 1, 1), port: 8080)
        #expect(try Self.table.applying(.addServer(Self.tcp80, otherPort)).services[0].realServers.count == 3)
        expectRefusal(.addServer(Self.tcp80, Self.server(2, weight: 7)), "Destination already exists")
        expectRefusal(.addServer(VirtualServiceKey(transport: .udp, address: Self.vip, port: 80), Self.server(3)),
                      "Service not defined")
        expectRefusal(.addServer(VirtualServiceKey(transport: .udp, address: Self.vip, port: 80), Self.server(3, lower: 1)),
                      "Service not defined")
        // -y above -x (including -y without -x, the kernel compares plainly), and a negative weight.
        expectRefusal(.addServer(Self.tcp80, Self.server(3, upper: 5, lower: 6)), "Numerical result out of range")
        expectRefusal(.addServer(Self.tcp80, Self.server(3, lower: 1)), "Numerical result out of range")
        expectRefusal(.addServer(Self.tcp80, Self.server(2, lower: 1)), "Numerical result out of range")
        expectRefusal(.addServer(Self.tcp80, Self.server(3, weight: -1)), "Numerical result out of range")
    }

    // -e replaces weight and thresholds of an existing server, in place (its -a position kept).
    @Test func editServer() throws {
        let edited = try Self.table.applying(.editServer(Self.tcp80, Self.server(1, weight: 5, upper: 100, lower: 50)))
        #expect(edited.services[0].realServers == [Self.server(1, weight: 5, upper: 100, lower: 50), Self.server(2)])
        // ipvsadm sends every field: -e without -w sets weight 1 and clears the thresholds.
        let reset = try edited.applying(.editServer(Self.tcp80, Self.server(1)))
        #expect(reset.services[0].realServers[0] == Self.server(1))
        expectRefusal(.editServer(Self.tcp80, Self.server(3)), "No such destination")
        expectRefusal(.editServer(Self.udp53, Self.server(1)), "No such destination")
        expectRefusal(.editServer(VirtualServiceKey(transport: .tcp, address: Self.vip, port: 81), Self.server(1)),
                      "Service not defined")
        expectRefusal(.editServer(Self.tcp80, Self.server(3, upper: 1, lower: 2)), "Numerical result out of range")
    }

    // -d removes one server; an unknown server is ENOENT, an unknown service ESRCH.
    @Test func deleteServer() throws {
        let a = IPv4Address(10, 0, 1, 1)
        let deleted = try Self.table.applying(.deleteServer(Self.tcp80, address: a, port: 80))
        #expect(deleted.services[0].realServers == [Self.server(2)])
        expectRefusal(.deleteServer(Self.tcp80, address: a, port: 80), on: deleted, "No such destination")
        expectRefusal(.deleteServer(Self.tcp80, address: a, port: 8080), "No such destination")
        expectRefusal(.deleteServer(VirtualServiceKey(transport: .udp, address: Self.vip, port: 80), address: a, port: 80),
                      "Service not defined")
    }

    // MARK: - Commands that leave the table alone

    // -Z and --set are carried out by the daemon on the engine; the table is unchanged, but
    // -Z of a service that does not exist is still "No such service". Listing, saving and
    // the rest do not touch the table either.
    @Test func nonTableCommandsReturnTheTableUnchanged() throws {
        let unchanged: [IpvsadmCommand] = [
            .zero(nil), .zero(Self.tcp80), .setTimeouts(TimeoutSetting(tcp: 1, tcpFin: 2, udp: 3)), .list(ListOptions()),
            .save(numeric: true), .restore, .startDaemon(SyncDaemonOptions(role: .master)),
            .stopDaemon(SyncDaemonOptions(role: .backup)), .help, .version,
        ]
        for command in unchanged {
            #expect(try Self.table.applying(command) == Self.table, "\(command)")
        }
        expectRefusal(.zero(VirtualServiceKey(transport: .tcp, address: Self.vip, port: 81)), "No such service")
    }

    // MARK: - Batches

    // A batch applies in order and all at once: -C then a fresh table, as ipvsadm-restore does.
    @Test func batchAppliesInOrder() throws {
        let key = VirtualServiceKey(transport: .tcp, address: IPv4Address(10, 0, 0, 200), port: 80)
        let result = try Self.table.applying([
            .clear,
            .addService(VirtualServiceConfig(key: key, scheduler: "wrr")),
            .addServer(key, Self.server(1, weight: 2)),
            .addServer(key, Self.server(2)),
            .editServer(key, Self.server(1, weight: 3)),
            .deleteServer(key, address: IPv4Address(10, 0, 1, 2), port: 80),
        ])
        #expect(result == DirectorConfiguration(services: [
            VirtualServiceConfig(key: key, scheduler: "wrr", realServers: [Self.server(1, weight: 3)]),
        ]))
        #expect(try Self.table.applying([IpvsadmCommand]()) == Self.table)
    }

    // The first failing command stops the batch: its index and error come back, nothing applies.
    @Test func batchFailureReportsIndex() {
        let commands: [IpvsadmCommand] = [
            .addServer(Self.tcp80, Self.server(3)),
            .deleteService(Self.udp53),
            .addServer(Self.udp53, Self.server(1)),
            .clear,
        ]
        #expect(throws: IpvsadmBatchError(index: 2, error: IpvsadmError("Service not defined", exitCode: 255))) {
            try Self.table.applying(commands)
        }
        #expect(IpvsadmBatchError(index: 2, error: .serviceNotDefined).description == "command 3: Service not defined")
    }

    // What the commands produce is a table the engine takes: an -a then -d sequence applied
    // to a running engine moves its list as the kernel's would.
    @Test func resultsRunOnTheEngine() throws {
        let engine = try ForwardingEngine(configuration: Self.table, directorMAC: MACAddress(value: 0x0200_0000_0001),
                                          directorAddress: IPv4Address(10, 0, 0, 2), connectionCapacity: 64, hashSeed: 1)
        var table = Self.table
        for command: IpvsadmCommand in [.addServer(Self.tcp80, Self.server(3)),
                                        .deleteServer(Self.tcp80, address: IPv4Address(10, 0, 1, 2), port: 80),
                                        .addServer(Self.udp53, RealServerConfig(address: IPv4Address(10, 0, 1, 1), port: 53))] {
            table = try table.applying(command)
            _ = try engine.apply(table)
        }
        let status = engine.status(now: 0, includeConnections: false)
        #expect(status.services[0].destinations.map(\.config.address.description) == ["10.0.1.3", "10.0.1.1"])
        #expect(status.services[0].config.realServers.map(\.address.description) == ["10.0.1.1", "10.0.1.3"])
        #expect(status.services[1].destinations.map(\.config.port) == [53])
    }
    // MARK: - Firewall-mark services

    // `-f` services go through the same commands: no port check for them, `-o` allowed, servers
    // found by address and the port they were given (0 by default); the mark rules are not
    // part of the ipvsadm table, so -C leaves them.
    @Test func firewallMarkServices() throws {
        let fwm = VirtualServiceKey.firewallMark(1)
        let rules = MarkClassifier(rules: [
            MarkRule(mark: 1, transport: .tcp, network: IPv4Network(address: Self.vip, prefixLength: 32)!, ports: [80...80, 443...443]),
        ])
        var table = DirectorConfiguration(services: Self.table.services, markRules: rules)
        table = try table.applying(.addService(VirtualServiceConfig(key: fwm, scheduler: "rr", onePacketScheduling: true)))
        #expect(table.services.map(\.key) == [Self.tcp80, Self.udp53, fwm])
        expectRefusal(.addService(VirtualServiceConfig(key: fwm, scheduler: "wlc")), on: table, "Service already exists")
        let rs = RealServerConfig(address: IPv4Address(10, 0, 1, 1), port: 0)
        table = try table.applying(.addServer(fwm, rs))
        table = try table.applying(.addServer(fwm, RealServerConfig(address: IPv4Address(10, 0, 1, 1), port: 443)))
        expectRefusal(.addServer(fwm, rs), on: table, "Destination already exists")
        expectRefusal(.addServer(.firewallMark(2), rs), on: table, "Service not defined")
        table = try table.applying(.editServer(fwm, RealServerConfig(address: IPv4Address(10, 0, 1, 1), port: 0, weight: 5)))
        #expect(table.services[2].realServers.map(\.weight) == [5, 1])
        table = try table.applying(.deleteServer(fwm, address: IPv4Address(10, 0, 1, 1), port: 443))
        #expect(table.services[2].realServers == [RealServerConfig(address: IPv4Address(10, 0, 1, 1), port: 0, weight: 5)])
        table = try table.applying(.editService(VirtualServiceConfig(key: fwm, scheduler: "wlc", persistence: Persistence())))
        #expect(table.services[2].persistence == Persistence() && !table.services[2].onePacketScheduling)
        #expect(try table.applying(.zero(fwm)) == table)
        expectRefusal(.zero(.firewallMark(2)), on: table, "No such service")
        #expect(table.markRules == rules)
        let cleared = try table.applying(.clear)
        #expect(cleared.services.isEmpty && cleared.markRules == rules)
        #expect(try table.applying(.deleteService(fwm)).services.map(\.key) == [Self.tcp80, Self.udp53])
    }

    // What `lvsd --check` and the log say about marks that lead nowhere.
    @Test func firewallMarkNotes() {
        let rules = MarkClassifier(rules: [
            MarkRule(mark: 1, transport: .tcp, network: IPv4Network(address: Self.vip, prefixLength: 32)!, ports: [80...80]),
            MarkRule(mark: 2, transport: .udp, network: IPv4Network(address: Self.vip, prefixLength: 32)!, ports: [53...53]),
        ])
        let table = DirectorConfiguration(services: [
            VirtualServiceConfig(key: .firewallMark(1), scheduler: "rr"),
            VirtualServiceConfig(key: .firewallMark(3), scheduler: "rr"),
        ], markRules: rules)
        #expect(table.firewallMarkNotes == [
            "FWM 3 gets no traffic: no --fwmark-rules rule gives mark 3",
            "mark 2 is taken by no -f service: the flows its rules mark go to the -t/-u services, as unmarked flows do",
        ])
        #expect(Self.table.firewallMarkNotes.isEmpty)
    }
}
