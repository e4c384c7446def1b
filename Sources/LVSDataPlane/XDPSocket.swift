import CLinuxNet
import Glibc
import LVSCore

/// One AF_XDP socket on one receive queue, with its own UMEM, forwarding in place: the frame
/// the RX ring hands over is rewritten by the engine and its UMEM address goes straight onto the
/// TX ring; completed transmissions, and frames not sent, go back onto the fill ring. Nothing is
/// copied in userspace and nothing is allocated after set-up.
///
/// Frames circulate fill → RX → (TX → completion →) fill. The fill and completion rings have a
/// slot for every UMEM frame, so putting a frame back never finds them full.
public final class XDPSocket: FrameRing {
    /// One of the four rings: the kernel's producer/consumer indexes and flags, our cached
    /// copies, and the descriptor array (16-byte xdp_desc for RX/TX, u64 addresses for
    /// fill/completion).
    struct Ring {
        var producer: UnsafeMutablePointer<UInt32>
        var consumer: UnsafeMutablePointer<UInt32>
        var flags: UnsafeMutablePointer<UInt32>
        var descriptors: UnsafeMutableRawPointer
        var mask: UInt32
        var size: UInt32
        var map: UnsafeMutableRawPointer
        var mapLength: Int
    }

    let fd: Int32
    let queue: Int
    let umem: UnsafeMutableRawPointer
    let umemLength: Int
    let frameSize: Int
    let frameCount: Int
    var rx: Ring
    var tx: Ring
    var fill: Ring
    var completion: Ring
    /// Whether the kernel took the socket in zero-copy mode (the driver supports it).
    let zeroCopy: Bool
    /// UMEM addresses of the frames of the last `receive`, and which of them went on the TX ring.
    let batchAddresses: UnsafeMutablePointer<UInt64>
    let transmitted: UnsafeMutablePointer<Bool>
    let batchCapacity: Int
    var txProducer: UInt32 = 0
    var fillProducer: UInt32 = 0
    /// Frames that found the TX ring full (counted as transmit errors by the worker).
    var txFull = 0
    /// XDP_STATISTICS as last read (the kernel's counters only grow).
    var lastStatistics = xdp_statistics()
    private(set) var stoppedAtOversize = false

