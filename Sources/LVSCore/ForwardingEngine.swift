/// What the worker should do with a frame after the engine has looked at it.
public enum Verdict: Equatable, Sendable {
    /// The frame was rewritten in place (a forwarded packet or an ARP reply): send it.
    case transmit
    /// The frame is ours but must not go anywhere; a counter says why.
    case drop
    /// Not the director's business (another host's frame, the director's own IP traffic).
    case pass
    /// The frame is dropped and the engine wrote a reply (an ICMP error) of `generatedLength`
    /// bytes at `generatedFrame`: send that instead.
    case transmitGenerated
}

/// A configuration the engine cannot run, with what to change.
public struct EngineConfigurationError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// A real server's link-layer address as the director knows it.
public struct Neighbor: Sendable {
    public var address: IPv4Address
    public var mac: MACAddress?
    /// Configured (like /etc/ethers): never asked for, never overwritten by ARP.
    public var isStatic: Bool
    public var lastRequestAt: UInt64?
    public var lastConfirmedAt: UInt64?
    /// A packet waited for this MAC: ask again without waiting for the refresh interval.
    public var isWanted: Bool
    /// Some configured real server has this address. Once `apply` removes the last one, the
    /// entry stays (destinations name it by index) but is no longer asked for.
    public var isInUse: Bool = true
}

/// Per-service runtime state: the scheduler and the kernel-order list of destination slots.
public struct ServiceRuntime: Sendable {
    public var key: VirtualServiceKey
    public var scheduler: SchedulerInstance
    /// The `-b` flags the scheduler was started with: a change re-creates the scheduler.
    public var schedulerFlags: SchedulerFlags
    /// Destination slots in kernel list order (newest first).
    public var order: [Int32]
    public var persistence: Persistence?
    public var onePacketScheduling: Bool
}

/// The forwarding decision of a DR director, in pure Swift: parse, find or create the
/// connection, pick a real server, rewrite the frame. It is handed frames and the time and
/// touches nothing else, so every path can be tested with synthetic frames and a fake clock.
///
/// One engine belongs to one worker thread (it is not Sendable). Per-packet state (connection
/// table, destination counters, data-plane counters) lives in flat memory allocated at start;
/// the per-packet path allocates nothing and takes no lock.
///
/// Properties that `apply` and the control calls change but the packet path reads are marked
/// `@exclusivity(unchecked)`: with writers in other files the compiler can no longer prove
/// their accesses disjoint and would check each one at run time (~80 instructions a packet,
/// measured). The engine runs on one thread and never holds one of them across a call that
/// touches it again, so the checks could never fire.
public final class ForwardingEngine {
    public let directorMAC: MACAddress
    /// The director's MAC as the hit path compares and writes it, in native words whose
    /// memory bytes are the frame's: bytes 0-5 of a frame addressed to it (`directorMACWord`,
    /// under `macMaskWord`), and its MAC as source, bytes 6-7 (`directorMACHead`, bytes 0-5
    /// zero) and 8-11 (`directorMACTail`).
    let directorMACWord: UInt64
    let macMaskWord: UInt64
    let directorMACHead: UInt64
    let directorMACTail: UInt32
    /// The director's own IPv4 address on the interface, the sender of its ARP requests.
    public let directorAddress: IPv4Address
    public let connections: ConnectionTable

    /// The destination pool: `destinationCapacity` slots allocated once, so that adding a real
    /// server at run time never moves the memory the packet path reads.
    let destinations: UnsafeMutablePointer<Destination>
    /// How many destination slots the pool has.
    public let destinationCapacity: Int
    /// The high-water mark of the pool: slots `0..<destinationCount` have been used (linked into
    /// a service now, or kept for connections that still name them); the rest never were.
    @exclusivity(unchecked)
    public internal(set) var destinationCount = 0
    /// The key of the service each used slot was created in: a removed real server is revived
    /// only by the same service (the kernel's trash lookup), and its connections' service index
    /// follows that key across applies.
    var slotServiceKeys: [VirtualServiceKey] = []
    /// Per used slot, the index in `services` of the service it was created in (its key in
    /// `slotServiceKeys`), or -1 when that service is gone: what a read of the services' totals
    /// sums by, without hashing a key per slot. Rebuilt by `apply` (`indexSlotServices`).
    var slotServices: [Int32] = []
    /// One `TrafficStats` per service, in `services` order; replaced (not grown) by `apply`.
    /// `connections` is the service's own count. `inPackets` and `inBytes` are not: a packet is
    /// counted once, on its server's slot, and a service's totals are derived when read
    /// (`serviceTotals`) as these two fields plus the counters of every slot created in the
    /// service. The fields keep what the slots no longer show, so that the totals follow the
    /// kernel's: a slot's counts are folded in when the slot is reused (a deleted server's
    /// packets stay in its service's totals), and a slot's counts from before its service
    /// existed or was zeroed are subtracted (wrapping). This takes the service's two adds off
    /// every forwarded packet; reading the totals is one sweep of the slots (`serviceTotals`).
    @exclusivity(unchecked)
    var serviceStats: UnsafeMutablePointer<TrafficStats>
    let counterSlots: UnsafeMutablePointer<UInt64>
    /// Timeout per connection state, in nanoseconds (indexed by `ConnectionState.rawValue`).
    let timeoutNanos: UnsafeMutablePointer<UInt64>
    /// `TCPStateMachine.hitPathTransitions()`, in memory the engine owns (no global to
    /// initialise or bounds-check on the packet path).
    let tcpTransitions: UnsafeMutablePointer<UInt8>

