import Glibc
import LVSAdmin
import LVSConfig
import LVSControlProtocol
import LVSCore

/// `lvsadm`: ipvsadm's command line, output and exit statuses, against lvsd's control socket.
///
/// The command line is parsed here with ipvsadm's grammar; table changes travel to lvsd as
/// typed records (`ChangeCodec`) and are checked and applied there, all or nothing; listings
/// come back as a `DirectorStatus` and are printed here in ipvsadm's formats. Besides ipvsadm's
/// options, `--socket PATH` (or $LVSD_SOCKET) names the director to talk to, and
/// `--sync-role master|backup` switches lvsd's running sync daemon.
struct LVSAdmin {
    var program: String
    var socketPath: String

    static func main() -> Int32 {
        var arguments = Array(CommandLine.arguments.dropFirst())
        let program = CommandLine.arguments.first.map { String($0.split(separator: "/").last ?? "lvsadm") } ?? "lvsadm"
        var socketPath = ControlProtocol.defaultSocketPath
        if let value = getenv(ControlProtocol.socketEnvironmentVariable), value.pointee != 0 {
            socketPath = String(cString: value)
        }
        // --socket is ours, not ipvsadm's: take it out before the ipvsadm grammar sees the line.
        if let i = arguments.firstIndex(where: { $0 == "--socket" || $0.hasPrefix("--socket=") }) {
            if arguments[i] == "--socket" {
                guard i + 1 < arguments.count else {
                    printError("--socket needs a path")
                    return 2
                }
                socketPath = arguments[i + 1]
                arguments.removeSubrange(i...(i + 1))
            } else {
                socketPath = String(arguments[i].dropFirst("--socket=".count))
                arguments.remove(at: i)
            }
        }
        // --sync-role ROLE is lvsd's too: switch the running sync daemon's role (what VRRP
        // does on a state change), keeping its options.
        if arguments.first == "--sync-role" {
            guard arguments.count == 2, let role = SyncDaemonOptions.Role(rawValue: arguments[1]) else {
                printError("--sync-role takes master or backup, and nothing else")
                return 2
            }
            let admin = LVSAdmin(program: program, socketPath: socketPath)
            guard let response = admin.exchange(.syncRole(role)) else { return 1 }
            return admin.report(response)
        }
        return LVSAdmin(program: program, socketPath: socketPath).run(arguments)
    }

    func run(_ arguments: [String]) -> Int32 {
        let parser = IpvsadmCommandLine(serviceNames: .system())
        let command: IpvsadmCommand
        do {
            command = try parser.parse(arguments)
        } catch {
            return fail(error)
        }
        switch command {
        case .help:
            print(IpvsadmCommandLine.usage(programName: program), terminator: "")
            return 0
        case .version:
            print(IpvsadmCommandLine.versionText, terminator: "")
            return 0
        case .restore:
            return restore(parser)
        case .list(let options):
            return list(options)
        case .save(let numeric):
            guard let status = status(connections: false) else { return 1 }
            let names: any NameResolver = numeric ? NumericNames() : SystemNameResolver()
            print(ListingFormatter.save(status, numeric: numeric, names: names), terminator: "")
            return 0
        case .startDaemon(let options):
            guard let response = exchange(.startDaemon(options)) else { return 1 }
            return report(response)
        case .stopDaemon(let options):
            guard let response = exchange(.stopDaemon(options)) else { return 1 }
            return report(response)
        default:
            return change([command])
        }
    }

    func fail(_ error: IpvsadmError) -> Int32 {
        Self.printError(error.standardErrorText(programName: program), newline: false)
        return error.exitCode
    }

    /// `-R`: every line from standard input, checked here (grammar) and in lvsd (table), then
    /// applied as one change: a bad line names its number and nothing is applied.
    func restore(_ parser: IpvsadmCommandLine) -> Int32 {
        var text = ""
        while let line = readLine(strippingNewline: false) { text += line }
        let lines: [(line: Int, command: IpvsadmCommand)]
        do {
            lines = try parser.parseRestoreNumbered(text)
        } catch {
            Self.printError(error.standardErrorText(programName: program), newline: false)
            return error.exitCode
        }
        let response = exchange(.change(lines.map(\.command)))
        guard let response else { return 1 }
        if case .failed(var failure) = response, let index = failure.commandIndex, index < lines.count {
            failure.message = "line \(lines[index].line): \(failure.message) (nothing was restored)"
            Self.printError(failure.message)
            return failure.exitCode
        }
        return report(response)
    }

