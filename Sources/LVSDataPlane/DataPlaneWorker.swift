import CLinuxNet
import Dispatch
import Glibc
import LVSCore
import Synchronization

/// State the worker shares with the control thread: a stop request, the latest snapshot, and
/// the jobs the control plane hands to the worker (table changes, status requests).
public final class WorkerShared: Sendable {
    public let stopRequested = Atomic<Bool>(false)
    public let ready = Atomic<Bool>(false)
    public let snapshot = Mutex(DataPlaneSnapshot())
    /// Jobs waiting for the worker; `pendingJobs` lets the loop check for them with one relaxed
    /// load per batch instead of taking the lock.
    let jobs = Mutex<[WorkerJob]>([])
    let pendingJobs = Atomic<Int>(0)
    /// Written to wake the worker out of poll() when a job arrives.
    let wakeup: Int32
    public init() {
        wakeup = clinuxnet_eventfd()
    }

    deinit { if wakeup >= 0 { close(wakeup) } }
}

/// What a job may touch on the worker thread: the engine, and the socket's VIP filter and
/// gratuitous ARP (which change when a table change adds or removes a VIP).
public struct WorkerContext {
    public let engine: ForwardingEngine
    let worker: DataPlaneWorker

    /// The worker's clock, the one the engine's expiry times are in.
    public var now: UInt64 { Linux.monotonicNanos() }

    /// Re-attaches the socket filter for the engine's current VIPs and mark-rule networks and
    /// announces `added` VIPs (networks are never announced: lvsd does not answer ARP for them).
    /// With the AF_XDP backend the socket keeps its ARP-only filter and the XDP program's VIP
    /// map changes instead (the map is the interface's, so every worker writes the same set).
    public func virtualAddressesChanged(added: [IPv4Address]) throws(SystemError) {
        if let program = worker.xdpProgram {
            do {
                try program.setVirtualAddresses(engine.virtualAddressList, networks: engine.virtualNetworkList)
            } catch {
                throw SystemError(call: "bpf", subject: "XDP VIP map: \(error.step)", errno: error.errno)
            }
        } else {
            try PacketSocket.attachFilter(worker.socket.fd, virtualAddresses: engine.virtualAddressList,
                                          virtualNetworks: engine.virtualNetworkList)
        }
        if engine.ownsVirtualAddresses { worker.announce(added) }
    }

    /// VRRP's ownership switch: the VIPs become (or stop being) this director's. Gaining them
    /// sends one gratuitous ARP for each (the first of the takeover burst); losing them takes
    /// effect with the next frame, so nothing is answered or forwarded for them afterwards.
    /// Worker 0 also sends the gratuitous ARP (one announcement per director, not per worker).
    public func setOwnsVirtualAddresses(_ owns: Bool) {
        engine.ownsVirtualAddresses = owns
        if owns { worker.announceVirtualAddresses() }
    }

    /// One gratuitous ARP for every VIP, if the VIPs are owned (the later rounds of a takeover).
    public func announceVirtualAddresses() {
        if engine.ownsVirtualAddresses { worker.announceVirtualAddresses() }
    }

    /// This worker's index in its pool (0 with a single worker).
    public var workerIndex: Int { worker.index }

    /// Installs `steering`'s program as the fanout group's (any member's socket sets it for
    /// the whole group). Only with several workers.
    public func setSteering(_ steering: FlowSteering) throws(SystemError) {
        try worker.socket.setFanoutProgram(steering)
    }
}

/// A closure to run on the worker thread between two batches.
struct WorkerJob: @unchecked Sendable {
    // @unchecked: the closure is created on the control thread and run once on the worker
    // thread; it captures only Sendable values (the caller's API is @Sendable).
    let run: (WorkerContext) -> Void
}

