import LVSAdmin
import LVSConfig
import LVSControlProtocol
import LVSCore
#if canImport(Glibc)
import Glibc
#endif

// The control plane of issue 4, phase by phase, in one process: what `lvsadm -R` of SERVICES
// services x 4 real servers costs in lvsadm (parse, encode), in lvsd (decode, the table checks,
// the engine's apply, the saved table), and what `lvsadm -L -n` costs (status in lvsd, its
// encoding, decoding and formatting in lvsadm). Each phase is one function that is never
// inlined, so `callgrind_annotate --inclusive=yes` gives its instructions by name (phase*);
// the user CPU time of each phase is printed. Usage: ControlPlane [SERVICES]
let services = CommandLine.arguments.count > 1 ? Int(CommandLine.arguments[1]) ?? 10_000 : 10_000

func rulesText(_ n: Int) -> String {
    var text = ""
    for port in 1...n {
        text += "-A -t 10.200.0.100:\(port) -s wlc\n"
        for rs in 11...14 { text += "-a -t 10.200.0.100:\(port) -r 10.200.0.\(rs):\(port) -g -w 1\n" }
    }
    return text
}

func userSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
}

var report: [(String, Double)] = []
@MainActor func timed<T>(_ name: String, _ body: () throws -> T) rethrows -> T {
    let start = userSeconds()
    let result = try body()
    report.append((name, userSeconds() - start))
    return result
}

let parser = IpvsadmCommandLine(serviceNames: ServiceNames(), resolveHost: { _ in nil })

@inline(never) func phaseParse(_ text: String) throws -> [IpvsadmCommand] {
    try parser.parseRestoreNumbered(text).map(\.command)
}

@inline(never) func phaseEncodeChange(_ commands: [IpvsadmCommand]) -> String {
    ControlRequest.change(commands).encoded()
}

@inline(never) func phaseDecodeChange(_ text: String) throws -> [IpvsadmCommand] {
    guard case .change(let commands) = try ControlRequest.decode(text) else { fatalError("not a change") }
    return commands
}

@inline(never) func phaseTableChecks(_ commands: [IpvsadmCommand], onto table: DirectorConfiguration) throws
    -> DirectorConfiguration
{
    var next = table
    var index = next.serviceIndex()
    for command in commands { try next.apply(command, index: &index) }
    return next
}

@inline(never) func phaseCompare(_ a: DirectorConfiguration, _ b: DirectorConfiguration) -> Bool { a != b }

@inline(never) func phaseEngineApply(_ engine: ForwardingEngine, _ table: DirectorConfiguration) throws -> ApplyOutcome {
    try engine.apply(table)
}

@inline(never) func phaseSavedText(_ table: DirectorConfiguration) -> String { table.canonicalRuleText() }

@inline(never) func phaseStatus(_ engine: ForwardingEngine) -> DirectorStatus {
    engine.status(now: 1_000_000_000, includeConnections: false)
}

@inline(never) func phaseEncodeStatus(_ status: DirectorStatus) -> String { ControlResponse.ok(status).encoded() }

@inline(never) func phaseDecodeStatus(_ text: String) throws -> DirectorStatus {
    guard case .ok(let status?) = try ControlResponse.decode(text) else { fatalError("no status") }
    return status
}

@inline(never) func phaseList(_ status: DirectorStatus) throws -> String {
    var options = ListOptions()
    options.numeric = true
    return try ListingFormatter.list(status, options: options, names: NumericNames())
}

@inline(never) func phaseSave(_ status: DirectorStatus) -> String {
    ListingFormatter.save(status, numeric: true, names: NumericNames())
}

do {
    let text = rulesText(services)
    let engine = try ForwardingEngine(
        configuration: DirectorConfiguration(), directorMAC: MACAddress(value: 0x0200_0000_0001),
        directorAddress: IPv4Address(10, 200, 0, 2), connectionCapacity: 1 << 20, hashSeed: 42)
    let commands = try timed("lvsadm: parse -R text") { try phaseParse(text) }
    let request = timed("lvsadm: encode change") { phaseEncodeChange(commands) }
    let decoded = try timed("lvsd: decode change") { try phaseDecodeChange(request) }
    precondition(decoded == commands, "the change did not survive the wire")
    let empty = DirectorConfiguration()
    let table = try timed("lvsd: table checks (apply)") { try phaseTableChecks(decoded, onto: empty) }
    let changed = timed("lvsd: compare tables") { phaseCompare(table, empty) }
    precondition(changed)
    _ = try timed("lvsd: engine apply") { try phaseEngineApply(engine, table) }
    let saved = timed("lvsd: saved table text") { phaseSavedText(table) }
    let status = timed("lvsd: status") { phaseStatus(engine) }
    let response = timed("lvsd: encode status") { phaseEncodeStatus(status) }
    let back = try timed("lvsadm: decode status") { try phaseDecodeStatus(response) }
    precondition(back == status, "the status did not survive the wire")
    let listing = try timed("lvsadm: format -L -n") { try phaseList(back) }
    let save = timed("lvsadm: format -S -n") { phaseSave(back) }
    for (name, seconds) in report {
        print(name.padding(30) + String(Int((seconds * 1000).rounded())) + " ms user")
    }
    print("request \(request.utf8.count) B, status \(response.utf8.count) B, listing \(listing.utf8.count) B, "
        + "save \(save.utf8.count) B, saved table \(saved.utf8.count) B")
} catch {
    print("ControlPlane: \(error)")
    exit(1)
}

extension String {
    func padding(_ width: Int) -> String {
        utf8.count >= width ? self + " " : self + String(repeating: " ", count: width - utf8.count)
    }
}
