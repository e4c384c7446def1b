import LVSCore

/// The failing command of a batch: its position in the batch and ipvsadm's error for it.
public struct IpvsadmBatchError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Zero-based position of the command that failed; the commands before it were fine.
    public var index: Int
    public var error: IpvsadmError

    public init(index: Int, error: IpvsadmError) {
        self.index = index
        self.error = error
    }

    public var description: String { "command \(index + 1): \(error.message)" }
}

extension IpvsadmError {
    /// A refusal from the kernel: ipvsadm prints `ipvs_strerror(errno)` and returns -1, so the
    /// exit status is 255 (IPVS-SEMANTICS.md §5.2).
    static func kernel(_ message: String) -> IpvsadmError { IpvsadmError(message, exitCode: 255) }

    /// EEXIST from `ip_vs_add_service`.
    public static let serviceExists = kernel("Service already exists")
    /// ESRCH from edit, delete or zero of a service.
    public static let noSuchService = kernel("No such service")
    /// ESRCH from a real-server command on a service that does not exist.
    public static let serviceNotDefined = kernel("Service not defined")
    /// EEXIST from `ip_vs_add_dest`.
    public static let destinationExists = kernel("Destination already exists")
    /// ENOENT from edit or delete of a real server the service does not have.
    public static let noSuchDestination = kernel("No such destination")
    /// ENOENT from add/edit of a service whose scheduler the kernel cannot load.
    public static let schedulerNotFound = kernel("Scheduler or persistence engine not found")
    /// ERANGE (`strerror`): a negative weight, or a lower threshold above the upper one.
    public static let outOfRange = kernel("Numerical result out of range")
}

extension DirectorConfiguration {
    /// The table after one ipvsadm command, as the kernel would leave it, or the kernel's
    /// refusal with ipvsadm's text and exit status 255.
    ///
    /// The checks come in the kernel's order: the service lookup (ESRCH) before the range
    /// checks (ERANGE) before the real-server lookup (EEXIST/ENOENT). ipvsadm's own option
    /// checks that a parsed `VirtualServiceConfig` could still fail (a port-0 service without
    /// persistence, `-o` on TCP) are repeated with its exit status 2, so that whatever this
    /// returns is a table the engine accepts.
    ///
    /// Commands that do not change the table return `self` unchanged: `-Z` (after checking
    /// that a named service exists, as the kernel does) and `--set`, which the daemon carries
    /// out on the engine (`zeroCounters`, `setTimeouts`), and the listing, save, restore,
    /// daemon, help and version commands, which are not table changes at all.
    public func applying(_ command: IpvsadmCommand) throws(IpvsadmError) -> DirectorConfiguration {
        var result = self
        var index = result.serviceIndex()
        try result.apply(command, index: &index)
        return result
    }

    /// Where each service is in `services`: what `apply(_:index:)` keeps up to date so that a
    /// batch of 50 000 commands (`-R` of 10 000 services) looks services up in O(1) each.
    public func serviceIndex() -> [VirtualServiceKey: Int] {
        var index: [VirtualServiceKey: Int] = [:]
        index.reserveCapacity(services.count)
        for (i, service) in services.enumerated() { index[service.key] = i }
        return index
    }