/// The forwarding loop of one worker: read frames from the ring, let the engine decide,
/// send the rewritten ones in batches, and do the housekeeping (ARP for real servers,
/// connection expiry, counters) between batches.
///
/// The worker owns its socket and engine; after `start()` only its thread touches them.
public final class DataPlaneWorker: @unchecked Sendable {
    // @unchecked: the socket, engine and buffers are handed to the worker thread in `start()`
    // and used by that thread only; the control thread talks to it through `shared`.
    /// The AF_PACKET socket: the data path with the AF_PACKET backend; with AF_XDP, the path of
    /// ARP (which the XDP program passes to the kernel) and of the frames the director sends.
    let socket: PacketSocket
    let packetRing: AFPacketRing
    /// The AF_XDP socket of this worker's receive queue, and the interface's XDP program (nil:
    /// the AF_PACKET backend).
    let xdp: XDPSocket?
    let xdpProgram: XDPRedirect?
    let engine: ForwardingEngine
    /// Position in the pool and the fanout group; worker 0 gets every ARP frame, so it alone
    /// resolves real servers (and hands their MACs to the others) and announces VIPs.
    public let index: Int
    /// The CPU this worker's thread is pinned to (nil: not pinned).
    public let cpu: Int?
    public let shared = WorkerShared()
    let batchSize: Int
    /// Whole frames that did not fit a ring slot (GSO super-frames), read from the socket queue.
    let oversize: UnsafeMutableRawPointer
    let oversizeCapacity = 256 * 1024
    /// Buffer for the ARP frames the director originates (vnet header + 60 bytes).
    let arpBuffer: UnsafeMutableRawPointer
    /// The frames of one ring turn and their verdicts, for `ForwardingEngine.processBatch`.
    let received: UnsafeMutablePointer<FrameBytes>
    let verdicts: UnsafeMutablePointer<Verdict>
    var thread: pthread_t?
    /// Spin on the ring instead of sleeping in poll() when idle (`--busy-poll`): no wake-up
    /// latency, at the price of a whole CPU per worker. Set before `start()`.
    public var busyPoll = false
    /// How long an idle worker keeps looking at its ring before it sleeps in poll()
    /// (`--idle-spin`, nanoseconds; 0: sleep at once). Request/response traffic leaves gaps of
    /// tens of microseconds between frames; sleeping in each of them makes every next frame
    /// pay a wake-up, on the CPU that receives it (an IPI and the scheduler's work) and in
    /// latency. A short spin takes those wake-ups out while the worker still sleeps whenever
    /// traffic pauses for longer. Set before `start()`.
    public var idleSpinNanos: UInt64 = 0
    /// Time the worker may wait for real-server MACs before it declares itself ready.
    public var resolveWait: UInt64 = 2_000_000_000
    /// Called once, on the worker thread, when forwarding starts (after initial ARP resolution).
    public var onReady: @Sendable (_ unresolved: [IPv4Address]) -> Void = { _ in }
    /// Called on worker 0's thread with the MACs it learned, once a second and whenever one
    /// changed: the pool passes them on to the other workers (nil with a single worker).
    public var onNeighbors: (@Sendable (_ learned: [LearnedNeighbor]) -> Void)?

    /// `xdp` and `xdpProgram` select the AF_XDP backend (`socket` then has an ARP-only filter).
    public init(socket: PacketSocket, engine: ForwardingEngine, options: RingOptions, index: Int = 0, cpu: Int? = nil,
                xdp: XDPSocket? = nil, xdpProgram: XDPRedirect? = nil) {
        self.socket = socket
        self.engine = engine
        self.index = index
        self.cpu = cpu
        self.xdp = xdp
        self.xdpProgram = xdpProgram
        batchSize = max(1, options.batchSize)
        packetRing = AFPacketRing(socket: socket, batchSize: batchSize)
        oversize = .allocate(byteCount: oversizeCapacity, alignment: 64)
        arpBuffer = .allocate(byteCount: 128, alignment: 64)
        arpBuffer.initializeMemory(as: UInt8.self, repeating: 0, count: 128)
        received = .allocate(capacity: batchSize)
        verdicts = .allocate(capacity: batchSize)
    }

