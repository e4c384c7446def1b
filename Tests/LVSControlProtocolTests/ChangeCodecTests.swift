import LVSConfig
import LVSControlProtocol
import LVSCore
import Testing

@Suite struct ChangeCodecTests {
    static let vip = IPv4Address(10, 200, 0, 100)
    static let key = VirtualServiceKey(transport: .tcp, address: vip, port: 80)
    static let dns = VirtualServiceKey(transport: .udp, address: IPv4Address(255, 255, 255, 255), port: 0)
    static let server = RealServerConfig(address: IPv4Address(10, 200, 0, 11), port: 80, weight: 65535,
                                         upperThreshold: UInt32(Int32.max), lowerThreshold: 7)

    static let everyKind: [IpvsadmCommand] = [
        .addService(VirtualServiceConfig(key: key, scheduler: "wlc")),
        .addService(VirtualServiceConfig(key: dns, scheduler: "sh", schedulerFlags: [.flag1, .flag2, .flag3],
                                         persistence: Persistence(timeout: 2_678_400, netmask: IPv4Address(255, 255, 0, 0)),
                                         onePacketScheduling: true)),
        .editService(VirtualServiceConfig(key: key, scheduler: "fifteen-bytes-x", persistence: Persistence(timeout: 1))),
        .deleteService(dns),
        .clear,
        .addServer(key, server),
        .editServer(key, RealServerConfig(address: IPv4Address(0, 0, 0, 0), port: 0, weight: 0)),
        .deleteServer(key, address: IPv4Address(10, 200, 0, 12), port: 65535),
        .zero(nil),
        .zero(dns),
        .setTimeouts(TimeoutSetting(tcp: 0, tcpFin: 2_678_400, udp: 300)),
        .addService(VirtualServiceConfig(key: .firewallMark(4_294_967_295), scheduler: "rr", persistence: Persistence())),
        .addServer(.firewallMark(1), RealServerConfig(address: IPv4Address(10, 200, 0, 13), port: 0)),
        .zero(.firewallMark(7)),
    ]

    @Test func everyTableCommandRoundTrips() throws {
        let request = ControlRequest.change(Self.everyKind)
        #expect(try ControlRequest.decode(request.encoded()) == request)
        #expect(try ControlRequest.decode(ControlRequest.change([]).encoded()) == .change([]))
    }

