import Testing
import LVSCore
import LVSConfig

/// The wire format to lvsd: every command written out as numeric ipvsadm arguments that parse
/// back to the same command, with no help from /etc/services or a resolver.
@Suite struct IpvsadmCommandCanonicalArgumentsTests {
    /// No service names, no host names: the canonical form must not need them.
    let parser = IpvsadmCommandLine(serviceNames: ServiceNames(), resolveHost: { _ in nil })

    static let vip = IPv4Address(10, 0, 0, 100)
    static let tcp80 = VirtualServiceKey(transport: .tcp, address: vip, port: 80)

    @Test func examples() {
        let mask = IPv4Address(255, 255, 255, 0)
        #expect(IpvsadmCommand.addService(VirtualServiceConfig(key: Self.tcp80, scheduler: "rr")).canonicalArguments
                == ["-A", "-t", "10.0.0.100:80", "-s", "rr"])
        #expect(IpvsadmCommand.editService(VirtualServiceConfig(
            key: VirtualServiceKey(transport: .udp, address: Self.vip, port: 0), scheduler: "sh", schedulerFlags: [.fallback, .port, .flag3],
            persistence: Persistence(timeout: 300, netmask: mask), onePacketScheduling: true)).canonicalArguments
                == ["-E", "-u", "10.0.0.100:0", "-s", "sh", "-p", "300", "-M", "255.255.255.0", "-b", "sh-fallback,sh-port,flag-3", "-o"])
        #expect(IpvsadmCommand.addService(VirtualServiceConfig(key: Self.tcp80, scheduler: "wrr", schedulerFlags: [.flag2]))
                .canonicalArguments == ["-A", "-t", "10.0.0.100:80", "-s", "wrr", "-b", "flag-2"])
        #expect(IpvsadmCommand.addServer(Self.tcp80, RealServerConfig(address: IPv4Address(10, 0, 0, 11), port: 80)).canonicalArguments
                == ["-a", "-t", "10.0.0.100:80", "-r", "10.0.0.11:80", "-g", "-w", "1", "-x", "0", "-y", "0"])
        #expect(IpvsadmCommand.deleteServer(Self.tcp80, address: IPv4Address(10, 0, 0, 11), port: 8080).canonicalArguments
                == ["-d", "-t", "10.0.0.100:80", "-r", "10.0.0.11:8080"])
        #expect(IpvsadmCommand.deleteService(Self.tcp80).canonicalArguments == ["-D", "-t", "10.0.0.100:80"])
        #expect(IpvsadmCommand.clear.canonicalArguments == ["-C"])
        #expect(IpvsadmCommand.zero(nil).canonicalArguments == ["-Z"])
        #expect(IpvsadmCommand.zero(Self.tcp80).canonicalArguments == ["-Z", "-t", "10.0.0.100:80"])
        #expect(IpvsadmCommand.setTimeouts(TimeoutSetting(tcp: 900, tcpFin: 120, udp: 300)).canonicalArguments
                == ["--set", "900", "120", "300"])
        #expect(IpvsadmCommand.list(ListOptions()).canonicalArguments == ["-L"])
        let fwm = VirtualServiceKey.firewallMark(7)
        #expect(IpvsadmCommand.addService(VirtualServiceConfig(key: fwm, scheduler: "rr", persistence: Persistence()))
                .canonicalArguments == ["-A", "-f", "7", "-s", "rr", "-p", "360", "-M", "255.255.255.255"])
        #expect(IpvsadmCommand.addServer(fwm, RealServerConfig(address: IPv4Address(10, 0, 0, 11), port: 0)).canonicalArguments
                == ["-a", "-f", "7", "-r", "10.0.0.11:0", "-g", "-w", "1", "-x", "0", "-y", "0"])
        #expect(IpvsadmCommand.deleteServer(fwm, address: IPv4Address(10, 0, 0, 11), port: 443).canonicalArguments
                == ["-d", "-f", "7", "-r", "10.0.0.11:443"])
        #expect(IpvsadmCommand.zero(fwm).canonicalArguments == ["-Z", "-f", "7"])
        var one = ListOptions()
        one.service = fwm
        #expect(IpvsadmCommand.list(one).canonicalArguments == ["-L", "-f", "7"])
        #expect(IpvsadmCommand.save(numeric: true).canonicalArguments == ["-S", "-n"])
    }

    // A command written from a line with names and defaults is the numeric, explicit form.
    @Test func namesAndDefaultsAreWrittenOut() throws {
        let named = IpvsadmCommandLine(serviceNames: ServiceNames(servicesFileText: "http 80/tcp\n"),
                                       resolveHost: { $0 == "lb" ? Self.vip : nil })
        #expect(try named.parse(["-A", "-t", "lb:http", "-p"]).canonicalArguments
                == ["-A", "-t", "10.0.0.100:80", "-s", "wlc", "-p", "360", "-M", "255.255.255.255"])
        #expect(try named.parse(["-a", "-t", "lb:http", "-r", "10.0.0.11"]).canonicalArguments
                == ["-a", "-t", "10.0.0.100:80", "-r", "10.0.0.11:80", "-g", "-w", "1", "-x", "0", "-y", "0"])
    }

    // Property: for many generated commands (of every kind, within what parse can produce),
    // parse(canonicalArguments) is the command again; table commands also restore as -R lines.
    @Test func roundTrip() throws {
        var random = SplitMix64(seed: 0x5EED_1B5A)
        var table: [IpvsadmCommand] = []
        for _ in 0..<3000 {
            let command = Self.randomCommand(&random)
            let arguments = command.canonicalArguments
            #expect(try parser.parse(arguments) == command, "\(arguments)")
            if command.changesTable { table.append(command) }
        }
        #expect(table.count > 1000)
        let stream = table.map { $0.canonicalArguments.joined(separator: " ") }.joined(separator: "\n")
        #expect(try parser.parseRestore(stream) == table)
    }

    // The round trip can fail: a command parse cannot produce (a server port that is not the
    // service's, with direct routing) does not come back unchanged.
    @Test func roundTripDetectsForcedPort() throws {
        let command = IpvsadmCommand.addServer(Self.tcp80, RealServerConfig(address: IPv4Address(10, 0, 0, 11), port: 8080))
        #expect(try parser.parse(command.canonicalArguments) != command)
    }

    static let schedulers = ["rr", "wrr", "lc", "wlc", "sed", "nq", "fo", "ovf", "twos", "sh", "dh", "mh", "lblc", "lblcr",
                             "nosuch", "abcdefghijklmno"]

    static func randomKey(_ r: inout SplitMix64) -> VirtualServiceKey {
        if Int.random(in: 0..<6, using: &r) == 0 { return .firewallMark(UInt32.random(in: 1...UInt32.max, using: &r)) }
        return VirtualServiceKey(transport: Bool.random(using: &r) ? .tcp : .udp, address: IPv4Address(UInt32.random(in: 0...UInt32.max, using: &r)),
                          port: UInt16.random(in: 0...UInt16.max, using: &r))
    }

    static func randomService(_ r: inout SplitMix64) -> VirtualServiceConfig {
        let key = randomKey(&r)
        var persistence: Persistence?
        if (key.port == 0 && !key.isFirewallMark) || Bool.random(using: &r) {
            persistence = Persistence(timeout: UInt32.random(in: 1...2_678_400, using: &r),
                                      netmask: IPv4Address(UInt32.random(in: 0...UInt32.max, using: &r)))
        }
        return VirtualServiceConfig(
            key: key, scheduler: schedulers.randomElement(using: &r) ?? "wlc",
            schedulerFlags: SchedulerFlags(rawValue: UInt8.random(in: 0...7, using: &r)), persistence: persistence,
            onePacketScheduling: (key.transport == .udp || key.isFirewallMark) && Bool.random(using: &r))
    }

    static func randomServer(_ r: inout SplitMix64, port: UInt16) -> RealServerConfig {
        RealServerConfig(address: IPv4Address(UInt32.random(in: 0...UInt32.max, using: &r)), port: port,
                         weight: Int32.random(in: 0...65535, using: &r),
                         upperThreshold: UInt32.random(in: 0...UInt32(Int32.max), using: &r),
                         lowerThreshold: UInt32.random(in: 0...UInt32(Int32.max), using: &r))
    }

    /// The service's port (direct routing forces it), or any port for a firewall-mark service.
    static func serverPort(_ key: VirtualServiceKey, _ r: inout SplitMix64) -> UInt16 {
        key.isFirewallMark ? UInt16.random(in: 0...UInt16.max, using: &r) : key.port
    }

    static func randomList(_ r: inout SplitMix64) -> ListOptions {
        var options = ListOptions()
        options.numeric = Bool.random(using: &r)
        options.sort = Bool.random(using: &r)
        options.exact = Bool.random(using: &r)
        options.tunnelInfo = Bool.random(using: &r)
        // At most one of -c, a service, --timeout, --daemon; formats only where they fit.
        switch Int.random(in: 0...4, using: &r) {
        case 1: options.connections = true
        case 2: options.service = randomKey(&r)
        case 3: options.timeout = true
        case 4: options.daemon = true
        default: break
        }
        if !options.connections && !options.timeout && !options.daemon {
            options.stats = Bool.random(using: &r)
            options.rate = Bool.random(using: &r)
            options.thresholds = Bool.random(using: &r)
        }
        if !options.timeout && !options.daemon {
            options.persistentConnections = Bool.random(using: &r)
        }
        return options
    }

    static func randomDaemon(_ r: inout SplitMix64, start: Bool) -> SyncDaemonOptions {
        var options = SyncDaemonOptions(role: Bool.random(using: &r) ? .master : .backup)
        options.syncID = UInt8.random(in: 0...255, using: &r)
        guard start else { return options }
        options.interface = ["eth0", "eth1", "bond0.100", "enp0s31f6"].randomElement(using: &r)
        if Bool.random(using: &r) { options.maximumLength = UInt16.random(in: 1...65507, using: &r) }
        if Bool.random(using: &r) {
            options.group = IPv4Address(UInt32.random(in: 0xE000_0000...0xEFFF_FFFF, using: &r))
        }
        if Bool.random(using: &r) { options.port = UInt16.random(in: 1...65535, using: &r) }
        if Bool.random(using: &r) { options.ttl = UInt8.random(in: 1...255, using: &r) }
        return options
    }

    static func randomCommand(_ r: inout SplitMix64) -> IpvsadmCommand {
        switch Int.random(in: 0...15, using: &r) {
        case 0: return .addService(randomService(&r))
        case 1: return .editService(randomService(&r))
        case 2: return .deleteService(randomKey(&r))
        case 3: return .clear
        case 4:
            let key = randomKey(&r)
            return .addServer(key, randomServer(&r, port: serverPort(key, &r)))
        case 5:
            let key = randomKey(&r)
            return .editServer(key, randomServer(&r, port: serverPort(key, &r)))
        case 6:
            return .deleteServer(randomKey(&r), address: IPv4Address(UInt32.random(in: 0...UInt32.max, using: &r)),
                                 port: UInt16.random(in: 0...UInt16.max, using: &r))
        case 7: return .zero(Bool.random(using: &r) ? randomKey(&r) : nil)
        case 8:
            return .setTimeouts(TimeoutSetting(tcp: UInt32.random(in: 0...2_678_400, using: &r),
                                               tcpFin: UInt32.random(in: 0...2_678_400, using: &r),
                                               udp: UInt32.random(in: 0...2_678_400, using: &r)))
        case 9: return .list(randomList(&r))
        case 10: return .save(numeric: Bool.random(using: &r))
        case 11: return .restore
        case 12: return .startDaemon(randomDaemon(&r, start: true))
        case 13: return .stopDaemon(randomDaemon(&r, start: false))
        case 14: return .help
        default: return .version
        }
    }
}

/// A small seeded generator, so that a failing round trip can be replayed.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