    @exclusivity(unchecked)
    public internal(set) var services: [ServiceRuntime] = []
    /// The configuration in force, as last applied: the real servers' `-a` order for listings.
    public internal(set) var configuration = DirectorConfiguration()
    @exclusivity(unchecked)
    var serviceIndex: [VirtualServiceKey: Int] = [:]
    @exclusivity(unchecked)
    var virtualAddresses: Set<UInt32> = []
    public internal(set) var virtualAddressList: [IPv4Address] = []
    /// Mark-rule destinations wider than one address whose mark a service takes
    /// (`DirectorConfiguration.virtualNetworks`): forwarded to, never answered ARP for.
    @exclusivity(unchecked)
    public internal(set) var virtualNetworkList: [IPv4Network] = []
    /// The mark rules compiled against the services by `apply`, in rule order: each names the
    /// index of the firewall-mark service that takes its mark (-1: none does, and the flow
    /// falls through to the `-t`/`-u` services), and its ports as a run of `markPorts`.
    /// Rules past the last one with a service are left out, so without firewall-mark services
    /// the list is empty and a new flow pays one `isEmpty` test for the feature.
    @exclusivity(unchecked)
    var markRules: [CompiledMarkRule] = []
    @exclusivity(unchecked)
    var markPorts: [CompiledMarkRule.PortRange] = []
    @exclusivity(unchecked)
    public internal(set) var neighbors: [Neighbor] = []
    @exclusivity(unchecked)
    var neighborIndex: [UInt32: Int] = [:]
    /// Configured MACs (like /etc/ethers), kept for real servers that an apply adds later.
    let staticNeighbors: [IPv4Address: MACAddress]
    /// Whether this director owns its VIPs now. Always true without VRRP; with VRRP, true only
    /// in the MASTER state. When false the engine answers no ARP for a VIP, raises no VIP
    /// conflict (the master's gratuitous ARPs are expected) and forwards no frame to a VIP
    /// (`drop_not_master`); the connection table stays and ages as usual, so that a backup can
    /// hold synced connections. The hit path does not read it: a worker whose engine does not
    /// own the VIPs hands every frame to `processWithoutOwnership` instead of `process`.
    /// Unchecked like the other per-packet state: written by a worker job between batches.
    @exclusivity(unchecked)
    public var ownsVirtualAddresses = true

    /// The last host seen claiming a VIP, with the count of such claims so far.
    public internal(set) var vipConflict: VIPConflict?
    /// When `vipConflict` was last seen (monotonic nanoseconds).
    var lastVIPConflictAt: UInt64 = 0
    /// The last host seen claiming a VIP: (VIP, its MAC). Shown in logs.
    public var lastVIPConflict: (vip: IPv4Address, mac: MACAddress)? { vipConflict.map { ($0.vip, $0.mac) } }
    /// Set while the connection table cannot take new entries: unknown flows are then hashed
    /// over the service's servers instead of dropped, so established flows keep going.
    public private(set) var statelessFallback = false

    /// Set while this director is a sync master: connections that open or change state are
    /// recorded here for the sync thread (`ForwardingEngine+Sync.swift`). Nil costs the packet
    /// path one test, and only where a state changes.
    @exclusivity(unchecked)
    public var syncJournal: SyncJournal?
    /// Where `refreshSync` goes on from.
    var syncRefreshCursor = 0

    /// How often a resolved real server is asked again, and how soon an unanswered request repeats.
    public var neighborRefreshNanos: UInt64 = 30_000_000_000
    public var neighborRetryNanos: UInt64 = 1_000_000_000

    /// The sysctl-like switches and timeouts in force (`setTimeouts` changes the timeouts).
    @exclusivity(unchecked)
    public internal(set) var settings: DirectorSettings
    /// The interface MTU: DF packets larger than this get "fragmentation needed".
    public let mtu: Int
    /// Headroom in front of `generatedFrame`, so the I/O layer can prepend its own header
    /// (the 10-byte virtio-net header) without a copy.
    public static let generatedHeadroom = 16
    let generated: UnsafeMutableRawPointer
    /// The frame written for `.transmitGenerated`.
    public var generatedFrame: UnsafeMutableRawPointer { generated + Self.generatedHeadroom }
    public private(set) var generatedLength = 0
    /// ICMP rate limit: a token bucket of 1000 per second with a burst of 50.
    var icmpTokens: UInt64 = 50
    var icmpLastRefill: UInt64 = 0

    /// - Parameter destinationCapacity: the size of the destination pool: how many real servers
    ///   (over all services, counting removed ones that connections still name) the engine can
    ///   ever hold at once. Allocated here, so that `apply` never moves what the packet path reads.
    public init(configuration: DirectorConfiguration, directorMAC: MACAddress, directorAddress: IPv4Address,
                connectionCapacity: Int, hashSeed: UInt64, staticNeighbors: [IPv4Address: MACAddress] = [:],
                settings: DirectorSettings = DirectorSettings(), mtu: Int = 1500,
                destinationCapacity: Int = 65536) throws(EngineConfigurationError) {
        // Refuse a bad configuration before any memory is allocated (a class initializer that
        // throws before every property is set does not run deinit).
        try Self.validate(configuration)
        let total = configuration.services.reduce(0) { $0 + $1.realServers.count }
        guard destinationCapacity >= total, destinationCapacity <= Int(Int32.max) else {
            throw EngineConfigurationError(
                "destinationCapacity \(destinationCapacity) cannot hold the \(total) real servers configured")
        }
        self.directorMAC = directorMAC
        directorMACWord = Self.frameWord(directorMAC)
        macMaskWord = Self.frameWord(.broadcast)
        directorMACHead = (directorMAC.value >> 32).bigEndian
        directorMACTail = UInt32(truncatingIfNeeded: directorMAC.value).bigEndian
        self.mtu = mtu
        self.settings = settings
        self.staticNeighbors = staticNeighbors
        self.destinationCapacity = destinationCapacity
        let timeouts = settings.timeouts
        generated = .allocate(byteCount: Self.generatedHeadroom + ICMPMessage.maximumLength, alignment: 16)
        generated.initializeMemory(as: UInt8.self, repeating: 0, count: Self.generatedHeadroom + ICMPMessage.maximumLength)
        self.directorAddress = directorAddress
        connections = ConnectionTable(capacity: connectionCapacity, seed: hashSeed)
        randomState = (hashSeed ^ 0x9E37_79B9_7F4A_7C15) | 1
        destinations = .allocate(capacity: max(destinationCapacity, 1))
        serviceStats = .allocate(capacity: 1)
        serviceStats.initialize(to: TrafficStats())
        counterSlots = .allocate(capacity: DataPlaneCounter.slotCount)
        counterSlots.initialize(repeating: 0, count: DataPlaneCounter.slotCount)
        timeoutNanos = .allocate(capacity: ConnectionState.allCases.count)
        for state in ConnectionState.allCases {
            (timeoutNanos + Int(state.rawValue)).initialize(to: UInt64(timeouts[state]) * 1_000_000_000)
        }
        let transitions = TCPStateMachine.hitPathTransitions()
        tcpTransitions = .allocate(capacity: transitions.count)
        tcpTransitions.initialize(from: transitions, count: transitions.count)
        // The first configuration is an apply onto an empty engine: slots are handed out in
        // configuration order and every list is built newest first, as `-a` lines would.
        // The plan cannot fail here: the pool was checked against `total` above.
        if let plan = try? makePlan(configuration) { _ = commit(plan) }
    }