    @Test func recordsAreTabSeparatedNumbers() {
        #expect(ChangeCodec.record(Self.everyKind[0]) == "A\t6\t10.200.0.100\t80\t0\twlc\t0\t-\t255.255.255.255\t0")
        #expect(ChangeCodec.record(Self.everyKind[5]) == "a\t6\t10.200.0.100\t80\t0\t10.200.0.11\t80\t65535\t2147483647\t7")
        #expect(ChangeCodec.record(.zero(.firewallMark(3))) == "Z\t6\t0.0.0.0\t0\t3")
        #expect(ChangeCodec.record(.zero(nil)) == "Z")
        #expect(ChangeCodec.record(.clear) == "C")
        #expect(ChangeCodec.record(.deleteServer(Self.key, address: IPv4Address(1, 2, 3, 4), port: 8))
            == "d\t6\t10.200.0.100\t80\t0\t1.2.3.4\t8")
        #expect(ChangeCodec.record(.setTimeouts(TimeoutSetting(tcp: 1, tcpFin: 2, udp: 3))) == "T\t1\t2\t3")
    }

    /// What lvsadm's parser produces for many generated command lines survives the wire.
    @Test func parsedCommandsRoundTrip() throws {
        let parser = IpvsadmCommandLine(serviceNames: ServiceNames(), resolveHost: { _ in nil })
        var random = SplitMix(seed: 4)
        var commands: [IpvsadmCommand] = []
        let schedulers = ["rr", "wrr", "lc", "wlc", "sh", "mh", "dh", "sed", "nq", "fo", "ovf", "lblc", "nosuch", "x"]
        for _ in 0..<2000 {
            let proto = random.next(2) == 0 ? "-t" : "-u"
            let vip = "\(random.next(256)).\(random.next(256)).\(random.next(256)).\(random.next(256))"
            let port = random.next(3) == 0 ? 0 : random.next(65536)
            var line: [String]
            switch random.next(7) {
            case 0, 1:
                line = [random.next(2) == 0 ? "-A" : "-E", proto, "\(vip):\(port)", "-s", schedulers[random.next(schedulers.count)]]
                if port == 0 || random.next(3) == 0 { line += ["-p", String(1 + random.next(2_678_400))] }
                if random.next(3) == 0 { line += ["-M", "255.255.\(random.next(256)).0"] }
                if proto == "-u" && random.next(2) == 0 { line.append("-o") }
                if random.next(4) == 0 { line += ["-b", "flag-1,flag-3"] }
            case 2:
                line = ["-D", proto, "\(vip):\(port)"]
            case 3, 4:
                line = [random.next(2) == 0 ? "-a" : "-e", proto, "\(vip):\(port)", "-r",
                        "10.\(random.next(256)).\(random.next(256)).\(random.next(256)):\(random.next(65536))", "-g",
                        "-w", String(random.next(65536)), "-x", String(random.next(1 << 31)), "-y", String(random.next(100))]
            case 5:
                line = ["-d", proto, "\(vip):\(port)", "-r", "10.0.0.\(random.next(256))"]
            default:
                line = random.next(2) == 0 ? ["-Z"] : random.next(2) == 0 ? ["-C"]
                    : ["--set", String(random.next(2_678_401)), String(random.next(100)), String(random.next(100))]
            }
            commands.append(try parser.parse(line))
        }
        let request = ControlRequest.change(commands)
        #expect(try ControlRequest.decode(request.encoded()) == request)
    }

    @Test(arguments: [
        "X", "AA\t6\t10.0.0.1\t80\twlc\t0\t-\t255.255.255.255\t0", "", "\t",
        // Wrong protocol, address, port, scheduler, flags, persistence, netmask, ops.
        "A\t1\t10.0.0.1\t80\twlc\t0\t-\t255.255.255.255\t0", "A\t6\t10.0.0\t80\twlc\t0\t-\t255.255.255.255\t0",
        "A\t6\t10.0.0.256\t80\twlc\t0\t-\t255.255.255.255\t0", "A\t6\t10.0.0.1\t65536\twlc\t0\t-\t255.255.255.255\t0",
        "A\t6\t10.0.0.1\t+80\twlc\t0\t-\t255.255.255.255\t0", "A\t6\t10.0.0.1\t80\t\t0\t-\t255.255.255.255\t0",
        "A\t6\t10.0.0.1\t80\tsixteen-bytes-xx\t0\t-\t255.255.255.255\t0",
        "A\t6\t10.0.0.1\t80\twlc\t8\t-\t255.255.255.255\t0", "A\t6\t10.0.0.1\t80\twlc\t0\t0\t255.255.255.255\t0",
        "A\t6\t10.0.0.1\t80\twlc\t0\t2678401\t255.255.255.255\t0", "A\t6\t10.0.0.1\t80\twlc\t0\t-\tmask\t0",
        "A\t6\t10.0.0.1\t80\twlc\t0\t-\t255.255.255.255\t2", "A\t6\t10.0.0.1\t80\twlc\t0\t-\t255.255.255.255",
        "A\t6\t10.0.0.1\t80\twlc\t0\t-\t255.255.255.255\t0\t", "C\t", "C\tx",
        // Weight and thresholds out of the parser's ranges.
        "a\t6\t10.0.0.1\t80\t10.0.0.2\t80\t65536\t0\t0", "a\t6\t10.0.0.1\t80\t10.0.0.2\t80\t-1\t0\t0",
        "a\t6\t10.0.0.1\t80\t10.0.0.2\t80\t1\t2147483648\t0", "a\t6\t10.0.0.1\t80\t10.0.0.2\t80\t1\t0",
        "d\t6\t10.0.0.1\t80\t10.0.0.2", "D\t6\t10.0.0.1", "Z\t6\t10.0.0.1", "Z\t6\t10.0.0.1\t80\t1",
        "T\t1\t2", "T\t1\t2\t2678401", "T\t1\t2\t99999999999999999999",
        // Commands that do not change the table are refused by name.
        "-L", "-S",
    ])
    func badRecordsAreRefused(record: String) {
        #expect(throws: ControlProtocolError.self) {
            try ControlRequest.decode("lvsctl \(ControlProtocol.version) change\n\(record)\n")
        }
    }

    @Test func aListingIsNotAChange() {
        var options = ListOptions()
        options.numeric = true
        let text = ControlRequest.change([.clear, .list(options)]).encoded()
        #expect(throws: ControlProtocolError("'-L' does not change the table; a change request takes -A -E -D -C -a -e -d -Z --set")) {
            try ControlRequest.decode(text)
        }
    }

    @Test func decimalsAreWrittenWhole() {
        for value: UInt64 in [0, 9, 10, 99, 100, 65535, 4_294_967_295, UInt64.max] {
            var bytes: [UInt8] = []
            bytes.appendDecimal(value)
            #expect(String(decoding: bytes, as: UTF8.self) == String(value))
            #expect(decimalLength(value) == String(value).utf8.count)
        }
        for value: Int64 in [0, -1, 7, Int64.min, Int64.max] {
            var bytes: [UInt8] = []
            bytes.appendDecimal(value)
            #expect(String(decoding: bytes, as: UTF8.self) == String(value))
        }
        for address in [IPv4Address(0), IPv4Address(0xFFFF_FFFF), IPv4Address(10, 200, 0, 100), IPv4Address(1, 20, 3, 0)] {
            var bytes: [UInt8] = []
            bytes.appendDottedQuad(address)
            #expect(String(decoding: bytes, as: UTF8.self) == address.description)
        }
    }
}

/// A small deterministic generator for property tests.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next(_ bound: Int) -> Int {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        return Int(z % UInt64(bound))
    }
}
