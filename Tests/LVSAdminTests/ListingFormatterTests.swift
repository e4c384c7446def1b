import LVSConfig
import LVSCore
import Testing
@testable import LVSAdmin

/// Every listing compared byte for byte with a hand-derived file in `Golden/` (see its README
/// for the printf format each file exercises).
@Suite struct ListingFormatterTests {
    static func options(numeric: Bool = true, _ configure: (inout ListOptions) -> Void = { _ in }) -> ListOptions {
        var options = ListOptions()
        options.numeric = numeric
        configure(&options)
        return options
    }

    static func list(_ status: DirectorStatus, _ options: ListOptions, names: some NameResolver = NumericNames(),
                     syncDaemons: [SyncDaemonStatus] = []) throws -> String {
        try ListingFormatter.list(status, options: options, names: names, syncDaemons: syncDaemons)
    }

    @Test func emptyTable() throws {
        let status = DirectorStatus(connectionTableSize: 4096, timeouts: ListingFixtures.defaultTimeouts)
        #expect(try Self.list(status, Self.options()) == Golden.text("empty.txt"))
    }

    @Test func mixedTable() throws {
        #expect(try Self.list(ListingFixtures.mixed, Self.options()) == Golden.text("mixed.txt"))
    }

    // -n wins over any resolver: ipvsadm does not look names up at all then.
    @Test func numericIgnoresResolver() throws {
        #expect(try Self.list(ListingFixtures.mixed, Self.options(), names: FakeNames()) == Golden.text("mixed.txt"))
    }

    @Test func thresholds() throws {
        let options = Self.options { $0.thresholds = true }
        #expect(try Self.list(ListingFixtures.mixed, options) == Golden.text("mixed-thresholds.txt"))
    }

    @Test func persistentConnections() throws {
        let options = Self.options { $0.persistentConnections = true }
        #expect(try Self.list(ListingFixtures.mixed, options) == Golden.text("mixed-persistent-conn.txt"))
    }

    @Test func tunnelInfo() throws {
        let options = Self.options { $0.tunnelInfo = true }
        #expect(try Self.list(ListingFixtures.mixed, options) == Golden.text("mixed-tun-info.txt"))
    }

    // ipvsadm tests --stats before --rate before --thresholds before --persistent-conn.
    @Test func statsWinsOverTheOtherLayouts() throws {
        let options = Self.options {
            $0.stats = true
            $0.rate = true
            $0.thresholds = true
            $0.persistentConnections = true
            $0.tunnelInfo = true
        }
        #expect(try Self.list(ListingFixtures.counters, options) == Golden.text("stats.txt"))
    }

    @Test func stats() throws {
        let options = Self.options { $0.stats = true }
        #expect(try Self.list(ListingFixtures.counters, options) == Golden.text("stats.txt"))
    }

    @Test func statsExact() throws {
        let options = Self.options {
            $0.stats = true
            $0.exact = true
        }
        #expect(try Self.list(ListingFixtures.counters, options) == Golden.text("stats-exact.txt"))
    }

    @Test func rate() throws {
        let options = Self.options { $0.rate = true }
        #expect(try Self.list(ListingFixtures.counters, options) == Golden.text("rate.txt"))
    }

    @Test func connections() throws {
        let options = Self.options { $0.connections = true }
        #expect(try Self.list(ListingFixtures.withConnections, options) == Golden.text("connections.txt"))
    }