    deinit {
        oversize.deallocate()
        arpBuffer.deallocate()
        received.deallocate()
        verdicts.deallocate()
    }

    /// Frames in this worker's receive ring, and the size of each slot.
    public var ringFrames: Int { xdp?.frameCount ?? socket.frameCount }
    public var ringFrameSize: Int { xdp?.frameSize ?? socket.frameSize }
    /// "AF_XDP (generic mode, copy, queue 0)" or "AF_PACKET", for the log and the stats.
    public var backendDescription: String {
        guard let xdp else { return "AF_PACKET" }
        let mode = xdpProgram?.attachedMode?.rawValue ?? "?"
        return "AF_XDP (\(mode) mode, \(xdp.zeroCopy ? "zero-copy" : "copy"), queue \(xdp.queue))"
    }
    public var connectionCapacity: Int { engine.connections.capacity }

    /// Starts the worker thread.
    public func start() throws(SystemError) {
        let box = Unmanaged.passRetained(self)
        var tid = pthread_t()
        let r = pthread_create(&tid, nil, { arg in
            guard let arg else { return nil }
            let worker = Unmanaged<DataPlaneWorker>.fromOpaque(arg).takeRetainedValue()
            worker.run()
            return nil
        }, box.toOpaque())
        guard r == 0 else {
            box.release()
            throw SystemError(call: "pthread_create", subject: "data-plane worker", errno: r)
        }
        thread = tid
    }

    /// Asks the loop to stop and waits for it.
    public func stop() {
        shared.stopRequested.store(true, ordering: .releasing)
        wake()
        if let thread { pthread_join(thread, nil) }
        thread = nil
    }

    /// Runs `body` on the worker thread between two batches and returns its result: the way the
    /// control plane changes or reads the engine without a lock on the packet path. Waits at
    /// most `timeoutSeconds` (nil if the worker did not get to it, e.g. because it stopped).
    public func perform<T: Sendable>(timeoutSeconds: Int = 10,
                                     _ body: @escaping @Sendable (WorkerContext) -> T) -> T? {
        submit(body).wait(timeoutSeconds: timeoutSeconds)
    }

    /// Queues `body` for the worker thread and returns at once; the pool submits to every
    /// worker first and then waits for all, so they apply a change at about the same time.
    public func submit<T: Sendable>(_ body: @escaping @Sendable (WorkerContext) -> T) -> PendingResult<T> {
        let pending = PendingResult<T>()
        post { context in pending.fulfil(body(context)) }
        return pending
    }

    /// Queues `body` for the worker thread without waiting for it (worker 0's neighbour
    /// hand-over: a worker must never wait for another).
    public func post(_ body: @escaping @Sendable (WorkerContext) -> Void) {
        shared.jobs.withLock { $0.append(WorkerJob(run: body)) }
        shared.pendingJobs.add(1, ordering: .releasing)
        wake()
    }

    func wake() {
        var one: UInt64 = 1
        _ = write(shared.wakeup, &one, 8)
    }

    /// Runs the queued jobs (on the worker thread); true if there were any (the caller then
    /// publishes, so a change shows in the stats at once).
    func runJobs() -> Bool {
        let jobs = shared.jobs.withLock { list -> [WorkerJob] in
            let taken = list
            list.removeAll()
            return taken
        }
        shared.pendingJobs.subtract(jobs.count, ordering: .relaxed)
        var drain: UInt64 = 0
        _ = read(shared.wakeup, &drain, 8)
        let context = WorkerContext(engine: engine, worker: self)
        for job in jobs { job.run(context) }
        return !jobs.isEmpty
    }

    // MARK: - The loop

    func run() {
        // `top -H`, `ps -L` and /proc/PID/task show which thread is which worker.
        _ = clinuxnet_set_thread_name("lvsd-worker-\(index)")
        if let cpu {
            let r = clinuxnet_pin_current_thread(Int32(cpu))
            if r != 0 { Log.warning("worker \(index): cannot pin to CPU \(cpu): \(String(cString: strerror(r))); it runs unpinned") }
        }
        // One specialised loop per backend: no existential call per frame.
        if let xdp {
            loop(xdp, alsoARP: true)
        } else {
            loop(packetRing, alsoARP: false)
        }
    }

