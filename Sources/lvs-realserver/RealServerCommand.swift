import ArgumentParser
import Foundation
import LVSCore
import LVSRealServer

struct RealServerCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "lvs-realserver",
        abstract: "Set a host up as an LVS direct-routing real server, undo it, check it.",
        discussion: """
            In direct routing the director forwards frames for the VIP to the real servers without \
            changing the IP header, so every real server must accept the VIP as its own, yet never \
            answer ARP for it (or the clients and the router send traffic straight to one server). \
            See docs/REALSERVER.md.
            """,
        subcommands: [Apply.self, Revert.self, Check.self])
}

/// Where the state file and the persisted files go.
struct LocationOptions: ParsableArguments {
    @Option(name: .customLong("state-dir"), help: "Directory of the state file that revert reads.")
    var stateDirectory: String = StateStore.defaultDirectory

    @Option(name: .customLong("persist-root"), help: "Root below which --persist writes its files (and revert looks for them).")
    var persistRoot: String = "/"

    func setup() -> RealServerSetup<LinuxHost> {
        RealServerSetup(host: LinuxHost(), store: StateStore(directory: stateDirectory),
                        layout: PersistenceLayout(root: persistRoot))
    }
}

extension SetupMethod: ExpressibleByArgument {}

/// Prints a RealServerError the way an operator needs it and exits with `code`.
func fail(_ error: any Error, code: Int32 = 1) -> ExitCode {
    var stderr = FileHandle.standardError
    print("lvs-realserver: error: \(error)", to: &stderr)
    return ExitCode(code)
}

extension FileHandle: @retroactive TextOutputStream {
    public func write(_ string: String) { write(Data(string.utf8)) }
}

/// Parses a comma-separated VIP list for ArgumentParser.
func vipList(_ text: String) throws -> [IPv4Address] {
    do { return try parseVirtualAddresses(text) } catch { throw ValidationError("\(error)") }
}

func portList(_ text: String?) throws -> [ServicePort] {
    guard let text else { return [] }
    do { return try ServicePort.parseList(text) } catch { throw ValidationError("\(error)") }
}

/// The interface given, or the one the host's routes point at.
func resolveInterface(_ given: String?, setup: RealServerSetup<LinuxHost>) throws -> String {
    if let given { return given }
    guard let guess = try setup.host.observe(paths: []).guessInterface() else {
        throw RealServerError(.invalidArgument, "cannot tell which interface faces the director (no default route, and not exactly one interface with an address)",
                              remedy: "pass --interface")
    }
    return guess
}

struct Apply: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Make this host a DR real server for the VIPs (reversibly: revert undoes it).")

    @Option(help: "VIP[,VIP...]")
    var vip: String

    @Option(help: "sysctl (VIP on lo, arp_ignore/arp_announce), arptables, iptables (REDIRECT), firewalld.")
    var method: SetupMethod = .sysctl

    @Option(help: "Interface that faces the director (default: the default route's).")
    var interface: String?

    @Option(help: "This host's address, written into its ARP requests in place of the VIP (arptables; default: the interface's).")
    var rip: String?

    @Option(help: "Service ports, PORT[/tcp|/udp],... (needed by iptables and firewalld).")
    var ports: String?

    @Flag(help: "Also write files that redo the setup at boot (sysctl.d, saved rules, a systemd unit).")
    var persist = false

    @Flag(name: .customLong("dry-run"), help: "Print the changes without making them.")
    var dryRun = false

    @OptionGroup var location: LocationOptions

    func run() throws {
        let setup = location.setup()
        let vips = try vipList(vip)
        let ports = try portList(ports)
        var address: IPv4Address?
        if let rip {
            guard let a = IPv4Address(rip) else { throw ValidationError("bad --rip '\(rip)'") }
            address = a
        }
        do {
            let config = RealServerConfiguration(virtualAddresses: vips, method: method,
                                                 interface: try resolveInterface(interface, setup: setup),
                                                 realServerAddress: address, ports: ports, persist: persist)
            if dryRun {
                let steps = try setup.plan(config)
                for case let action? in steps.map(\.action) { print("would run: \(action)") }
                if steps.allSatisfy({ $0.action == nil }) { print("nothing to change") }
                return
            }
            let report = try setup.apply(config)
            for action in report.performed { print("done: \(action)") }
            if report.performed.isEmpty {
                print(report.alreadyApplied ? "already applied (\(config.summary)); nothing to change"
                                            : "this host already had that setup; nothing changed (recorded, so revert changes nothing either)")
            } else {
                print("applied \(config.summary); state in \(setup.store.path); undo with: lvs-realserver revert\(location.stateDirectory == StateStore.defaultDirectory ? "" : " --state-dir \(location.stateDirectory)")")
            }
        } catch let error as RealServerError {
            throw fail(error)
        }
    }
}

struct Revert: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Undo what apply changed, and nothing else.")

    @Flag(name: .customLong("dry-run"), help: "Print the changes without making them.")
    var dryRun = false

    @OptionGroup var location: LocationOptions

    func run() throws {
        let setup = location.setup()
        do {
            let report = try setup.revert(dryRun: dryRun)
            if report.nothingApplied {
                print("nothing to revert: no state file at \(setup.store.path)")
                return
            }
            for action in report.performed { print("\(dryRun ? "would run" : "done"): \(action)") }
            for note in report.notes { print("note: \(note)") }
            if !dryRun { print("reverted") }
        } catch let error as RealServerError {
            throw fail(error)
        }
    }
}

struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Say what is wrong with this real server, one line per finding (exit 1 on any FAIL).")

    @Option(help: "VIP[,VIP...] (default: the applied setup's).")
    var vip: String?

    @Option(help: "The method to check for (default: the applied setup's, else sysctl).")
    var method: SetupMethod?

    @Option(help: "Interface that faces the director (default: the applied setup's, else the default route's).")
    var interface: String?

    @Option(help: "Service ports that must be served, PORT[/tcp|/udp],... (default: the applied setup's).")
    var ports: String?

    @Option(help: "The director's address: the default route must not point at it.")
    var director: String?

    @OptionGroup var location: LocationOptions

    func run() throws {
        let setup = location.setup()
        do {
            let applied = try setup.loadState()?.configuration
            let vips: [IPv4Address]
            if let vip {
                vips = try vipList(vip)
            } else if let applied {
                vips = applied.virtualAddresses
            } else {
                throw ValidationError("pass --vip (no setup applied here to take it from)")
            }
            var directorAddress: IPv4Address?
            if let director {
                guard let a = IPv4Address(director) else { throw ValidationError("bad --director '\(director)'") }
                directorAddress = a
            }
            let config = CheckConfiguration(
                virtualAddresses: vips, method: method ?? applied?.method ?? .sysctl,
                interface: try interface ?? applied?.interface ?? resolveInterface(nil, setup: setup),
                ports: try ports.map { try portList($0) } ?? applied?.ports ?? [],
                director: directorAddress, realServerAddress: applied?.realServerAddress)
            let findings = try setup.check(config)
            for finding in findings { print(finding) }
            let failed = findings.filter { $0.status == .fail }.count
            let passed = findings.filter { $0.status == .pass }.count
            let warned = findings.filter { $0.status == .warn }.count
            print("check (\(config.method), \(config.interface)): \(passed) PASS, \(failed) FAIL, \(warned) WARN")
            if failed > 0 { throw ExitCode(1) }
        } catch let error as RealServerError {
            throw fail(error, code: 2)
        }
    }
}
