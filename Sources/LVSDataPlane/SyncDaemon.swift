import Glibc
import LVSCore
import Synchronization

/// How a sync daemon runs: ipvsadm's `--start-daemon` options with the kernel's defaults
/// applied.
public struct SyncDaemonConfiguration: Sendable, Equatable {
    public enum Role: String, Sendable, Equatable {
        case master, backup
    }

    public var role: Role
    public var interface: String
    public var syncID: UInt8
    /// `--sync-maxlen`; 0 takes the kernel's default for the role.
    public var maximumLength: Int
    /// The multicast group, or (lvsd's addition) a peer director's unicast address.
    public var group: IPv4Address
    public var port: UInt16
    public var ttl: UInt8

    public init(role: Role, interface: String, syncID: UInt8 = 0, maximumLength: Int = 0,
                group: IPv4Address = SyncProtocol.defaultGroup, port: UInt16 = SyncProtocol.defaultPort,
                ttl: UInt8 = SyncProtocol.defaultTTL) {
        self.role = role
        self.interface = interface
        self.syncID = syncID
        self.maximumLength = maximumLength
        self.group = group
        self.port = port
        self.ttl = ttl
    }

    public var isUnicast: Bool { group.value >> 28 != 0xE }
}

/// A sync daemon request lvsd cannot carry out, with what to do instead.
public struct SyncDaemonError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// What a sync daemon has done since it started (for the log and the stats file).
public struct SyncCounters: Sendable, Equatable {
    public var messagesSent: UInt64 = 0
    public var recordsSent: UInt64 = 0
    public var sendErrors: UInt64 = 0
    /// Changes the worker could not record because the journal was full.
    public var journalOverflows: UInt64 = 0
    public var messagesReceived: UInt64 = 0
    public var malformedMessages: UInt64 = 0
    public var otherSyncID: UInt64 = 0
    public var imported = SyncImportCounts()
    public var tablesServed: UInt64 = 0
    public var tablesPulled: UInt64 = 0

    public init() {}
}

/// Connection sync between two directors, the Linux half: a thread with one UDP socket that,
/// as master, drains the workers' `SyncJournal`s (one each, so each stays single-producer) into IPVS version 1 messages and sends them to
/// the group (or the unicast peer), and as backup receives them and hands each message's
/// records to the worker that owns each flow (`FlowSteering`, through its job mailbox) to file
/// in its shard.
///
/// Beyond the kernel: a backup that starts (or a recovering director) first asks the master
/// for its whole table (`SyncControlMessage.tableRequest`, which a kernel backup drops unread)
/// and sets `initialSyncComplete` once it has every entry, so that VRRP can hold back
/// preemption until then (`onInitialSyncComplete`). A lvsd master answers such requests by
/// streaming its table to the asker.
///
/// One role runs at a time; `setRole` switches it keeping the other options (keepalived's
/// `lvs_sync_daemon` follows its VRRP instance that way).
public final class SyncDaemon: @unchecked Sendable {
    // @unchecked: `running` and the configuration are guarded by `state`; the socket and
    // buffers belong to the sync thread while it runs.
    let pool: WorkerPool
    let interface: NetworkInterface
    /// One per worker, in worker order.
    let journals: [SyncJournal]
    let state = Mutex<State>(State())
    let complete = Atomic<Bool>(false)
    let stopRequested = Atomic<Bool>(false)
    /// Serialises start, stop and role switches: lvsadm (the control thread) and VRRP (its own
    /// thread) may ask at the same time.
    let operations = Mutex<Void>(())
    /// Called on the sync thread once, when a backup holds the master's whole table.
    public let onInitialSyncComplete: (@Sendable () -> Void)?

    struct State {
        var configuration: SyncDaemonConfiguration?
        /// The configuration as asked for (maxlen 0 when defaulted), which `setRole` restarts with.
        var requested: SyncDaemonConfiguration?
        var thread: pthread_t?
        var counters = SyncCounters()
    }

    public init(pool: WorkerPool, interface: NetworkInterface, journalCapacity: Int = 16384,
                onInitialSyncComplete: (@Sendable () -> Void)? = nil) {
        self.pool = pool
        self.interface = interface
        journals = pool.workers.map { _ in SyncJournal(capacity: journalCapacity) }
        self.onInitialSyncComplete = onInitialSyncComplete
    }

