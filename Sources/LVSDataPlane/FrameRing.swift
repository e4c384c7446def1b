import CLinuxNet
import Glibc
import LVSCore

/// What the worker's loop needs from a receive/transmit path: a batch of frames to hand to the
/// engine, a place to queue the rewritten ones, one flush, and the frames handed back. The
/// AF_PACKET ring (`AFPacketRing`) and the AF_XDP socket (`XDPSocket`) implement it; the worker's
/// loop is generic over it, so each is a specialised loop with direct calls (no existential
/// dispatch per packet).
protocol FrameRing: AnyObject {
    /// The descriptor poll() waits on when the ring is empty.
    var pollDescriptor: Int32 { get }
    /// Fills `frames` with up to `capacity` received frames and returns how many. They stay
    /// valid until `release`.
    func receive(into frames: UnsafeMutablePointer<FrameBytes>, capacity: Int) -> Int
    /// True after a `receive` that stopped in front of a frame too large for a ring slot (the
    /// AF_PACKET ring's TP_STATUS_COPY); the worker reads it whole, then calls `skipOversize`.
    var stoppedAtOversize: Bool { get }
    func skipOversize()
    /// Queues frame `index` of the last `receive` (rewritten in place) for transmission.
    func queueTransmit(_ frame: FrameBytes, index: Int)
    /// Sends what is queued; returns how many frames could not be sent.
    func flush() -> Int
    /// Hands the `count` frames of the last `receive` back to the kernel (after `flush`).
    func release(_ count: Int)
    /// Frames the kernel dropped for want of room since the last call.
    func takeDropCount() -> UInt64
    /// Whether the kernel stamps each received frame with its receive time (`receiveTime`):
    /// the AF_PACKET ring does; AF_XDP descriptors carry no time.
    static var stampsFrames: Bool { get }
    /// The kernel's receive time (CLOCK_REALTIME) of frame `index` of the last `receive`,
    /// valid until `release`; (0, 0) where `stampsFrames` is false.
    func receiveTime(ofFrame index: Int) -> (seconds: UInt64, nanoseconds: UInt64)
}

/// The AF_PACKET path: a `PacketSocket`'s TPACKET_V2 ring, read slot by slot, and sendmmsg.
final class AFPacketRing: FrameRing {
    let socket: PacketSocket
    let batch: TransmitBatch
    let frameCount: Int
    let vnet: Int
    // @exclusivity(unchecked): these two are read and written on every loop turn, empty ones
    // included (--busy-poll spins through millions a second). Only the worker thread touches
    // them, and never while another access to them is open (no inout, no closure captures
    // them), so Swift's dynamic exclusivity check cannot find a conflict here; it only costs a
    // swift_beginAccess call, a thread-local access set and an insert per access, which showed
    // as ~8 % of a busy-polling worker's samples (BENCHMARKS.md).
    /// The slot of the next frame to read.
    @exclusivity(unchecked) var head = 0
    @exclusivity(unchecked) private(set) var stoppedAtOversize = false

    init(socket: PacketSocket, batchSize: Int) {
        self.socket = socket
        batch = TransmitBatch(capacity: batchSize)
        frameCount = socket.frameCount
        vnet = socket.vnetHeaderLength
    }

    var pollDescriptor: Int32 { socket.fd }

    @inline(__always)
    func receive(into frames: UnsafeMutablePointer<FrameBytes>, capacity: Int) -> Int {
        var pending = 0
        stoppedAtOversize = false
        while pending < capacity {
            let slot = socket.slot((head + pending) % frameCount)
            let status = clinuxnet_tpacket2_status_acquire(slot)
            if status & UInt32(TP_STATUS_USER) == 0 { break }
            if status & UInt32(TP_STATUS_COPY) != 0 {
                stoppedAtOversize = true
                break
            }
            let header = slot.assumingMemoryBound(to: tpacket2_hdr.self)
            frames[pending] = FrameBytes(base: slot + Int(header.pointee.tp_mac), count: Int(header.pointee.tp_snaplen))
            pending += 1
        }
        return pending
    }

    /// Hands back the truncated slot of an oversize frame (read whole from the socket queue).
    func skipOversize() {
        clinuxnet_tpacket2_release(socket.slot(head))
        head = (head + 1) % frameCount
        stoppedAtOversize = false
    }

    @inline(__always)
    func queueTransmit(_ frame: FrameBytes, index: Int) {
        batch.append(frame.base - vnet, length: frame.count + vnet)
    }

    @inline(__always)
    func flush() -> Int {
        batch.count > 0 ? batch.flush(fd: socket.fd) : 0
    }

    @inline(__always)
    func release(_ count: Int) {
        var i = 0
        while i < count {
            clinuxnet_tpacket2_release(socket.slot((head + i) % frameCount))
            i += 1
        }
        head = (head + count) % frameCount
    }

    func takeDropCount() -> UInt64 { socket.takeDropCount() }

    /// TPACKET_V2 always fills tp_sec/tp_nsec, no socket option needed: tpacket_rcv takes the
    /// skb's software receive stamp if the stack took one (TP_STATUS_TS_SOFTWARE), else reads
    /// CLOCK_REALTIME itself as it copies the frame into the slot. Either is the wall clock.
    static var stampsFrames: Bool { true }

    @inline(__always)
    func receiveTime(ofFrame index: Int) -> (seconds: UInt64, nanoseconds: UInt64) {
        let header = socket.slot((head + index) % frameCount).assumingMemoryBound(to: tpacket2_hdr.self)
        return (UInt64(header.pointee.tp_sec), UInt64(header.pointee.tp_nsec))
    }
}