    @Test func connectionsWithPersistenceEngineColumns() throws {
        let options = Self.options {
            $0.connections = true
            $0.persistentConnections = true
        }
        #expect(try Self.list(ListingFixtures.withConnections, options)
                    == Golden.text("connections-persistent-conn.txt"))
    }

    // Connections not fetched (nil) list like an empty table: the two header lines.
    @Test func connectionsWhenNoneFetched() throws {
        let options = Self.options { $0.connections = true }
        let output = try Self.list(ListingFixtures.mixed, options)
        #expect(output == "IPVS connection entries\n"
                    + "pro expire state       source             virtual            destination\n")
    }

    @Test func timeout() throws {
        let options = Self.options { $0.timeout = true }
        #expect(try Self.list(ListingFixtures.mixed, options) == Golden.text("timeout.txt"))
        var status = ListingFixtures.mixed
        status.timeouts = TimeoutSetting(tcp: 7200, tcpFin: 60, udp: 10)
        #expect(try Self.list(status, options) == "Timeout (tcp tcpfin udp): 7200 60 10\n")
    }

    @Test func daemonNoneRunningPrintsNothing() throws {
        let options = Self.options { $0.daemon = true }
        #expect(try Self.list(ListingFixtures.mixed, options).isEmpty)
    }

    @Test func daemonsMasterFirst() throws {
        let options = Self.options { $0.daemon = true }
        let daemons = [
            SyncDaemonStatus(role: .backup, interface: "eth1", syncID: 7),
            SyncDaemonStatus(role: .master, interface: "eth0", syncID: 0, maximumLength: 1472,
                             group: ListingFixtures.ip("224.0.0.81"), port: 8848, ttl: 1),
        ]
        #expect(try Self.list(ListingFixtures.mixed, options, syncDaemons: daemons) == Golden.text("daemon.txt"))
    }

    @Test func sortQuirk() throws {
        #expect(try Self.list(ListingFixtures.sortQuirk, Self.options()) == Golden.text("sort-quirk.txt"))
    }

    @Test func noSort() throws {
        let options = Self.options { $0.sort = false }
        #expect(try Self.list(ListingFixtures.sortQuirk, options) == Golden.text("sort-quirk-nosort.txt"))
    }

    @Test func singleService() throws {
        let options = Self.options {
            $0.service = VirtualServiceKey(transport: .tcp, address: ListingFixtures.ip("10.0.0.100"), port: 443)
        }
        #expect(try Self.list(ListingFixtures.mixed, options) == Golden.text("single-service.txt"))
    }

    // A missing service, or the right address and port under the other protocol, is ipvsadm's
    // "No such service" with exit status 1, and nothing on standard output.
    @Test(arguments: [
        VirtualServiceKey(transport: .tcp, address: ListingFixtures.ip("10.0.0.100"), port: 8443),
        VirtualServiceKey(transport: .udp, address: ListingFixtures.ip("10.0.0.100"), port: 80),
    ])
    func singleServiceMissing(key: VirtualServiceKey) {
        let options = Self.options { $0.service = key }
        #expect(throws: ListingError.noSuchService) {
            try ListingFormatter.list(ListingFixtures.mixed, options: options, names: NumericNames())
        }
        #expect(ListingError.noSuchService.message == "No such service")
        #expect(ListingError.noSuchService.exitCode == 1)
    }

    @Test func namesMode() throws {
        #expect(try Self.list(ListingFixtures.named, Self.options(numeric: false), names: FakeNames())
                    == Golden.text("names.txt"))
    }

    @Test func save() throws {
        #expect(try ListingFormatter.save(ListingFixtures.mixed, numeric: true, names: FakeNames())
                    == Golden.text("save-mixed.txt"))
    }

    @Test func saveWithNames() throws {
        #expect(try ListingFormatter.save(ListingFixtures.named, numeric: false, names: FakeNames())
                    == Golden.text("save-names.txt"))
    }

    @Test func saveEmptyTableIsEmpty() {
        let status = DirectorStatus(connectionTableSize: 4096, timeouts: ListingFixtures.defaultTimeouts)
        #expect(ListingFormatter.save(status, numeric: true, names: NumericNames()).isEmpty)
    }
    // MARK: - Firewall-mark services

    // "FWM  %u" service lines, sorted after the -t/-u services (mark 0) in mark order; their
    // real servers are listed with the port they were added with (0 by default).
    @Test func firewallMarkServices() throws {
        #expect(try Self.list(ListingFixtures.firewallMarks, Self.options()) == Golden.text("firewall-marks.txt"))
        // Names change nothing in an FWM line (it has no address), only the servers'.
        let named = try Self.list(ListingFixtures.firewallMarks, Self.options(numeric: false), names: FakeNames())
        #expect(named.contains("\nFWM  1 rr persistent 300 mask 255.255.255.0\n  -> web1.example:0 "))
        #expect(named.contains("\nFWM  100 sh (sh-port) ops\n  -> an-extremely-long-host-name- Route "))
    }

    @Test func firewallMarkStats() throws {
        let options = Self.options { $0.stats = true }
        #expect(try Self.list(ListingFixtures.firewallMarks, options) == Golden.text("firewall-marks-stats.txt"))
    }

    @Test func firewallMarkSingleService() throws {
        let options = Self.options { $0.service = .firewallMark(1) }
        #expect(try Self.list(ListingFixtures.firewallMarks, options) == Golden.text("firewall-marks-single.txt"))
        let missing = Self.options { $0.service = .firewallMark(3) }
        #expect(throws: ListingError.noSuchService) {
            try ListingFormatter.list(ListingFixtures.firewallMarks, options: missing, names: NumericNames())
        }
    }

    // "-A -f %u -s %s", and "-a -f %u -r addr:port -g -w %d".
    @Test func firewallMarkSave() throws {
        #expect(ListingFormatter.save(ListingFixtures.firewallMarks, numeric: true, names: NumericNames())
                    == (try Golden.text("save-firewall-marks.txt")))
    }

    // Templates of firewall-mark services list as protocol IP with the mark as their address.
    @Test func firewallMarkConnections() throws {
        let options = Self.options { $0.connections = true }
        #expect(try Self.list(ListingFixtures.firewallMarkConnections, options)
                    == Golden.text("connections-firewall-marks.txt"))
        // Without -n the IP template's port is not looked up (ipvsadm has no names for IP).
        let named = try Self.list(ListingFixtures.firewallMarkConnections, Self.options(numeric: false) { $0.connections = true },
                                  names: FakeNames())
        #expect(named.contains("\nIP  04:59  NONE        172.16.0.0:0       0.0.0.1:0          realserver-with-a-long-name.dc1.example:0\n"))
    }
}