    /// Empty spinning turns (`--busy-poll`, or within an `--idle-spin`) between two clock
    /// readings. An empty turn takes about 10 ns
    /// (BENCHMARKS.md, "The busy-poll spin"), so the clock the housekeeping goes by (100 ms
    /// ticks, the once-a-second publishing, ARP and expiry) is some 10-20 µs stale at most,
    /// while the clock read drops from a few percent of the spin to noise. A turn that finds
    /// frames always reads the clock afresh before handling them.
    static let idleTurnsPerClockRead = 1024

    /// The loop over `ring`; with `alsoARP` (the AF_XDP backend) the AF_PACKET ring is read
    /// too, each turn, for ARP.
    func loop<Ring: FrameRing>(_ ring: Ring, alsoARP: Bool) {
        let tickNanos: UInt64 = 100_000_000
        let publishNanos: UInt64 = 1_000_000_000
        var now = Linux.monotonicNanos()
        let startedAt = now
        var nextTick: UInt64 = 0
        var nextPublish = now &+ publishNanos
        var nextRateSample = now

        let sweepBudget = max(1024, engine.connections.capacity / 100)
        // Every entry once per `syncRefreshNanos` (only while a sync master runs).
        let refreshBudget = max(1, Int(UInt64(engine.connections.capacity) * tickNanos / ForwardingEngine.syncRefreshNanos))

        if engine.ownsVirtualAddresses { announceVirtualAddresses() }
        var neighborUpdatesHandedOver = UInt64.max
        let secondFD: Int32 = alsoARP ? packetRing.pollDescriptor : -1
        // In locals, not properties of this class: a class property's access on every turn
        // goes through Swift's dynamic exclusivity check (a runtime call), which a spinning
        // worker would pay millions of times a second for nothing.
        let spin = busyPoll
        let idleSpin = idleSpinNanos
        var idleTurns = 0
        /// When the current idle spin ends (0: not spinning; 1: it ran out, sleep).
        var spinUntil: UInt64 = 0
        /// The ring wait of this worker's turns (nil in what it publishes when the ring does
        /// not stamp frames: AF_XDP).
        var ringWait = RingWait()
        let measureWait = Ring.stampsFrames
        // At once, not after the first second: the stats file then shows this backend's shape
        // (a ring wait of 0 turns, or null) from the start.
        publish(ringWait: measureWait ? ringWait : nil)

        while !shared.stopRequested.load(ordering: .relaxed) {
            if shared.pendingJobs.load(ordering: .acquiring) > 0 && runJobs() {
                publish(ringWait: measureWait ? ringWait : nil)
            }
            // `drain` reads the clock into `now` when it finds frames (`fresh`).
            var fresh = false
            var pending = drain(ring, now: &now, fresh: &fresh, measureWait: measureWait, ringWait: &ringWait)
            if alsoARP {
                pending += drain(packetRing, now: &now, fresh: &fresh, measureWait: false, ringWait: &ringWait)
            }
            if !fresh {
                // An empty turn. Before a sleep in poll() (far dearer) the clock is read; while
                // spinning (--busy-poll, or within an --idle-spin), every
                // `idleTurnsPerClockRead`-th turn reads it.
                idleTurns &+= 1
                if !(spin || spinUntil > 1) || idleTurns >= Self.idleTurnsPerClockRead {
                    now = Linux.monotonicNanos()
                    idleTurns = 0
                }
            }

            if now >= nextTick {
                housekeeping(ring, now: now, sweepBudget: sweepBudget)
                engine.refreshSync(now: now, budget: refreshBudget)
                if let onNeighbors, engine.counter(.neighborUpdates) != neighborUpdatesHandedOver {
                    neighborUpdatesHandedOver = engine.counter(.neighborUpdates)
                    onNeighbors(engine.learnedNeighbors)
                }
                nextTick = now &+ tickNanos
                if !shared.ready.load(ordering: .relaxed) {
                    let unresolved = engine.neighbors.filter { $0.mac == nil }.map(\.address)
                    if unresolved.isEmpty || now &- startedAt >= resolveWait {
                        shared.ready.store(true, ordering: .releasing)
                        onReady(unresolved)
                    }
                }
            }
            if now >= nextRateSample {
                engine.sampleRates()
                nextRateSample = now &+ RateEstimator.periodNanos
            }
            if now >= nextPublish {
                // Also once a second: real servers a table change just gave the others.
                onNeighbors?(engine.learnedNeighbors)
                ringWait.endSecond()
                publish(ringWait: measureWait ? ringWait : nil)
                nextPublish = now &+ publishNanos
            }
            if pending > 0 {
                spinUntil = 0
            } else if !spin && idleSpin > 0 && spinUntil != 1 {
                // Idle: look again until the spin has lasted idleSpin, then sleep (1 marks
                // a spin that ran out, so the next empty turn sleeps without reading the clock).
                let t = Linux.preciseMonotonicNanos()
                if spinUntil == 0 {
                    spinUntil = t &+ idleSpin
                    continue
                }
                if t < spinUntil { continue }
                spinUntil = 1
            }
            if pending == 0 && !spin {
                // Idle: sleep until a frame arrives or the next tick is due.
                var pfds = (pollfd(fd: ring.pollDescriptor, events: Int16(POLLIN), revents: 0),
                            pollfd(fd: shared.wakeup, events: Int16(POLLIN), revents: 0),
                            pollfd(fd: secondFD, events: Int16(POLLIN), revents: 0))
                let waitMillis = Int32(min(100, max(1, (nextTick &- min(nextTick, Linux.monotonicNanos())) / 1_000_000)))
                _ = withUnsafeMutableBytes(of: &pfds) { raw in
                    poll(raw.baseAddress?.assumingMemoryBound(to: pollfd.self), alsoARP ? 3 : 2, waitMillis)
                }
            }
        }
        // Whoever still waits for a job gets an answer rather than a timeout.
        _ = runJobs()
        publish(ringWait: measureWait ? ringWait : nil)
    }

