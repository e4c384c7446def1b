import CLinuxNet
import Glibc
import LVSCore

/// Sending frames on the prober's packet sockets, with a queue for when the interface's own
/// queue is full.
extension VIPProber {
    /// A frame that could not leave yet: the interface's queue was full (ENOBUFS, EAGAIN).
    final class PendingFrame {
        let packet: [UInt8]
        let mac: MACAddress
        var failed: ((Int32) -> Void)?
        init(packet: [UInt8], mac: MACAddress, failed: @escaping (Int32) -> Void) {
            self.packet = packet
            self.mac = mac
            self.failed = failed
        }
        /// The attempt ended: drop the frame if it is still waiting.
        func cancel() { failed = nil }
    }

    /// Sends `packet` to `mac`, or queues it when the interface's queue is full (a burst of
    /// thousands of due checks can fill a veth's backlog): the queue is retried every 2 ms in
    /// order. Other errors go to `failed` (on the loop's next turn). Returns the frame if it
    /// waits, for cancelling.
    func send(_ packet: [UInt8], to mac: MACAddress, failed: @escaping (Int32) -> Void) -> PendingFrame? {
        if pendingHead == pending.count {
            let e = transmit(packet, to: mac)
            if e == 0 { return nil }
            if e != ENOBUFS && e != EAGAIN {
                loop.runSoon { failed(e) }
                return nil
            }
        }
        let frame = PendingFrame(packet: packet, mac: mac, failed: failed)
        pending.append(frame)
        armFlush()
        return frame
    }

    func armFlush() {
        guard flushTimer == nil else { return }
        flushTimer = loop.schedule(at: Posix.monotonicSeconds() + 0.002) { [unowned self] in
            flushTimer = nil
            flushPending()
        }
    }

    func flushPending() {
        while pendingHead < pending.count {
            let frame = pending[pendingHead]
            if let failed = frame.failed {
                let e = transmit(frame.packet, to: frame.mac)
                if e == ENOBUFS || e == EAGAIN { return armFlush() }
                frame.failed = nil
                if e != 0 { failed(e) }
            }
            pendingHead += 1
        }
        pending.removeAll(keepingCapacity: true)
        pendingHead = 0
    }

    func transmit(_ packet: [UInt8], to mac: MACAddress, etherType: UInt16 = UInt16(ETH_P_IP)) -> Int32 {
        var address = sockaddr_ll()
        address.sll_family = UInt16(AF_PACKET)
        address.sll_protocol = etherType.bigEndian
        address.sll_ifindex = path.interfaceIndex
        address.sll_halen = 6
        withUnsafeMutableBytes(of: &address.sll_addr) { b in
            for i in 0..<6 { b[i] = UInt8((mac.value >> UInt64(40 - 8 * i)) & 0xff) }
        }
        let fd = etherType == UInt16(ETH_P_IP) ? ipSocket : arpSocket
        let r = packet.withUnsafeBytes { p in
            withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { a in
                    Posix.attempt { sendto(fd, p.baseAddress, p.count, 0, a, socklen_t(MemoryLayout<sockaddr_ll>.size)) }
                }
            }
        }
        return r.result < 0 ? r.errno : 0
    }
}