    /// The checks the kernel and ipvsadm make on a service table, in one place.
    static func validate(_ configuration: DirectorConfiguration) throws(EngineConfigurationError) {
        // Connection entries name their service in 16 bits, and UInt16.max means "none".
        guard configuration.services.count < Int(UInt16.max) else {
            throw EngineConfigurationError("\(configuration.services.count) virtual services: at most \(UInt16.max - 1) are supported")
        }
        var keys = Set<VirtualServiceKey>()
        var marks = Set<UInt32>()
        for service in configuration.services {
            guard keys.insert(service.key).inserted else {
                throw EngineConfigurationError("virtual service \(service.key) is defined twice")
            }
            var seen = Set<RealServerConfig.AddressPort>()
            for rs in service.realServers {
                guard seen.insert(rs.addressPort).inserted else {
                    throw EngineConfigurationError("real server \(rs.address):\(rs.port) is added twice to \(service.key)")
                }
                // `ip_vs_add_dest` / `ip_vs_edit_dest` answer ERANGE to both.
                guard rs.weight >= 0 else {
                    throw EngineConfigurationError("real server \(rs.address):\(rs.port) of \(service.key): weight less than zero")
                }
                guard rs.lowerThreshold <= rs.upperThreshold else {
                    throw EngineConfigurationError(
                        "real server \(rs.address):\(rs.port) of \(service.key): lower threshold above the upper threshold")
                }
            }
            guard SchedulerRegistry.implemented.contains(service.scheduler) else {
                throw EngineConfigurationError(
                    "scheduler '\(service.scheduler)' of \(service.key) is not implemented; use one of: "
                        + SchedulerRegistry.implemented.joined(separator: ", "))
            }
            guard service.key.port != 0 || service.persistence != nil || service.key.isFirewallMark else {
                throw EngineConfigurationError("\(service.key): Zero port specified for non-persistent service")
            }
            guard !service.onePacketScheduling || service.key.transport == .udp || service.key.isFirewallMark else {
                throw EngineConfigurationError("\(service.key): One-Packet Scheduling is only for UDP virtual services")
            }
            if service.key.isFirewallMark {
                // The kernel finds a firewall-mark service by its mark alone (and the family).
                guard service.key.address == .any, service.key.port == 0 else {
                    throw EngineConfigurationError(
                        "\(service.key): a firewall-mark service has no address or port (it was given \(service.key.address):\(service.key.port))")
                }
                guard marks.insert(service.key.firewallMark).inserted else {
                    throw EngineConfigurationError("virtual service \(service.key) is defined twice")
                }
            }
        }
    }

    deinit {
        generated.deallocate()
        destinations.deinitialize(count: destinationCount)
        destinations.deallocate()
        serviceStats.deallocate()
        counterSlots.deallocate()
        timeoutNanos.deallocate()
        tcpTransitions.deallocate()
    }

    // MARK: - The packet path

    @inline(__always)
    func count(_ counter: DataPlaneCounter, _ amount: UInt64 = 1) {
        counterSlots[counter.rawValue] &+= amount
    }

    /// Looks at one received frame and rewrites it in place when it is to be sent.
    ///
    /// `isSuperFrame`: the frame is a GSO super-frame that the kernel segments on transmit, so
    /// its length is not held against the MTU.
    public func process(_ frame: FrameBytes, now: UInt64, isSuperFrame: Bool = false) -> Verdict {
        // A packet of a known connection takes the hit path; anything it does not handle in
        // full (having changed nothing), the general path. Each counts the frame as received.
        // GSO super-frames (rare: they come from the socket queue, not the ring) go straight to
        // the general path, which knows their MTU exemption; the hit path then needs one
        // register less.
        if isSuperFrame { return processGeneral(frame, now: now, isSuperFrame: true) }
        switch findEstablished(frame, probing: false) {
        case .found(let entry, let totalLength):
            return forwardEstablished(frame, now: now, entry: entry, totalLength: totalLength)
        case .declined: return processGeneral(frame, now: now, isSuperFrame: false)
        case .displaced: return forwardDisplaced(frame, now: now)
        }
    }

    /// `process` for a director that does not own its VIPs (`ownsVirtualAddresses` false): every
    /// frame takes the general path, which drops frames to a VIP and answers no ARP for one.
    public func processWithoutOwnership(_ frame: FrameBytes, now: UInt64, isSuperFrame: Bool = false) -> Verdict {
        processGeneral(frame, now: now, isSuperFrame: isSuperFrame)
    }

    /// The general path: parse the whole frame, then ARP, new connections, every drop and
    /// error, the ICMP replies. It gives the same result as the hit path for the frames that
    /// one takes (`HitPathTests` checks that on both), so it is also that path's reference.
    @inline(never)
    func processGeneral(_ frame: FrameBytes, now: UInt64, isSuperFrame: Bool) -> Verdict {
        count(.receivedFrames)
        count(.receivedBytes, UInt64(frame.count))
        let p = FrameParser.parse(frame)
        switch p.kind {
        case .ipv4Transport:
            guard p.destinationMAC == directorMAC else { return notForUs() }
            guard ownsVirtualAddresses else { return droppedNotMaster(p) }
            return forward(frame, p, now: now, isSuperFrame: isSuperFrame)
        case .arp:
            return handleARP(frame, p, now: now)
        case .ipv4Other:
            guard p.destinationMAC == directorMAC, virtualAddresses.contains(p.ipDestination.value)
                || Self.inNetworks(p.ipDestination, virtualNetworkList, director: directorAddress) else {
                return notForUs()
            }
            guard ownsVirtualAddresses else { return droppedNotMaster(p) }
            if p.isFragment {
                count(.fragments)
                return .drop
            }
            if let key = ICMPMessage.quotedConnection(frame, parsed: p) {
                return relayICMP(frame, p, about: key, now: now)
            }
            count(.unsupportedProtocol)
            return .drop
        case .otherEtherType:
            return notForUs()
        case .malformed(let reason):
            // A malformed frame addressed to someone else is not ours to count as an error.
            guard p.destinationMAC == directorMAC || frame.count < Wire.ethernetHeaderLength else { return notForUs() }
            counterSlots[DataPlaneCounter.slot(for: reason)] &+= 1
            return .drop
        }
    }