    /// Whether this director holds the master's whole table: set when a backup's full-table
    /// pull finished, and on a master (which is the table). VRRP's "may preempt" check reads it.
    public var initialSyncComplete: Bool { complete.load(ordering: .acquiring) }

    /// The running daemon's configuration with the defaults it runs with (`-L --daemon`).
    public var running: SyncDaemonConfiguration? { state.withLock { $0.configuration } }

    public var counters: SyncCounters {
        var c = state.withLock { $0.counters }
        c.journalOverflows = journals.reduce(0) { $0 + $1.overflowCount }
        return c
    }

    /// `--start-daemon`: refused when a daemon of either role runs (ipvsadm's kernel says
    /// "File exists" for the same role).
    public func start(_ configuration: SyncDaemonConfiguration) throws(SyncDaemonError) {
        try operations.withLock { (_: inout Void) throws(SyncDaemonError) in try startLocked(configuration) }
    }

    func startLocked(_ configuration: SyncDaemonConfiguration) throws(SyncDaemonError) {
        guard configuration.interface == interface.name else {
            throw SyncDaemonError("sync interface \(configuration.interface): lvsd forwards on \(interface.name) and syncs there only; use --mcast-interface \(interface.name)")
        }
        if let current = running {
            throw SyncDaemonError(current.role == configuration.role
                ? "a \(current.role.rawValue) sync daemon is already running (File exists)"
                : "a \(current.role.rawValue) sync daemon is running: lvsd runs one role at a time; stop it first")
        }
        var effective = configuration
        effective.maximumLength = configuration.role == .master
            ? SyncProtocol.masterMaximumLength(requested: configuration.maximumLength)
            : SyncProtocol.backupMaximumLength(requested: configuration.maximumLength, mtu: interface.mtu)
        let socket: SyncSocket
        do {
            socket = try SyncSocket(interface: interface, peer: effective.group, port: effective.port, ttl: effective.ttl)
        } catch {
            throw SyncDaemonError("cannot start the \(effective.role.rawValue) sync daemon: \(error.description)")
        }
        if effective.role == .master {
            // The master is the table: nothing to pull.
            complete.store(true, ordering: .releasing)
            let journals = self.journals
            for journal in journals { _ = journal.drain { _ in } }
            _ = pool.perform { $0.engine.syncJournal = journals[$0.workerIndex] }
        } else {
            complete.store(false, ordering: .releasing)
        }
        stopRequested.store(false, ordering: .releasing)
        let run = SyncRun(daemon: self, socket: socket, configuration: effective)
        let box = Unmanaged.passRetained(run)
        var tid = pthread_t()
        let r = pthread_create(&tid, nil, { arg in
            guard let arg else { return nil }
            let run = Unmanaged<SyncRun>.fromOpaque(arg).takeRetainedValue()
            run.loop()
            return nil
        }, box.toOpaque())
        guard r == 0 else {
            box.release()
            _ = pool.perform { $0.engine.syncJournal = nil }
            throw SyncDaemonError("cannot start the sync thread: \(String(cString: strerror(r)))")
        }
        state.withLock {
            $0.configuration = effective
            $0.requested = configuration
            $0.thread = tid
        }
        Log.info("sync daemon started: state = \(effective.role.rawValue.uppercased()), mcast_ifn = \(effective.interface), syncid = \(effective.syncID), \(effective.isUnicast ? "peer" : "group") \(effective.group):\(effective.port), maxlen \(effective.maximumLength)")
    }

    /// `--stop-daemon ROLE`: stops the daemon if it runs in that role.
    public func stop(_ role: SyncDaemonConfiguration.Role) throws(SyncDaemonError) {
        try operations.withLock { (_: inout Void) throws(SyncDaemonError) in try stopLocked(role) }
    }

    func stopLocked(_ role: SyncDaemonConfiguration.Role) throws(SyncDaemonError) {
        guard let current = running, current.role == role else {
            throw SyncDaemonError("no \(role.rawValue) sync daemon is running (No such process)")
        }
        stopThread()
        Log.info("sync daemon stopped: state = \(role.rawValue.uppercased())")
    }

    /// Stops whatever runs (lvsd's shutdown).
    public func stopAll() {
        operations.withLock { _ in if running != nil { stopThread() } }
    }