    func list(_ options: ListOptions) -> Int32 {
        if options.daemon {
            // The daemons alone: ipvsadm asks the kernel for nothing else with --daemon.
            switch exchange(.daemons) {
            case .daemons(let daemons)?:
                let names: any NameResolver = NumericNames()
                let status = DirectorStatus(connectionTableSize: 0, timeouts: TimeoutSetting(tcp: 0, tcpFin: 0, udp: 0))
                let running = daemons.map { d in
                    SyncDaemonStatus(role: d.role == .master ? .master : .backup, interface: d.interface ?? "",
                                     syncID: d.syncID, maximumLength: d.maximumLength ?? 0, group: d.group,
                                     port: d.port ?? 0, ttl: d.ttl ?? 0)
                }
                print((try? ListingFormatter.list(status, options: options, names: names, syncDaemons: running)) ?? "",
                      terminator: "")
                return 0
            case .failed(let failure)?:
                Self.printError(failure.message)
                return failure.exitCode
            case .ok?:
                Self.printError("lvsd answered a daemon listing without the daemons")
                return 1
            case nil:
                return 1
            }
        }
        guard let status = status(connections: options.connections) else { return 1 }
        if let c = status.vipConflict, c.secondsSinceLast < 600 {
            // On stderr, so that scripts reading the listing see exactly ipvsadm's output.
            Self.printError("lvsadm: warning: \(c.mac) (\(c.senderAddress)) answered ARP for VIP \(c.vip) \(c.secondsSinceLast) s ago (\(c.count) frames since lvsd started): a real server whose VIP is not on a non-ARPing device? run `lvs-realserver check --vip \(c.vip)` on it")
        }
        let names: any NameResolver = options.numeric ? NumericNames() : SystemNameResolver()
        do {
            print(try ListingFormatter.list(status, options: options, names: names), terminator: "")
            return 0
        } catch {
            Self.printError(error.message)
            return error.exitCode
        }
    }

    func change(_ commands: [IpvsadmCommand]) -> Int32 {
        guard let response = exchange(.change(commands)) else { return 1 }
        return report(response)
    }

    func report(_ response: ControlResponse) -> Int32 {
        switch response {
        case .ok, .daemons:
            return 0
        case .failed(let failure):
            Self.printError(failure.message)
            return failure.exitCode
        }
    }

    func status(connections: Bool) -> DirectorStatus? {
        switch exchange(.status(includeConnections: connections)) {
        case .ok(let status?)?:
            return status
        case .ok(nil)?, .daemons?:
            Self.printError("lvsd answered a status request without a status")
            return nil
        case .failed(let failure)?:
            Self.printError(failure.message)
            return nil
        case nil:
            return nil
        }
    }

    /// One request to lvsd; prints why and returns nil when it cannot be had.
    func exchange(_ request: ControlRequest) -> ControlResponse? {
        do {
            let text = try ControlSocket.exchange(path: socketPath, request: request.encoded())
            return try ControlResponse.decode(text)
        } catch let error as ControlSocketError {
            Self.printError("Can't talk to lvsd: \(error.description)")
        } catch {
            Self.printError("lvsd's answer is not understood: \(error)")
        }
        return nil
    }

    static func printError(_ message: String, newline: Bool = true) {
        var line = message
        if newline { line.append("\n") }
        line.withUTF8 { buffer in
            guard let base = buffer.baseAddress else { return }
            var offset = 0
            while offset < buffer.count {
                let n = write(2, base + offset, buffer.count - offset)
                if n < 0 && errno == EINTR { continue }
                guard n > 0 else { return }
                offset += n
            }
        }
    }
}

exit(LVSAdmin.main())