    /// A frame to this director's MAC while it does not own the VIPs: one to a VIP or a
    /// virtual network is dropped (a client with a stale ARP entry; the master serves it), the
    /// rest is the kernel's.
    func droppedNotMaster(_ p: ParsedFrame) -> Verdict {
        guard virtualAddresses.contains(p.ipDestination.value)
            || Self.inNetworks(p.ipDestination, virtualNetworkList, director: directorAddress) else { return notForUs() }
        count(.notMaster)
        return .drop
    }

    func notForUs() -> Verdict {
        count(.notForUs)
        return .pass
    }

    func forward(_ frame: FrameBytes, _ p: ParsedFrame, now: UInt64, isSuperFrame: Bool) -> Verdict {
        if p.isFragment {
            // A first fragment carries ports but the rest do not; forwarding only part of a
            // datagram helps nobody. Reassembly is future work.
            guard virtualAddresses.contains(p.ipDestination.value)
                || Self.inNetworks(p.ipDestination, virtualNetworkList, director: directorAddress) else { return notForUs() }
            count(.fragments)
            return .drop
        }
        let key = ConnectionKey(transport: p.ipProtocol, clientAddress: p.ipSource.value, clientPort: p.sourcePort,
                                virtualAddress: p.ipDestination.value, virtualPort: p.destinationPort)
        let isTCP = p.ipProtocol == TransportProtocol.tcp.rawValue
        var slot = connections.find(key)
        if slot >= 0 {
            let e = connections.entry(slot)
            let expired = e.pointee.expiresAt <= now
            var reused = false
            if isTCP && p.tcpFlags & Wire.tcpSYN != 0 {
                // `is_new_conn_expected`: TIME_WAIT or CLOSE (conn_reuse_mode 1), also FIN_WAIT
                // with mode bit 2; never for a connection a template controls.
                let mode = settings.connectionReuseMode
                let state = e.pointee.stateRaw
                reused = mode != 0 && !e.pointee.isControlled
                    && (state == ConnectionState.timeWait.rawValue || state == ConnectionState.close.rawValue
                        || (mode & 2 != 0 && state == ConnectionState.finWait.rawValue))
                // expire_nodest_conn: a SYN to a quiesced server is scheduled afresh.
                if settings.expireNoDestinationConnections && destinations[Int(e.pointee.destinationSlot)].weight == 0 {
                    reused = true
                }
            }
            // expire_nodest_conn: a connection whose server was removed ends; the packet goes on
            // as a new one (and is dropped below unless it may open a connection).
            let orphaned = settings.expireNoDestinationConnections
                && !destinations[Int(e.pointee.destinationSlot)].isAvailable
            if expired || reused || orphaned {
                release(e.pointee)
                connections.remove(slot)
                slot = -1
            }
        }
        let destinationSlot: Int32
        if slot >= 0 {
            let e = connections.entry(slot)
            destinationSlot = e.pointee.destinationSlot
            guard destinations[Int(destinationSlot)].isAvailable else {
                count(.destinationUnavailable)
                return .drop
            }
            transition(e, isTCP: isTCP, tcpFlags: p.tcpFlags, now: now)
        } else {
            // A new flow: what may open a connection is out of line (`openConnection`), so that
            // none of it weighs on the registers of the hit path above.
            let opened = openConnection(frame, p, key: key, isTCP: isTCP, now: now)
            guard opened.destinationSlot >= 0 else { return opened.verdict }
            destinationSlot = opened.destinationSlot
        }
        let d = destinations + Int(destinationSlot)
        let bytes = UInt64(p.ipTotalLength)
        // The service's totals include its servers' counters (`serviceStats`).
        d.pointee.stats.inPackets &+= 1
        d.pointee.stats.inBytes &+= bytes
        guard let mac = d.pointee.mac else {
            count(.neighborUnresolved)
            let n = Int(d.pointee.neighborIndex)
            if n >= 0 { neighbors[n].isWanted = true }
            return .drop
        }
        guard p.ipTTL > 1 else {
            count(.ttlExceeded)
            return icmpError(about: frame, p, type: ICMPMessage.timeExceeded, code: 0, now: now)
        }
        // DR adds no header, so the limit is the plain interface MTU; DF is bit 14 of the flags.
        if p.ipTotalLength > mtu && !isSuperFrame && frame.u16(Wire.ethernetHeaderLength + 6) & 0x4000 != 0 {
            count(.tooBig)
            return icmpError(about: frame, p, type: ICMPMessage.destinationUnreachable,
                             code: ICMPMessage.fragmentationNeeded, nextHopMTU: UInt16(clamping: mtu), now: now)
        }
        DirectRoutingTransmitter.rewrite(frame, realServerMAC: mac, directorMAC: directorMAC)
        count(.forwardedFrames)
        count(.forwardedBytes, UInt64(frame.count))
        return .transmit
    }

    /// What `openConnection` decided for a new flow: forward to `destinationSlot` of
    /// `serviceSlot`, or, when `destinationSlot` is -1, return `verdict`.
    struct NewFlow {
        var destinationSlot: Int32
        var serviceSlot: Int
        var verdict: Verdict

        init(destination: Int32, service: Int) {
            destinationSlot = destination
            serviceSlot = service
            verdict = .transmit
        }

        init(_ verdict: Verdict) {
            destinationSlot = -1
            serviceSlot = 0
            self.verdict = verdict
        }
    }