    /// `applying(_:)` in place, with the caller's `index` (from `serviceIndex()`) kept current.
    /// On a throw, `self` may hold part of the change: callers work on a copy (as
    /// `applying(_:)` and the batch form do) and drop it on error.
    public mutating func apply(_ command: IpvsadmCommand, index: inout [VirtualServiceKey: Int]) throws(IpvsadmError) {
        switch command {
        case .addService(var service):
            try Self.checkServiceOptions(service)
            guard index[service.key] == nil else { throw .serviceExists }
            try Self.checkScheduler(service)
            // `-A` creates an empty service; its real servers come with `-a`.
            service.realServers = []
            index[service.key] = services.count
            services.append(service)
        case .editService(let service):
            try Self.checkServiceOptions(service)
            guard let s = index[service.key] else { throw .noSuchService }
            try Self.checkScheduler(service)
            // `-E` replaces everything but the real servers (§5.4).
            services[s].scheduler = service.scheduler
            services[s].schedulerFlags = service.schedulerFlags
            services[s].persistence = service.persistence
            services[s].onePacketScheduling = service.onePacketScheduling
        case .deleteService(let key):
            guard let s = index[key] else { throw .noSuchService }
            services.remove(at: s)
            index[key] = nil
            for i in s..<services.count { index[services[i].key] = i }
        case .clear:
            services = []
            index = [:]
        case .addServer(let key, let server):
            guard let s = index[key] else { throw .serviceNotDefined }
            try Self.checkRanges(server)
            guard services[s].position(of: server) == nil else { throw .destinationExists }
            services[s].realServers.append(server)
        case .editServer(let key, let server):
            guard let s = index[key] else { throw .serviceNotDefined }
            try Self.checkRanges(server)
            guard let r = services[s].position(of: server) else { throw .noSuchDestination }
            // `-e` replaces weight and thresholds (and the forwarding method, always DR here).
            services[s].realServers[r].weight = server.weight
            services[s].realServers[r].upperThreshold = server.upperThreshold
            services[s].realServers[r].lowerThreshold = server.lowerThreshold
            services[s].realServers[r].forwarding = server.forwarding
        case .deleteServer(let key, let address, let port):
            guard let s = index[key] else { throw .serviceNotDefined }
            guard let r = services[s].realServers.firstIndex(where: { $0.address == address && $0.port == port })
            else { throw .noSuchDestination }
            services[s].realServers.remove(at: r)
        case .zero(let key):
            if let key, index[key] == nil { throw .noSuchService }
        case .setTimeouts, .list, .save, .restore, .startDaemon, .stopDaemon, .help, .version:
            break
        }
    }

    /// Applies `commands` in order, all or nothing: the table after the last one, or the first
    /// failure with its index (and nothing applied). This is what a control request carrying
    /// several commands wants; `ipvsadm -R` itself goes on after a failing line.
    public func applying(_ commands: some Sequence<IpvsadmCommand>) throws(IpvsadmBatchError) -> DirectorConfiguration {
        var result = self
        var serviceIndex = result.serviceIndex()
        for (index, command) in commands.enumerated() {
            do {
                try result.apply(command, index: &serviceIndex)
            } catch {
                throw IpvsadmBatchError(index: index, error: error)
            }
        }
        return result
    }

    /// ipvsadm's `process_options` checks for `-A`/`-E` (exit status 2, its own words).
    static func checkServiceOptions(_ service: VirtualServiceConfig) throws(IpvsadmError) {
        // ipvsadm makes neither check for a firewall-mark service (it has no port, and its
        // connections are of any protocol; `-o` then applies to its UDP flows).
        guard service.key.port != 0 || service.persistence != nil || service.key.isFirewallMark else {
            throw IpvsadmError("Zero port specified for non-persistent service")
        }
        guard !service.onePacketScheduling || service.key.transport == .udp || service.key.isFirewallMark else {
            throw IpvsadmError("One-Packet Scheduling is only for UDP virtual services")
        }
    }

    /// The kernel's scheduler lookup (ENOENT), after its service lookup. A scheduler the kernel
    /// has but SwiftLVS does not run (`none`) is "not found" here too: the engine cannot run it.
    static func checkScheduler(_ service: VirtualServiceConfig) throws(IpvsadmError) {
        guard SchedulerRegistry.implemented.contains(service.scheduler) else { throw .schedulerNotFound }
    }

    /// `ip_vs_add_dest` / `ip_vs_edit_dest`: ERANGE for a negative weight or `-y` above `-x`.
    static func checkRanges(_ server: RealServerConfig) throws(IpvsadmError) {
        guard server.weight >= 0, server.lowerThreshold <= server.upperThreshold else { throw .outOfRange }
    }
}

extension VirtualServiceConfig {
    func position(of server: RealServerConfig) -> Int? {
        realServers.firstIndex { $0.address == server.address && $0.port == server.port }
    }
}
