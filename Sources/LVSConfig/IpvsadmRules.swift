import LVSCore

/// Reads rules in the `ipvsadm -S` line format (what `ipvsadm-save` writes and the seed
/// recipes keep in /etc/sysconfig/ipvsadm):
///
///     -A -t 10.0.0.100:80 -s rr
///     -a -t 10.0.0.100:80 -r 10.0.0.11:80 -g -w 1
///
/// Each line is read by ``IpvsadmCommandLine`` exactly as `ipvsadm -R` would read it (tokens
/// equal to `ipvsadm` dropped, so `ipvsadm -A ...` lines from a shell script work too; lines
/// starting with `#` are comments), so a file ipvsadm restores loads here and a line ipvsadm
/// refuses is refused with ipvsadm's message, plus what was expected. On top of that, a rules
/// file is a starting table, so it holds -A and -a lines only, and the errors the kernel would
/// give while applying it (a server before its service, a service twice) are found here too.
///
/// The whole file is checked before anything is used: the first bad line is reported with its
/// number, and no rule from the file is applied.
public struct IpvsadmRules {
    public var serviceNames: ServiceNames
    public var resolveHost: @Sendable (String) -> IPv4Address?

    public init(serviceNames: ServiceNames = .system(),
                resolveHost: @escaping @Sendable (String) -> IPv4Address? = HostResolver.resolveIPv4) {
        self.serviceNames = serviceNames
        self.resolveHost = resolveHost
    }

    /// Parses the file at `path`.
    public func load(path: String) throws(ConfigurationError) -> DirectorConfiguration {
        try parse(readConfigurationFile(path, what: "the rules file"), file: path)
    }

    public func parse(_ text: String, file: String) throws(ConfigurationError) -> DirectorConfiguration {
        let commandLine = IpvsadmCommandLine(serviceNames: serviceNames, resolveHost: resolveHost)
        var services: [VirtualServiceConfig] = []
        var index: [VirtualServiceKey: Int] = [:]
        for (offset, rawLine) in lines(of: text).enumerated() {
            if rawLine.drop(while: { $0 == " " || $0 == "\t" }).first == "#" { continue }
            let tokens = IpvsadmCommandLine.tokenizeRestoreLine(rawLine)
            if tokens.isEmpty { continue }
            let fail = { (message: String) in ConfigurationError(file: file, line: offset + 1, message: message) }
            let command: IpvsadmCommand
            do {
                command = try commandLine.parse(tokens)
            } catch {
                throw fail(error.explanation)
            }
            switch command {
            case .addService(let service):
                try checkScheduler(service.scheduler, fail: fail)
                guard index[service.key] == nil else {
                    throw fail("Service already exists: \(service.key) was added before")
                }
                index[service.key] = services.count
                services.append(service)
            case .addServer(let key, let server):
                guard let s = index[key] else {
                    throw fail("Service not defined: add \(key) with an -A line before its real servers")
                }
                guard !services[s].realServers.contains(where: { $0.address == server.address && $0.port == server.port }) else {
                    throw fail("Destination already exists: \(server.address):\(server.port) is already in \(key)")
                }
                if server.upperThreshold != 0 && server.lowerThreshold > server.upperThreshold {
                    throw fail("l-threshold \(server.lowerThreshold) is above u-threshold \(server.upperThreshold) (the kernel refuses it with ERANGE)")
                }
                services[s].realServers.append(server)
            default:
                throw fail("'\(IpvsadmCommandLine.spelling(of: command))' does not belong in a rules file: it holds -A (add service) and -a (add real server) lines, as ipvsadm -S writes them")
            }
        }
        return DirectorConfiguration(services: services)
    }

    /// What the director would answer to an unknown scheduler (ipvsadm leaves the name to the
    /// kernel), said before anything starts, and a name IPVS knows but SwiftLVS does not run yet.
    func checkScheduler(_ scheduler: String, fail: (String) -> ConfigurationError) throws(ConfigurationError) {
        let implemented = SchedulerRegistry.implemented.joined(separator: ", ")
        guard SchedulerRegistry.known.contains(scheduler) else {
            throw fail("unknown scheduler '\(scheduler)'; use one of: \(implemented)")
        }
        guard SchedulerRegistry.implemented.contains(scheduler) else {
            throw fail("scheduler '\(scheduler)' is not implemented yet; use -s with one of: \(implemented)")
        }
    }
}