    /// A packet of no known connection: finds its service and, when the packet may open a
    /// connection, schedules it (through the persistence template if any) and opens it.
    /// Kept out of `forward` so that the hit path's code does not depend on it.
    @inline(never)
    func openConnection(_ frame: FrameBytes, _ p: ParsedFrame, key: ConnectionKey, isTCP: Bool, now: UInt64) -> NewFlow {
        let transport: TransportProtocol = isTCP ? .tcp : .udp
        // IPVS's `ip_vs_service_find`: the firewall-mark service of the flow's mark first (the
        // director's own address is never marked), then the exact service, then a port-0 (all
        // ports) persistent service on the VIP.
        let marked = markRules.isEmpty || p.ipDestination == directorAddress ? -1
            : markedService(protocol: p.ipProtocol, destination: p.ipDestination.value, port: p.destinationPort)
        guard let s = marked >= 0 ? marked
            : serviceIndex[VirtualServiceKey(transport: transport, address: p.ipDestination, port: p.destinationPort)]
            ?? serviceIndex[VirtualServiceKey(transport: transport, address: p.ipDestination, port: 0)]
        else {
            guard virtualAddresses.contains(p.ipDestination.value)
                || Self.inNetworks(p.ipDestination, virtualNetworkList, director: directorAddress) else { return NewFlow(notForUs()) }
            count(.noService)
            return NewFlow(.drop)
        }
        // IPVS schedules TCP only on a SYN without RST (sloppy_tcp=0).
        // With sloppy_tcp any segment but a RST may open a connection.
        let schedulable = !isTCP || (p.tcpFlags & (Wire.tcpSYN | Wire.tcpRST) == Wire.tcpSYN)
            || (settings.sloppyTCP && p.tcpFlags & Wire.tcpRST == 0)
        if !schedulable && !statelessFallback {
            count(.noConnection)
            return NewFlow(.drop)
        }
        if statelessFallback {
            if connections.count < connections.capacity - connections.capacity / 8 { statelessFallback = false }
        }
        let context = SchedulingContext(clientAddress: p.ipSource, clientPort: p.sourcePort,
                                        virtualAddress: p.ipDestination, virtualPort: p.destinationPort,
                                        now: now, random: nextRandomPair())
        let template = schedulable && services[s].persistence != nil
            ? persistentTemplate(service: s, key: key, context: context, now: now) : -1
        let picked: Int32? = template >= 0
            ? connections.entry(template).pointee.destinationSlot
            : (schedulable ? schedule(service: s, context: context) : nil)
        // `-o` makes one-packet connections of UDP only (a firewall-mark service takes TCP too).
        if schedulable, let picked, services[s].onePacketScheduling && !isTCP {
            // `-o`: the connection is created and expires with its one packet; nothing is
            // kept but the statistics (and the template's restarted timer, if persistent).
            destinations[Int(picked)].stats.connections &+= 1
            serviceStats[s].connections &+= 1
            if template >= 0 {
                connections.entry(template).pointee.expiresAt =
                    now &+ UInt64(services[s].persistence?.timeout ?? 0) &* 1_000_000_000
            }
            return NewFlow(destination: picked, service: s)
        } else if schedulable, let picked {
            let newSlot = connections.insert(key)
            if newSlot >= 0 {
                bind(connections.entry(newSlot), service: s, destination: picked, isTCP: isTCP)
                if template >= 0 {
                    // `ip_vs_control_add` + `ip_vs_conn_put(ct)`: the template now controls this
                    // connection and its timer restarts.
                    let t = connections.entry(template)
                    if t.pointee.controlledCount < UInt16.max { t.pointee.controlledCount += 1 }
                    t.pointee.expiresAt = now &+ UInt64(services[s].persistence?.timeout ?? 0) &* 1_000_000_000
                    connections.entry(newSlot).pointee.flags |= ConnectionEntry.controlledFlag
                }
                transition(connections.entry(newSlot), isTCP: isTCP, tcpFlags: p.tcpFlags, now: now)
                // A UDP connection has one state: it is synced when it opens.
                if !isTCP && syncJournal != nil { recordSync(connections.entry(newSlot), now: now) }
                return NewFlow(destination: picked, service: s)
            } else {
                statelessFallback = true
                count(.connectionTableFull)
                guard let hashed = statelessPick(service: s, key: key) else {
                    count(.noDestination)
                    return NewFlow(.drop)
                }
                return NewFlow(destination: hashed, service: s)
            }
        } else if !schedulable, let hashed = statelessPick(service: s, key: key) {
            count(.connectionTableFull)
            return NewFlow(destination: hashed, service: s)
        } else {
            // `ip_vs_leave`: no server for a packet a service should take: port unreachable.
            count(.noDestination)
            return NewFlow(icmpError(about: frame, p, type: ICMPMessage.destinationUnreachable,
                                     code: ICMPMessage.portUnreachable, now: now))
        }
    }

    /// The first compiled mark rule that matches decides: its service's index, or -1 when no
    /// rule matches or the first match's mark has no service.
    func markedService(protocol proto: UInt8, destination: UInt32, port: UInt16) -> Int {
        for r in markRules.indices {
            let rule = markRules[r]
            guard rule.transport == proto && destination & rule.mask == rule.network else { continue }
            let end = Int(rule.firstPort) + Int(rule.portCount)
            for i in Int(rule.firstPort)..<end where markPorts[i].low <= port && port <= markPorts[i].high {
                return Int(rule.service)
            }
        }
        return -1
    }

    /// Whether `address` is in one of the mark rules' networks and is not the director's own:
    /// packets to it are the director's to take, as packets to a VIP (`virtualAddresses`) are.
    /// Asked only after the VIP set said no.
    static func inNetworks(_ address: IPv4Address, _ networks: [IPv4Network], director: IPv4Address) -> Bool {
        guard !networks.isEmpty, address != director else { return false }
        return networks.contains { $0.contains(address) }
    }

    /// xorshift64* state for the schedulers' random draws (twos): cheap, per engine, seeded
    /// from the hash seed so two directors do not draw alike.
    var randomState: UInt64

    func nextRandomPair() -> (UInt32, UInt32) {
        randomState ^= randomState >> 12
        randomState ^= randomState << 25
        randomState ^= randomState >> 27
        let r = randomState &* 0x2545_F491_4F6C_DD1D
        return (UInt32(truncatingIfNeeded: r), UInt32(truncatingIfNeeded: r >> 32))
    }

    /// Writes an ICMP error about `frame` into the generated-frame buffer, within the rate limit.
    func icmpError(about frame: FrameBytes, _ p: ParsedFrame, type: UInt8, code: UInt8, nextHopMTU: UInt16 = 0,
                   now: UInt64) -> Verdict {
        // Refill 1 token per millisecond (1000/s), at most 50 in the bucket.
        let elapsedMillis = (now &- icmpLastRefill) / 1_000_000
        if elapsedMillis > 0 {
            icmpTokens = min(50, icmpTokens &+ elapsedMillis)
            icmpLastRefill = now
        }
        guard icmpTokens > 0 else {
            count(.icmpRateLimited)
            return .drop
        }
        icmpTokens -= 1
        let out = FrameBytes(base: generatedFrame, count: ICMPMessage.maximumLength)
        generatedLength = ICMPMessage.write(into: out, about: frame, parsed: p, type: type, code: code,
                                            nextHopMTU: nextHopMTU, source: p.ipDestination, directorMAC: directorMAC)
        count(.icmpErrorsSent)
        return .transmitGenerated
    }