    func stopThread() {
        stopRequested.store(true, ordering: .releasing)
        let thread = state.withLock { s -> pthread_t? in
            let t = s.thread
            s.thread = nil
            s.configuration = nil
            return t
        }
        if let thread { pthread_join(thread, nil) }
        _ = pool.perform { $0.engine.syncJournal = nil }
    }

    /// Switches the running daemon to `role` with its other options (the VRRP state hook:
    /// master when the instance becomes MASTER, backup otherwise). A switch to backup starts
    /// a new full-table pull. Without a running daemon there is nothing to switch.
    public func setRole(_ role: SyncDaemonConfiguration.Role) throws(SyncDaemonError) {
        try operations.withLock { (_: inout Void) throws(SyncDaemonError) in try setRoleLocked(role) }
    }

    func setRoleLocked(_ role: SyncDaemonConfiguration.Role) throws(SyncDaemonError) {
        guard let current = running, var configuration = state.withLock({ $0.requested }) else {
            throw SyncDaemonError("no sync daemon is running: start one (lvsadm --start-daemon, or lvs_sync_daemon in keepalived.conf)")
        }
        guard current.role != role else { return }
        stopThread()
        configuration.role = role
        try startLocked(configuration)
    }

    func update(_ body: (inout SyncCounters) -> Void) {
        state.withLock { body(&$0.counters) }
    }

    /// Files received records with the workers that own their flows, all at once; nil if a
    /// worker did not answer.
    func importRecords(_ records: [SyncConnection]) -> SyncImportCounts? {
        let steering = pool.steering
        guard steering.workerCount > 1 else {
            return pool.primary.perform { context in context.engine.applySync(records, now: context.now) }
        }
        var shares = Array(repeating: [SyncConnection](), count: steering.workerCount)
        for r in records {
            shares[steering.worker(client: IPv4Address(r.clientAddress), clientPort: r.clientPort)].append(r)
        }
        let routed = shares
        let parts = pool.perform { context in context.engine.applySync(routed[context.workerIndex], now: context.now) }
        return parts.map { $0.reduce(into: SyncImportCounts()) { $0.add($1) } }
    }

    func markComplete() {
        guard !complete.exchange(true, ordering: .acquiringAndReleasing) else { return }
        onInitialSyncComplete?()
    }
}

/// One run of the sync thread, in one role, with its socket and buffers.
final class SyncRun: @unchecked Sendable {
    // @unchecked: used by the sync thread only, after the handover in `SyncDaemon.start`.
    let daemon: SyncDaemon
    let socket: SyncSocket
    let configuration: SyncDaemonConfiguration
    let sendBuffer: UnsafeMutableRawPointer
    let receiveBuffer: UnsafeMutableRawPointer
    let receiveCapacity = 65536
    /// The backup's outstanding full-table request and what it has received since.
    var requestID: UInt32 = 0
    var receivedSinceRequest: UInt64 = 0
    var nextRequestAt: UInt64 = 0
    var requestInterval: UInt64 = 1_000_000_000

    init(daemon: SyncDaemon, socket: SyncSocket, configuration: SyncDaemonConfiguration) {
        self.daemon = daemon
        self.socket = socket
        self.configuration = configuration
        sendBuffer = .allocate(byteCount: max(configuration.maximumLength, 64) + 64, alignment: 8)
        receiveBuffer = .allocate(byteCount: receiveCapacity, alignment: 8)
    }

    deinit {
        sendBuffer.deallocate()
        receiveBuffer.deallocate()
    }

    func loop() {
        var writer = SyncMessageWriter(buffer: sendBuffer, maximumLength: configuration.maximumLength,
                                       syncID: configuration.syncID)
        var random = SystemRandomNumberGenerator()
        requestID = UInt32(truncatingIfNeeded: random.next())
        while !daemon.stopRequested.load(ordering: .acquiring) {
            // A master looks at the journal every 10 ms (the worker does not wake it: that would
            // be a syscall on the packet path); a backup only waits for datagrams and its timer.
            socket.wait(millis: configuration.role == .master ? 10 : 100)
            while let (count, from) = socket.receive(receiveBuffer, capacity: receiveCapacity) {
                handle(count: count, from: from)
            }
            if configuration.role == .master {
                drainJournal(&writer)
            } else if !daemon.initialSyncComplete {
                let now = Linux.monotonicNanos()
                if now >= nextRequestAt {
                    sendRequest()
                    nextRequestAt = now &+ requestInterval
                    // Keep asking, less often, while no lvsd master answers (a kernel master never will).
                    requestInterval = min(requestInterval * 2, 8_000_000_000)
                }
            }
        }
    }

