import LVSConfig
import LVSCore
import Testing

/// lvsd's saved table: every line is the command's canonical arguments joined with spaces,
/// and it reads back to the same table.
@Suite struct CanonicalRuleTextTests {
    static func table(seed: UInt64, services: Int) -> DirectorConfiguration {
        var random = SplitMix(seed: seed)
        var table = DirectorConfiguration()
        let schedulers = ["rr", "wrr", "wlc", "sh", "mh", "lblc"]
        for i in 0..<services {
            let key = VirtualServiceKey(transport: random.next(2) == 0 ? .tcp : .udp,
                                        address: IPv4Address(UInt32(truncatingIfNeeded: random.next(1 << 32))),
                                        port: UInt16(i + 1))
            var service = VirtualServiceConfig(
                key: key, scheduler: schedulers[random.next(schedulers.count)],
                schedulerFlags: SchedulerFlags(rawValue: UInt8(random.next(8))),
                persistence: random.next(2) == 0 ? nil
                    : Persistence(timeout: UInt32(1 + random.next(2_678_400)), netmask: IPv4Address(UInt32(random.next(1 << 32)))),
                onePacketScheduling: key.transport == .udp && random.next(2) == 0)
            for _ in 0..<random.next(5) {
                let upper = UInt32(random.next(1 << 31))
                service.realServers.append(RealServerConfig(
                    address: IPv4Address(UInt32(truncatingIfNeeded: random.next(1 << 32))), port: key.port,
                    weight: Int32(random.next(65536)), upperThreshold: upper,
                    lowerThreshold: UInt32(random.next(Int(upper) + 1))))
            }
            table.services.append(service)
        }
        return table
    }

    @Test func linesAreTheCanonicalArgumentsJoined() {
        let table = Self.table(seed: 11, services: 300)
        var expected = "# header\n"
        for service in table.services {
            var bare = service
            bare.realServers = []
            expected += IpvsadmCommand.addService(bare).canonicalArguments.joined(separator: " ") + "\n"
            for server in service.realServers {
                expected += IpvsadmCommand.addServer(service.key, server).canonicalArguments.joined(separator: " ") + "\n"
            }
        }
        #expect(table.canonicalRuleText(header: "# header\n") == expected)
        #expect(DirectorConfiguration().canonicalRuleText() == "")
    }

    @Test func theTextRestoresTheTable() throws {
        let table = Self.table(seed: 12, services: 200)
        let parser = IpvsadmCommandLine(serviceNames: ServiceNames(), resolveHost: { _ in nil })
        let commands = try parser.parseRestore(table.canonicalRuleText(header: "# lvsd\n"))
        #expect(try DirectorConfiguration().applying(commands) == table)
    }
}