    /// Creates the socket, registers a UMEM of `frameCount` × `frameSize` bytes, maps the four
    /// rings and binds to `queue` of `interface` (zero-copy first, then copy mode).
    public init(interface: NetworkInterface, queue: Int, frameCount: Int = 4096, frameSize: Int = 2048,
         batchSize: Int) throws(XDPSetupError) {
        let fd = socket(AF_XDP, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw XDPSetupError(step: "create the AF_XDP socket", errno: errno) }
        var cleanup: [() -> Void] = [{ close(fd) }]
        var ok = false
        defer { if !ok { for c in cleanup.reversed() { c() } } }

        let length = frameCount * frameSize
        guard let area = mmap(nil, length, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0),
              area != MAP_FAILED
        else { throw XDPSetupError(step: "allocate the UMEM of \(length) bytes", errno: errno) }
        cleanup.append { munmap(area, length) }
        var registration = xdp_umem_reg()
        registration.addr = UInt64(UInt(bitPattern: area))
        registration.len = UInt64(length)
        registration.chunk_size = UInt32(frameSize)
        registration.headroom = 0
        try Self.setOption(fd, XDP_UMEM_REG, &registration, "register the UMEM")
        var ringSize = UInt32(frameCount)
        try Self.setOption(fd, XDP_UMEM_FILL_RING, &ringSize, "size the fill ring")
        try Self.setOption(fd, XDP_UMEM_COMPLETION_RING, &ringSize, "size the completion ring")
        var halfSize = UInt32(frameCount / 2)
        try Self.setOption(fd, XDP_RX_RING, &halfSize, "size the RX ring")
        try Self.setOption(fd, XDP_TX_RING, &halfSize, "size the TX ring")

        var offsets = xdp_mmap_offsets()
        var offsetsLength = socklen_t(MemoryLayout<xdp_mmap_offsets>.size)
        guard getsockopt(fd, SOL_XDP, XDP_MMAP_OFFSETS, &offsets, &offsetsLength) == 0 else {
            throw XDPSetupError(step: "read the ring offsets", errno: errno)
        }
        func mapRing(_ o: xdp_ring_offset, size: UInt32, descriptor: Int, offset: Int, _ name: String) throws(XDPSetupError) -> Ring {
            let mapLength = Int(o.desc) + Int(size) * descriptor
            guard let m = mmap(nil, mapLength, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, offset),
                  m != MAP_FAILED
            else { throw XDPSetupError(step: "map the \(name) ring", errno: errno) }
            cleanup.append { munmap(m, mapLength) }
            return Ring(producer: (m + Int(o.producer)).assumingMemoryBound(to: UInt32.self),
                        consumer: (m + Int(o.consumer)).assumingMemoryBound(to: UInt32.self),
                        flags: (m + Int(o.flags)).assumingMemoryBound(to: UInt32.self),
                        descriptors: m + Int(o.desc), mask: size - 1, size: size, map: m, mapLength: mapLength)
        }
        let descriptorSize = MemoryLayout<xdp_desc>.size
        rx = try mapRing(offsets.rx, size: halfSize, descriptor: descriptorSize, offset: Int(XDP_PGOFF_RX_RING), "RX")
        tx = try mapRing(offsets.tx, size: halfSize, descriptor: descriptorSize, offset: Int(XDP_PGOFF_TX_RING), "TX")
        fill = try mapRing(offsets.fr, size: ringSize, descriptor: 8, offset: Int(XDP_UMEM_PGOFF_FILL_RING), "fill")
        completion = try mapRing(offsets.cr, size: ringSize, descriptor: 8,
                                 offset: Int(XDP_UMEM_PGOFF_COMPLETION_RING), "completion")

        // Every frame starts on the fill ring.
        let fillSlots = fill.descriptors.assumingMemoryBound(to: UInt64.self)
        for i in 0..<frameCount { fillSlots[i] = UInt64(i * frameSize) }
        fillProducer = UInt32(frameCount)
        clinuxnet_store_release_u32(fill.producer, fillProducer)

        var address = sockaddr_xdp()
        address.sxdp_family = UInt16(AF_XDP)
        address.sxdp_ifindex = UInt32(interface.index)
        address.sxdp_queue_id = UInt32(queue)
        var tookZeroCopy = false
        var lastError: Int32 = 0
        for copyFlag in [XDP_ZEROCOPY, XDP_COPY] {
            address.sxdp_flags = UInt16(XDP_USE_NEED_WAKEUP | copyFlag)
            let r = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(fd, $0, socklen_t(MemoryLayout<sockaddr_xdp>.size))
                }
            }
            if r == 0 {
                tookZeroCopy = copyFlag == XDP_ZEROCOPY
                lastError = 0
                break
            }
            lastError = errno
        }
        guard lastError == 0 else { throw XDPSetupError(step: "bind to queue \(queue) in copy mode", errno: lastError) }

        self.fd = fd
        self.queue = queue
        umem = area
        umemLength = length
        self.frameSize = frameSize
        self.frameCount = frameCount
        zeroCopy = tookZeroCopy
        batchCapacity = batchSize
        batchAddresses = .allocate(capacity: batchSize)
        transmitted = .allocate(capacity: batchSize)
        transmitted.initialize(repeating: false, count: batchSize)
        ok = true
    }

    deinit {
        for ring in [rx, tx, fill, completion] { munmap(ring.map, ring.mapLength) }
        close(fd)
        munmap(umem, umemLength)
        batchAddresses.deallocate()
        transmitted.deallocate()
    }

    static func setOption<T: BitwiseCopyable>(_ fd: Int32, _ option: Int32, _ value: inout T, _ step: String) throws(XDPSetupError) {
        guard setsockopt(fd, SOL_XDP, option, &value, socklen_t(MemoryLayout<T>.size)) == 0 else {
            throw XDPSetupError(step: step, errno: errno)
        }
    }

    var pollDescriptor: Int32 { fd }

    @inline(__always)
    func receive(into frames: UnsafeMutablePointer<FrameBytes>, capacity: Int) -> Int {
        recycleCompletions()
        let consumer = rx.consumer.pointee
        let available = clinuxnet_load_acquire_u32(rx.producer) &- consumer
        let n = min(Int(available), capacity, batchCapacity)
        guard n > 0 else { return 0 }
        let descriptors = rx.descriptors.assumingMemoryBound(to: xdp_desc.self)
        var i = 0
        while i < n {
            let d = descriptors[Int((consumer &+ UInt32(i)) & rx.mask)]
            batchAddresses[i] = d.addr
            transmitted[i] = false
            frames[i] = FrameBytes(base: umem + Int(d.addr), count: Int(d.len))
            // No vnet header here to say a veth sender left the checksum to offload.
            _ = PartialChecksum.completeIfPartial(frames[i])
            i += 1
        }
        // The descriptors are copied; the frames stay ours until they go on the TX or fill ring.
        clinuxnet_store_release_u32(rx.consumer, consumer &+ UInt32(n))
        return n
    }

    func skipOversize() {}

    @inline(__always)
    func queueTransmit(_ frame: FrameBytes, index: Int) {
        // The TX ring has half as many slots as there are frames, and frames leave it as the
        // kernel sends them; a full ring means the link cannot keep up: drop.
        if txProducer &- clinuxnet_load_acquire_u32(tx.consumer) >= tx.size {
            txFull += 1
            return
        }
        let descriptors = tx.descriptors.assumingMemoryBound(to: xdp_desc.self)
        descriptors[Int(txProducer & tx.mask)] = xdp_desc(addr: UInt64(umem.distance(to: frame.base)),
                                                          len: UInt32(frame.count), options: 0)
        txProducer &+= 1
        transmitted[index] = true
    }

    @inline(__always)
    func flush() -> Int {
        let failed = txFull
        txFull = 0
        if tx.producer.pointee != txProducer { clinuxnet_store_release_u32(tx.producer, txProducer) }
        // Copy mode sends in sendto(), at most a few dozen descriptors per call: kick until the
        // kernel has taken all (bounded), or once if it asked for a wake-up (zero-copy).
        var kicks = 0
        while kicks < 16 && clinuxnet_load_acquire_u32(tx.consumer) != txProducer {
            if !zeroCopy || clinuxnet_load_acquire_u32(tx.flags) & UInt32(XDP_RING_NEED_WAKEUP) != 0 {
                if sendto(fd, nil, 0, Int32(MSG_DONTWAIT), nil, 0) < 0 && errno != EAGAIN && errno != EBUSY
                    && errno != ENOBUFS { break }
            } else {
                break
            }
            kicks += 1
        }
        recycleCompletions()
        return failed
    }

    /// Frames of the last batch that were not sent go back onto the fill ring.
    @inline(__always)
    func release(_ count: Int) {
        let slots = fill.descriptors.assumingMemoryBound(to: UInt64.self)
        var i = 0
        while i < count {
            if !transmitted[i] {
                slots[Int(fillProducer & fill.mask)] = batchAddresses[i]
                fillProducer &+= 1
            }
            i += 1
        }
        clinuxnet_store_release_u32(fill.producer, fillProducer)
    }

    /// Sent frames (the completion ring) go back onto the fill ring.
    @inline(__always)
    func recycleCompletions() {
        let consumer = completion.consumer.pointee
        let done = clinuxnet_load_acquire_u32(completion.producer) &- consumer
        guard done > 0 else { return }
        let from = completion.descriptors.assumingMemoryBound(to: UInt64.self)
        let to = fill.descriptors.assumingMemoryBound(to: UInt64.self)
        var i: UInt32 = 0
        while i < done {
            to[Int(fillProducer & fill.mask)] = from[Int((consumer &+ i) & completion.mask)]
            fillProducer &+= 1
            i += 1
        }
        clinuxnet_store_release_u32(completion.consumer, consumer &+ done)
        clinuxnet_store_release_u32(fill.producer, fillProducer)
    }

    /// An RX descriptor is a UMEM address and a length: no receive time. (XDP metadata could
    /// carry one from a driver with the rx-timestamp kfunc, but veth and generic mode have none.)
    /// The stats file shows the ring wait as null for this backend.
    static var stampsFrames: Bool { false }

    func receiveTime(ofFrame index: Int) -> (seconds: UInt64, nanoseconds: UInt64) { (0, 0) }

    /// Frames the kernel dropped for this socket since the last call (RX ring full, no fill
    /// frame, invalid descriptors), from XDP_STATISTICS.
    func takeDropCount() -> UInt64 {
        var s = xdp_statistics()
        var length = socklen_t(MemoryLayout<xdp_statistics>.size)
        guard getsockopt(fd, SOL_XDP, XDP_STATISTICS, &s, &length) == 0 else { return 0 }
        let total = s.rx_dropped &+ s.rx_ring_full &+ s.rx_invalid_descs &+ s.tx_invalid_descs
        let before = lastStatistics.rx_dropped &+ lastStatistics.rx_ring_full &+ lastStatistics.rx_invalid_descs
            &+ lastStatistics.tx_invalid_descs
        lastStatistics = s
        return total &- before
    }
}