    /// Sends everything the worker recorded, in full messages and then one partial one.
    func drainJournal(_ writer: inout SyncMessageWriter) {
        for journal in daemon.journals {
            journal.drain { record in
                if !writer.append(record) {
                    send(&writer)
                    writer.append(record)
                }
            }
        }
        if !writer.isEmpty { send(&writer) }
    }

    func send(_ writer: inout SyncMessageWriter, to address: sockaddr_in? = nil) {
        let ok = address.map { socket.send(sendBuffer, count: writer.length, to: $0) }
            ?? socket.send(sendBuffer, count: writer.length)
        let records = UInt64(writer.count)
        daemon.update { c in
            if ok {
                c.messagesSent += 1
                c.recordsSent += records
            } else {
                c.sendErrors += 1
            }
        }
        writer.reset()
    }

    func sendRequest() {
        receivedSinceRequest = 0
        let bytes = SyncControlMessage(kind: .tableRequest, syncID: configuration.syncID, requestID: requestID).bytes
        _ = bytes.withUnsafeBytes { b in b.baseAddress.map { socket.send($0, count: b.count) } }
    }

    func handle(count: Int, from: sockaddr_in) {
        guard count <= receiveCapacity else {
            daemon.update { $0.malformedMessages += 1 }
            return
        }
        let decoded = SyncMessageReader.decode(UnsafeRawBufferPointer(start: receiveBuffer, count: count),
                                               syncID: configuration.syncID)
        switch decoded {
        case .failure:
            daemon.update { $0.malformedMessages += 1 }
        case .success(.otherSyncID):
            daemon.update { $0.otherSyncID += 1 }
        case .success(.control(let message)):
            handle(message, from: from)
        case .success(.connections(let records, _)):
            // A master ignores messages (another master on the group is an operator error the
            // kernel ignores too); a backup files them.
            guard configuration.role == .backup else { return }
            receivedSinceRequest += UInt64(records.count)
            let imported = daemon.importRecords(records)
            daemon.update { c in
                c.messagesReceived += 1
                if let imported { c.imported.add(imported) }
            }
        }
    }

    func handle(_ message: SyncControlMessage, from: sockaddr_in) {
        switch (message.kind, configuration.role) {
        case (.tableRequest, .master):
            guard configuration.syncID == 0 || message.syncID == configuration.syncID else { return }
            serveTable(to: from, requestID: message.requestID)
        case (.tableEnd, .backup):
            guard message.requestID == requestID else { return }
            if receivedSinceRequest >= UInt64(message.count) {
                daemon.update { $0.tablesPulled += 1 }
                Log.info("sync: initial sync complete: \(message.count) entries from the master")
                daemon.markComplete()
            } else {
                // Datagrams were lost: ask again at once.
                Log.warning("sync: full table incomplete (\(receivedSinceRequest) of \(message.count) entries): asking again")
                nextRequestAt = 0
                requestInterval = 1_000_000_000
            }
        default:
            break
        }
    }

    /// Streams every live entry to the backup that asked, then the end marker with the count.
    func serveTable(to address: sockaddr_in, requestID: UInt32) {
        guard let shards = daemon.pool.perform({ context in context.engine.syncRecords(now: context.now) }) else {
            return
        }
        let records = shards.flatMap { $0 }
        var writer = SyncMessageWriter(buffer: sendBuffer, maximumLength: configuration.maximumLength,
                                       syncID: configuration.syncID)
        var sent = 0
        for record in records {
            if !writer.append(record) {
                send(&writer, to: address)
                writer.append(record)
                // Pace the stream so a backup's socket buffer keeps up with a large table.
                sent += 1
                if sent % 16 == 0 { usleep(1000) }
            }
        }
        if !writer.isEmpty { send(&writer, to: address) }
        let end = SyncControlMessage(kind: .tableEnd, syncID: configuration.syncID, requestID: requestID,
                                     count: UInt32(clamping: records.count)).bytes
        _ = end.withUnsafeBytes { b in b.baseAddress.map { socket.send($0, count: b.count, to: address) } }
        daemon.update { $0.tablesServed += 1 }
        Log.info("sync: sent the whole table (\(records.count) entries) to \(IPv4Address(UInt32(bigEndian: address.sin_addr.s_addr)))")
    }
}
