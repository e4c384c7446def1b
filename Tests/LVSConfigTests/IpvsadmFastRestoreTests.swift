@testable import LVSConfig
import LVSCore
import Testing

/// The fast path of `-R` (`fastRestoreLine`) against the general parser: on every line it takes
/// it must give the general parser's command, and a whole stream must read the same (commands,
/// line numbers and errors) with and without it.
@Suite struct IpvsadmFastRestoreTests {
    static let parser = IpvsadmCommandLine(
        serviceNames: ServiceNames(servicesFileText: "http 80/tcp\ndomain 53/udp\n"),
        resolveHost: { $0 == "web" ? IPv4Address(10, 200, 0, 9) : nil })

    static let commands = ["-A", "-E", "-D", "-C", "-a", "-e", "-d", "-L", "-Z", "-At", "-R", "ipvsadm", "#", "--add-service"]
    static let selectors = ["-t", "-u", "-f", "-tu", "-t", "-u"]
    static let endpoints = [
        "10.200.0.100:80", "10.200.0.100:80", "10.200.0.100:1", "10.200.0.100:65535", "10.200.0.100:0", "10.200.0.100",
        "0.0.0.0:80", "255.255.255.255:53", "10.200.0.010:80", "1.2.3.256:80", "1.2.3:80", "10.0.0.1:65536",
        "10.0.0.1:http", "10.0.0.1:domain", "10.0.0.1:", "[::1]:80", "1234", "10.0.0.1:+80", "10.0.0.1:080",
        "web:80", "10.0.0.1:1:2", "::1", "10.0.0.1:00080", "-s", "1.2.3.4.5:80",
    ]
    static let options = [
        ["-s", "wlc"], ["-s", "rr"], ["-s", "fifteen-bytes-x"], ["-s", "sixteen-bytes-xx"], ["-s"], ["-s", "-g"],
        ["-s", "ipvsadm"], ["-p"], ["-p", "300"], ["-p", "0"], ["-p", "2678400"], ["-p", "2678401"], ["-p", "x"],
        ["-p", "0000300"], ["-M", "255.255.255.0"], ["-M", "255.255.255.00"], ["-M", "web"], ["-o"], ["-b", "sh-port"],
        ["-r", "10.200.0.11:80"], ["-r", "10.200.0.11"], ["-r", "web"], ["-r", "10.200.0.011"], ["-r", "10.200.0.11:http"],
        ["-r", "10.200.0.11:99999"], ["-r"], ["-g"], ["-g"], ["-m"], ["-i"], ["-w", "1"], ["-w", "65536"], ["-w", "-1"],
        ["-w", "0"], ["-w", "065535"], ["-w", "+3"], ["-x", "10"], ["-y", "5"], ["-x", "2147483648"],
        ["-y", "2147483647"], ["-x", "02147483647"], ["-n"], ["ipvsadm"], ["#"], ["-w"], ["extra"], ["--weight=3"], ["-w3"],
        ["-6"], ["-h"], ["--set", "1", "2", "3"],
    ]
    static let separators = [" ", " ", " ", "\t", "  ", " \t "]

    static func generatedLine(_ random: inout SplitMix) -> String {
        var tokens: [String] = []
        tokens.append(commands[random.next(commands.count)])
        if random.next(10) > 0 {
            tokens.append(selectors[random.next(selectors.count)])
            tokens.append(endpoints[random.next(endpoints.count)])
        }
        for _ in 0..<random.next(6) { tokens += options[random.next(options.count)] }
        // Mostly well-formed lines, so that the fast path is exercised as much as the fallback.
        if random.next(3) == 0 {
            let port = random.next(70000)
            tokens = random.next(2) == 0
                ? ["-A", "-t", "10.200.0.100:\(port)", "-s", "wlc"]
                : ["-a", "-u", "10.200.0.100:\(port)", "-r", "10.200.0.\(random.next(300)):\(port)", "-g", "-w",
                   String(random.next(70000))]
        }
        var line = random.next(8) == 0 ? " " : ""
        for (i, token) in tokens.enumerated() {
            if i > 0 { line += separators[random.next(separators.count)] }
            line += token
        }
        if random.next(8) == 0 { line += "\r" }
        return line
    }

    static func outcome(_ text: String, fastPath: Bool) -> (lines: [Int], commands: [IpvsadmCommand], error: IpvsadmRestoreError?) {
        do {
            let read = try parser.parseRestoreNumbered(text, fastPath: fastPath)
            return (read.map(\.line), read.map(\.command), nil)
        } catch {
            return ([], [], error)
        }
    }

    @Test func everyLineTheFastPathTakesReadsAsTheGeneralParserReadsIt() throws {
        var random = SplitMix(seed: 2026)
        var taken = 0
        var refused = 0
        for _ in 0..<20_000 {
            let line = Self.generatedLine(&random)
            let general = Self.outcome(line, fastPath: false)
            let fast = Self.outcome(line, fastPath: true)
            #expect(fast.lines == general.lines, "\(line)")
            #expect(fast.commands == general.commands, "\(line)")
            #expect(fast.error == general.error, "\(line)")
            if let command = IpvsadmCommandLine.fastRestoreLine(Substring(line)) {
                taken += 1
                #expect(general.error == nil && general.commands == [command], "\(line)")
            } else if general.error != nil {
                refused += 1
            }
        }
        // Both paths were exercised.
        #expect(taken > 4000)
        #expect(refused > 4000)
    }

    @Test func wholeStreamsReadTheSame() {
        var random = SplitMix(seed: 7)
        for _ in 0..<300 {
            var text = ""
            for _ in 0..<random.next(40) { text += Self.generatedLine(&random) + "\n" }
            let general = Self.outcome(text, fastPath: false)
            let fast = Self.outcome(text, fastPath: true)
            #expect(fast.lines == general.lines)
            #expect(fast.commands == general.commands)
            #expect(fast.error == general.error)
        }
    }

    @Test func theUsualShapesTakeTheFastPath() {
        let lines = [
            "-A -t 10.200.0.100:80 -s wlc", "-a -t 10.200.0.100:80 -r 10.200.0.11:80 -g -w 1",
            "-A -u 10.200.0.100:53 -s sh -p 300 -M 255.255.255.0 -o", "-E -t 10.200.0.100:0 -s rr -p",
            "-a -t 10.200.0.100:80 -r 10.200.0.11:80 -g -w 3 -x 100 -y 10", "-D -t 10.200.0.100:80", "-C",
            "-e -u 10.200.0.100:53 -r 10.200.0.12 -w 0",
        ]
        for line in lines {
            #expect(IpvsadmCommandLine.fastRestoreLine(Substring(line)) != nil, "\(line)")
        }
        // lvsd's saved table is in shapes the fast path reads.
        var table = DirectorConfiguration()
        let key = VirtualServiceKey(transport: .tcp, address: IPv4Address(10, 200, 0, 100), port: 80)
        table.services = [VirtualServiceConfig(key: key, scheduler: "wrr", persistence: Persistence(timeout: 600),
                                               realServers: [RealServerConfig(address: IPv4Address(10, 200, 0, 11), port: 80,
                                                                              weight: 2, upperThreshold: 9, lowerThreshold: 1)])]
        for line in table.canonicalRuleText().split(separator: "\n") {
            #expect(IpvsadmCommandLine.fastRestoreLine(line) != nil, "\(line)")
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