    /// One batch from `ring`: receive, let the engine decide, send, hand the frames back. A
    /// frame too large for an AF_PACKET slot ends the batch; it is read whole from the socket
    /// queue and the batch goes on after it. Returns the frames handled.
    ///
    /// An empty ring returns at once: the busy-poll spin is this receive and nothing else (no
    /// clock read, no engine access). The rest is `forwardTurn`, kept out of line because the
    /// compiler hoists the engine's exclusivity checks (its properties are another module's, so
    /// they stay dynamic) to the top of the function that uses them: in line here, every empty
    /// turn would pay for them.
    @inline(__always)
    func drain<Ring: FrameRing>(_ ring: Ring, now: inout UInt64, fresh: inout Bool, measureWait: Bool,
                                ringWait: inout RingWait) -> Int {
        let count = ring.receive(into: received, capacity: batchSize)
        if count == 0 && !ring.stoppedAtOversize { return 0 }
        return forwardTurn(ring, count, now: &now, fresh: &fresh, measureWait: measureWait, ringWait: &ringWait)
    }

    /// The frames of a turn, the first `count` already received: `now` is read once for the
    /// turn (unless `fresh`), and with `measureWait` the first frame's ring wait goes into
    /// `ringWait` (one CLOCK_REALTIME read a turn). One batch a turn, except that a frame too
    /// large for a slot is forwarded from the socket queue and receiving goes on after it.
    @inline(never)
    func forwardTurn<Ring: FrameRing>(_ ring: Ring, _ first: Int, now: inout UInt64, fresh: inout Bool,
                                      measureWait: Bool, ringWait: inout RingWait) -> Int {
        var total = 0
        var measure = measureWait
        var count = first
        while true {
            let oversize = ring.stoppedAtOversize
            if !fresh {
                now = Linux.monotonicNanos()
                fresh = true
            }
            if count > 0 {
                if measure {
                    let stamp = ring.receiveTime(ofFrame: 0)
                    let pickedUp = Linux.realtime()
                    ringWait.record(ageNanos: RingWait.ageNanos(
                        frameSeconds: stamp.seconds, frameNanoseconds: stamp.nanoseconds,
                        nowSeconds: pickedUp.seconds, nowNanoseconds: pickedUp.nanoseconds))
                    measure = false
                }
                // Read once a batch: a job (the only writer) runs between turns.
                forwardReceived(ring, count, now: now, owns: engine.ownsVirtualAddresses)
                let failed = ring.flush()
                if failed > 0 { engine.add(.transmitErrors, UInt64(failed)) }
                ring.release(count)
                total += count
            }
            guard oversize else { return total }
            forwardOversize(now: now)
            ring.skipOversize()
            total += 1
            count = ring.receive(into: received, capacity: batchSize)
            if count == 0 && !ring.stoppedAtOversize { return total }
        }
    }