    /// An ICMP error about a connection we forward (a router on the return path telling the
    /// VIP that the real server's reply was too big, say) goes to that connection's real
    /// server, which sent the packet it quotes: path MTU discovery then works through DR.
    func relayICMP(_ frame: FrameBytes, _ p: ParsedFrame, about key: ConnectionKey, now: UInt64) -> Verdict {
        let slot = connections.find(key)
        guard slot >= 0 else {
            count(.unsupportedProtocol)
            return .drop
        }
        let e = connections.entry(slot)
        guard e.pointee.expiresAt > now, !e.pointee.isTemplate else {
            count(.unsupportedProtocol)
            return .drop
        }
        let d = destinations + Int(e.pointee.destinationSlot)
        guard d.pointee.isAvailable, let mac = d.pointee.mac, p.ipTTL > 1 else {
            count(.destinationUnavailable)
            return .drop
        }
        d.pointee.stats.inPackets &+= 1
        d.pointee.stats.inBytes &+= UInt64(p.ipTotalLength)
        // Counted for the server and so for its service (`serviceStats`), as the kernel's
        // `ip_vs_in_icmp` does with `ip_vs_in_stats`.
        DirectRoutingTransmitter.rewrite(frame, realServerMAC: mac, directorMAC: directorMAC)
        count(.icmpErrorsRelayed)
        count(.forwardedFrames)
        count(.forwardedBytes, UInt64(frame.count))
        return .transmit
    }

    /// The protocol byte of a firewall-mark template: IPPROTO_IP (0) with the template bit.
    static let firewallMarkTemplateProtocol: UInt8 = 0x80

    /// How long a template that still controls connections is kept after its timeout, per step.
    static let templateRearmNanos: UInt64 = 60_000_000_000

    /// The template key of `ip_vs_sched_persist`: (protocol, client network, port 0, VIP, VIP
    /// port), the port 0 for an all-ports service and for FTP. The protocol's top bit marks a
    /// template so it can never match a real connection.
    ///
    /// A firewall-mark service's template is `<IPPROTO_IP, client network, 0, mark, 0>`, as
    /// the kernel keys it: one template for every protocol, VIP and port the mark covers, so
    /// a client's http and https connections go to one server.
    func templateKey(service s: Int, transport: UInt8, clientAddress: UInt32, virtualAddress: UInt32,
                     virtualPort: UInt16) -> ConnectionKey {
        let mask = services[s].persistence?.netmask.value ?? 0xFFFF_FFFF
        let mark = services[s].key.firewallMark
        if mark != 0 {
            return ConnectionKey(transport: Self.firewallMarkTemplateProtocol, clientAddress: clientAddress & mask,
                                 clientPort: 0, virtualAddress: mark, virtualPort: 0)
        }
        let servicePort = services[s].key.port
        let port: UInt16 = servicePort == 0 || servicePort == 21 ? 0 : virtualPort
        return ConnectionKey(transport: transport | 0x80, clientAddress: clientAddress & mask, clientPort: 0,
                             virtualAddress: virtualAddress, virtualPort: port)
    }

    /// Finds the client network's template, or schedules and creates one. Returns its slot, or
    /// -1 when no server can be picked or the table has no room (the caller then schedules
    /// without persistence or drops).
    func persistentTemplate(service s: Int, key: ConnectionKey, context: SchedulingContext, now: UInt64) -> Int {
        guard let persistence = services[s].persistence else { return -1 }
        let tkey = templateKey(service: s, transport: key.transport, clientAddress: key.clientAddress,
                               virtualAddress: key.virtualAddress, virtualPort: key.virtualPort)
        var slot = connections.find(tkey)
        if slot >= 0 {
            let t = connections.entry(slot)
            let expired = t.pointee.expiresAt <= now && t.pointee.controlledCount == 0
            // `ip_vs_check_template`: a template whose server was removed is dropped; one whose
            // server has weight 0 stays valid unless expire_quiescent_template is set.
            let server = destinations[Int(t.pointee.destinationSlot)]
            if expired || !server.isAvailable || (settings.expireQuiescentTemplates && server.weight == 0) {
                release(t.pointee)
                connections.remove(slot)
                slot = -1
            }
        }
        if slot >= 0 { return slot }
        guard let picked = schedule(service: s, context: context) else { return -1 }
        slot = connections.insert(tkey)
        guard slot >= 0 else { return -1 }
        let t = connections.entry(slot)
        t.pointee.flags |= ConnectionEntry.templateFlag
        t.pointee.destinationSlot = picked
        t.pointee.serviceIndex = UInt16(s)
        t.pointee.stateRaw = ConnectionState.none.rawValue
        t.pointee.expiresAt = now &+ UInt64(persistence.timeout) &* 1_000_000_000
        destinations[Int(picked)].persistentConnections += 1
        return slot
    }

    /// Runs the scheduler of service `s` and returns the chosen destination's slot.
    func schedule(service s: Int, context: SchedulingContext) -> Int32? {
        let list = DestinationList(slots: destinations, order: services[s].order)
        guard let position = services[s].scheduler.schedule(list, context: context) else { return nil }
        return list.slot(at: position)
    }

    /// Stateless choice used only while the table is full: a hash of the flow over the service's
    /// servers with a positive weight, so every packet of a flow lands on the same server.
    func statelessPick(service s: Int, key: ConnectionKey) -> Int32? {
        let order = services[s].order
        var eligible = 0
        for slot in order where destinations[Int(slot)].weight > 0 && destinations[Int(slot)].isAvailable { eligible += 1 }
        guard eligible > 0 else { return nil }
        var target = Int(connections.hash(key) % UInt64(eligible))
        for slot in order where destinations[Int(slot)].weight > 0 && destinations[Int(slot)].isAvailable {
            if target == 0 { return slot }
            target -= 1
        }
        return nil
    }