    /// Lets the engine decide on the first `count` frames of `received`, all with one clock
    /// reading, and queues the rewritten ones for sending. `processBatch` stops after a frame
    /// whose reply it generated (its one buffer for that must be sent before the next frame),
    /// so this goes round until the batch is done.
    /// A director that does not own its VIPs (a VRRP backup) hands each frame to the general
    /// path's `processWithoutOwnership` instead, which answers no ARP for a VIP and forwards
    /// nothing to one.
    @inline(__always)
    func forwardReceived<Ring: FrameRing>(_ ring: Ring, _ count: Int, now: UInt64, owns: Bool) {
        guard owns else {
            for i in 0..<count {
                switch engine.processWithoutOwnership(received[i], now: now) {
                case .transmit: ring.queueTransmit(received[i], index: i)
                case .transmitGenerated: sendGenerated()
                case .drop, .pass: break
                }
            }
            return
        }
        var done = 0
        while done < count {
            let processed = engine.processBatch(received + done, count: count - done, verdicts: verdicts + done,
                                                now: now)
            var i = done
            while i < done + processed {
                switch verdicts[i] {
                case .transmit: ring.queueTransmit(received[i], index: i)
                case .transmitGenerated: sendGenerated()
                case .drop, .pass: break
                }
                i += 1
            }
            done += max(1, processed)
        }
    }

    /// Reads one whole frame from the socket queue (vnet header first) and forwards it.
    func forwardOversize(now: UInt64) {
        let r = recv(socket.fd, oversize, oversizeCapacity, Int32(MSG_DONTWAIT) | Int32(MSG_TRUNC))
        let vnet = socket.vnetHeaderLength
        guard r > vnet, r <= oversizeCapacity else {
            // Queue empty (the kernel could not queue the copy) or larger than our buffer.
            engine.add(.ringDrops)
            return
        }
        engine.add(.oversizeFrames)
        let frame = FrameBytes(base: oversize + vnet, count: r - vnet)
        // A GSO super-frame is segmented by the kernel on transmit: its length is not an MTU
        // violation. A whole frame that merely did not fit a slot (a jumbo on a small ring) is.
        let isSuperFrame = oversize.load(fromByteOffset: 1, as: UInt8.self) != 0  // virtio_net_hdr.gso_type
        switch engine.ownsVirtualAddresses ? engine.process(frame, now: now, isSuperFrame: isSuperFrame)
            : engine.processWithoutOwnership(frame, now: now, isSuperFrame: isSuperFrame) {
        case .transmit:
            packetRing.batch.append(oversize, length: r)
            let failed = packetRing.batch.flush(fd: socket.fd)
            if failed > 0 { engine.add(.transmitErrors, UInt64(failed)) }
        case .transmitGenerated: sendGenerated()
        case .drop, .pass: break
        }
    }

    /// Sends the frame the engine generated (an ICMP error) with a zeroed virtio-net header in
    /// the headroom the engine leaves for it. Rare and rate-limited, so one send() each.
    func sendGenerated() {
        let vnet = socket.vnetHeaderLength
        let start = engine.generatedFrame - vnet
        start.initializeMemory(as: UInt8.self, repeating: 0, count: vnet)
        if send(socket.fd, start, vnet + engine.generatedLength, 0) < 0 {
            engine.add(.transmitErrors)
        }
    }

    func housekeeping<Ring: FrameRing>(_ ring: Ring, now: UInt64, sweepBudget: Int) {
        var drops = ring.takeDropCount()
        if xdp != nil { drops += packetRing.takeDropCount() }
        if drops > 0 { engine.add(.ringDrops, drops) }
        // The replies would reach worker 0 only; the others get its MACs instead.
        guard index == 0 else {
            engine.expireConnections(now: now, budget: sweepBudget)
            return
        }
        for n in engine.neighborsDue(now: now) {
            sendARP(operation: Wire.arpRequest, ethernetDestination: .broadcast,
                    senderIP: engine.directorAddress, targetMAC: .zero, targetIP: engine.neighbors[n].address)
            engine.noteRequestSent(neighbor: n, now: now)
        }
        engine.expireConnections(now: now, budget: sweepBudget)
    }

    /// Gratuitous ARP for every VIP, so that neighbours that already know a VIP (after a
    /// failover, say) point it at this director at once.
    func announceVirtualAddresses() { announce(engine.virtualAddressList) }

    func announce(_ vips: [IPv4Address]) {
        guard index == 0 else { return }
        for vip in vips {
            sendARP(operation: Wire.arpRequest, ethernetDestination: .broadcast,
                    senderIP: vip, targetMAC: .zero, targetIP: vip)
            engine.noteGratuitousARPSent()
        }
    }

    func sendARP(operation: UInt16, ethernetDestination: MACAddress, senderIP: IPv4Address,
                 targetMAC: MACAddress, targetIP: IPv4Address) {
        let vnet = socket.vnetHeaderLength
        arpBuffer.initializeMemory(as: UInt8.self, repeating: 0, count: vnet)
        ARPFrame.write(into: FrameBytes(base: arpBuffer + vnet, count: ARPFrame.paddedLength), operation: operation,
                       ethernetDestination: ethernetDestination, senderMAC: engine.directorMAC, senderIP: senderIP,
                       targetMAC: targetMAC, targetIP: targetIP)
        if send(socket.fd, arpBuffer, vnet + ARPFrame.paddedLength, 0) < 0 {
            engine.add(.transmitErrors)
        }
    }

    /// Hands the control thread a snapshot of the engine and of `ringWait` (nil: the ring
    /// has no receive times, AF_XDP).
    func publish(ringWait: RingWait?) {
        var snapshot = DataPlaneSnapshot(engine: engine)
        snapshot.ringWait = ringWait
        shared.snapshot.withLock { $0 = snapshot }
    }
}

/// The answer to one submitted job, filled in on the worker thread.
public final class PendingResult<T: Sendable>: Sendable {
    let done = DispatchSemaphore(value: 0)
    let result = Mutex<T?>(nil)

    func fulfil(_ value: T) {
        result.withLock { $0 = value }
        done.signal()
    }

    /// The job's result, or nil if the worker did not run it within `timeoutSeconds`.
    public func wait(timeoutSeconds: Int = 10) -> T? {
        guard done.wait(timeout: .now() + .seconds(timeoutSeconds)) == .success else { return nil }
        return result.withLock { $0 }
    }

    /// The same, by an absolute deadline (the pool waits for several with one).
    public func wait(until deadline: DispatchTime) -> T? {
        guard done.wait(timeout: deadline) == .success else { return nil }
        return result.withLock { $0 }
    }
}