    /// `ip_vs_bind_dest`: a new connection starts inactive and may set the OVERLOAD flag.
    func bind(_ e: UnsafeMutablePointer<ConnectionEntry>, service s: Int, destination slot: Int32, isTCP: Bool) {
        e.pointee.destinationSlot = slot
        e.pointee.serviceIndex = UInt16(s)
        e.pointee.stateRaw = isTCP ? ConnectionState.none.rawValue : ConnectionState.udp.rawValue
        let d = destinations + Int(slot)
        d.pointee.inactiveConnections += 1
        d.pointee.stats.connections &+= 1
        serviceStats[s].connections &+= 1
        let total = UInt32(max(0, d.pointee.activeConnections + d.pointee.inactiveConnections))
        if d.pointee.upperThreshold != 0 && total >= d.pointee.upperThreshold { d.pointee.isOverloaded = true }
    }

    /// Applies the DR state machine to one client segment and restarts the entry's timer.

    func transition(_ e: UnsafeMutablePointer<ConnectionEntry>, isTCP: Bool, tcpFlags: UInt8, now: UInt64) {
        let old = e.pointee.state
        let new = isTCP ? TCPStateMachine.next(from: old, tcpFlags: tcpFlags) : .udp
        if new != old {
            e.pointee.stateRaw = new.rawValue
            if syncJournal != nil { recordSyncedChange(e, state: new.rawValue, now: now) }
            let wasActive = old.isActive
            if wasActive != new.isActive {
                let d = destinations + Int(e.pointee.destinationSlot)
                if new.isActive {
                    d.pointee.activeConnections += 1
                    d.pointee.inactiveConnections -= 1
                } else {
                    d.pointee.activeConnections -= 1
                    d.pointee.inactiveConnections += 1
                }
            }
        }
        e.pointee.expiresAt = now &+ timeoutNanos[Int(new.rawValue)]
    }

    /// `ip_vs_unbind_dest`: the connection leaves its server's counts; OVERLOAD may clear.
    func release(_ e: ConnectionEntry) {
        let d = destinations + Int(e.destinationSlot)
        if e.isTemplate {
            d.pointee.persistentConnections -= 1
            return
        }
        // A connection whose service is gone was detached from its template by `apply`.
        if e.isControlled, Int(e.serviceIndex) < services.count {
            let s = Int(e.serviceIndex)
            let tkey = templateKey(service: s, transport: e.transport, clientAddress: e.clientAddress,
                                   virtualAddress: e.virtualAddress, virtualPort: e.virtualPort)
            let t = connections.find(tkey)
            if t >= 0, connections.entry(t).pointee.controlledCount > 0 {
                connections.entry(t).pointee.controlledCount -= 1
            }
        }
        if e.state.isActive {
            d.pointee.activeConnections -= 1
        } else {
            d.pointee.inactiveConnections -= 1
        }
        let total = UInt32(max(0, d.pointee.activeConnections + d.pointee.inactiveConnections))
        if d.pointee.lowerThreshold != 0 {
            if total < d.pointee.lowerThreshold { d.pointee.isOverloaded = false }
        } else if d.pointee.upperThreshold != 0 {
            if total * 4 < d.pointee.upperThreshold * 3 { d.pointee.isOverloaded = false }
        } else {
            d.pointee.isOverloaded = false
        }
    }

    // MARK: - ARP

    func handleARP(_ frame: FrameBytes, _ p: ParsedFrame, now: UInt64) -> Verdict {
        guard p.destinationMAC == directorMAC || p.destinationMAC == .broadcast else { return notForUs() }
        if ownsVirtualAddresses && virtualAddresses.contains(p.arpSenderAddress.value) && p.arpSenderMAC != directorMAC {
            // Another host says it owns a VIP: a real server that answers ARP for it, or a second
            // director. Count it and remember who, for the operator.
            count(.vipConflicts)
            // Name the host by its own address when it is one of our real servers (the usual
            // culprit: VIP on an ARPing device); the scan runs only for a MAC not seen last time.
            var sender = vipConflict?.mac == p.arpSenderMAC ? vipConflict?.senderAddress ?? p.arpSenderAddress
                : p.arpSenderAddress
            if vipConflict?.mac != p.arpSenderMAC, let n = neighbors.firstIndex(where: { $0.mac == p.arpSenderMAC }) {
                sender = neighbors[n].address
            }
            vipConflict = VIPConflict(vip: p.arpSenderAddress, mac: p.arpSenderMAC, senderAddress: sender,
                                      count: counterSlots[DataPlaneCounter.vipConflicts.rawValue])
            lastVIPConflictAt = now
        }
        if let n = neighborIndex[p.arpSenderAddress.value], !neighbors[n].isStatic, p.arpSenderMAC != .zero,
           !p.arpSenderMAC.isMulticast {
            learn(neighbor: n, mac: p.arpSenderMAC, now: now)
        }
        if ownsVirtualAddresses, p.arpOperation == Wire.arpRequest, virtualAddresses.contains(p.arpTargetAddress.value),
           p.arpSenderAddress != p.arpTargetAddress {
            ARPFrame.rewriteRequestIntoReply(frame, directorMAC: directorMAC)
            count(.arpRepliesSent)
            return .transmit
        }
        return .pass
    }

    /// `counted: false` for a MAC another worker learned (it counted the update already).
    func learn(neighbor n: Int, mac: MACAddress, now: UInt64, counted: Bool = true) {
        if neighbors[n].mac != mac {
            neighbors[n].mac = mac
            if counted { count(.neighborUpdates) }
            for i in 0..<destinationCount where destinations[i].neighborIndex == Int32(n) {
                destinations[i].mac = mac
            }
        }
        neighbors[n].lastConfirmedAt = now
        neighbors[n].isWanted = false
    }

    /// Real servers to ask for now: unresolved ones every `neighborRetryNanos` (at once when a
    /// packet waits), resolved ones every `neighborRefreshNanos`. The caller sends the requests
    /// and reports each with `noteRequestSent`.
    public func neighborsDue(now: UInt64) -> [Int] {
        var due: [Int] = []
        for (i, n) in neighbors.enumerated() where !n.isStatic && n.isInUse {
            let sinceRequest = n.lastRequestAt.map { now &- $0 } ?? UInt64.max
            if n.mac == nil {
                if sinceRequest >= neighborRetryNanos || (n.isWanted && sinceRequest >= neighborRetryNanos / 10) {
                    due.append(i)
                }
            } else {
                let sinceConfirmed = n.lastConfirmedAt.map { now &- $0 } ?? UInt64.max
                if sinceConfirmed >= neighborRefreshNanos && sinceRequest >= neighborRetryNanos { due.append(i) }
            }
        }
        return due
    }

    public func noteRequestSent(neighbor n: Int, now: UInt64) {
        neighbors[n].lastRequestAt = now
        count(.arpRequestsSent)
    }

    public func noteGratuitousARPSent() { count(.gratuitousARPsSent) }

    /// Lets the I/O layer count what it sees (transmit errors, ring drops, oversize frames).
    public func add(_ counter: DataPlaneCounter, _ amount: UInt64 = 1) { count(counter, amount) }

    // MARK: - Housekeeping and observation

    /// Rate estimators per service and per destination slot, sampled by `sampleRates` every
    /// `RateEstimator.periodNanos` from the housekeeping tick, never from the packet path.
    public internal(set) var serviceRates: [RateEstimator] = []
    public internal(set) var destinationRates: [RateEstimator] = []
    /// The first `sampleRates` call starts the estimators; `apply` and `zeroCounters` keep them
    /// in step with the services and slots from then on.
    var ratesStarted = false

    /// One estimator tick (the kernel's 2-second timer): folds the counters into the averages.
    public func sampleRates() {
        if !ratesStarted {
            ratesStarted = true
            let totals = serviceTotals()
            serviceRates = totals.map { RateEstimator(startingAt: $0) }
            destinationRates = (0..<destinationCount).map { RateEstimator(startingAt: destinations[$0].stats) }
            return
        }
        let totals = serviceTotals()
        for i in 0..<services.count { serviceRates[i].sample(totals[i]) }
        for i in 0..<destinationCount { destinationRates[i].sample(destinations[i].stats) }
    }

    public func rate(service s: Int) -> RateEstimator { s < serviceRates.count ? serviceRates[s] : RateEstimator() }
    public func rate(slot: Int32) -> RateEstimator {
        Int(slot) < destinationRates.count ? destinationRates[Int(slot)] : RateEstimator()
    }

    /// Expires up to `budget` connection slots' worth of dead entries.
    public func expireConnections(now: UInt64, budget: Int) {
        connections.sweep(now: now, budget: budget) { (e: UnsafeMutablePointer<ConnectionEntry>) -> Bool in
            if e.pointee.isTemplate && e.pointee.controlledCount > 0 {
                // A template outlives the connections it controls, re-armed in 60 s steps.
                e.pointee.expiresAt = now &+ Self.templateRearmNanos
                return false
            }
            release(e.pointee)
            return true
        }
    }

    public func counter(_ c: DataPlaneCounter) -> UInt64 { counterSlots[c.rawValue] }
    public func counter(_ reason: MalformedReason) -> UInt64 { counterSlots[DataPlaneCounter.slot(for: reason)] }

    /// A copy of every counter slot, in `DataPlaneCounter.slotNames` order.
    public func counterSnapshot() -> [UInt64] {
        Array(UnsafeBufferPointer(start: counterSlots, count: DataPlaneCounter.slotCount))
    }

    public func destination(slot: Int32) -> Destination { destinations[Int(slot)] }
    /// Service `s`'s counters (see `serviceStats`): one pass over the slots. To read every
    /// service's, `serviceTotals` does it in one pass for all.
    public func stats(service s: Int) -> TrafficStats {
        var total = serviceStats[s]
        for slot in 0..<destinationCount where Int(slotServices[slot]) == s {
            total.inPackets &+= destinations[slot].stats.inPackets
            total.inBytes &+= destinations[slot].stats.inBytes
        }
        return total
    }

    /// Every service's counters (see `serviceStats`), in `services` order: its own fields plus
    /// the packets and bytes of each slot created in it, in one sweep of the slots (their
    /// service index from `slotServices`, no key hashed), so that reading all of them costs
    /// O(services + slots) whatever the table's size. Read at status, snapshot and estimator
    /// time, never per packet.
    public func serviceTotals() -> [TrafficStats] {
        var totals = Array(UnsafeBufferPointer(start: serviceStats, count: services.count))
        totals.withUnsafeMutableBufferPointer { totals in
            for slot in 0..<destinationCount {
                let s = Int(slotServices[slot])
                guard s >= 0 && s < totals.count else { continue }
                totals[s].inPackets &+= destinations[slot].stats.inPackets
                totals[s].inBytes &+= destinations[slot].stats.inBytes
            }
        }
        return totals
    }

    /// Rebuilds `slotServices` from the slots' service keys and the current `serviceIndex`:
    /// one pass over the slots, run by `apply` once the services are renumbered.
    func indexSlotServices() {
        slotServices = (0..<destinationCount).map { slot in
            serviceIndex[slotServiceKeys[slot]].map { Int32($0) } ?? -1
        }
    }

    /// Makes the derived totals of every service in `targets` zero, whatever their slots hold:
    /// one sweep of the slots for all of them (`-Z` of every service, or the services one
    /// `apply` adds, cost O(services + slots), not one sweep each).
    func startServiceTotalsAtZero<Targets: Sequence<Int>>(_ targets: Targets) {
        var isTarget = [Bool](repeating: false, count: services.count)
        var any = false
        for s in targets where s >= 0 && s < services.count {
            isTarget[s] = true
            any = true
        }
        guard any else { return }
        for s in 0..<services.count where isTarget[s] {
            serviceStats[s].inPackets = 0
            serviceStats[s].inBytes = 0
        }
        for slot in 0..<destinationCount {
            let s = Int(slotServices[slot])
            guard s >= 0 && s < isTarget.count && isTarget[s] else { continue }
            serviceStats[s].inPackets &-= destinations[slot].stats.inPackets
            serviceStats[s].inBytes &-= destinations[slot].stats.inBytes
        }
    }

    /// The live connection entries (for listings and tests).
    public func connectionEntries(now: UInt64) -> [ConnectionEntry] {
        var all: [ConnectionEntry] = []
        connections.forEach { if $0.expiresAt > now { all.append($0) } }
        return all
    }
}

extension RealServerConfig {
    struct AddressPort: Hashable {
        var address: IPv4Address
        var port: UInt16
    }

    var addressPort: AddressPort { AddressPort(address: address, port: port) }
}
