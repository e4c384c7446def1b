import CLinuxNet
import Glibc

/// Frames queued for one `sendmmsg` call. The iovecs point at frames where they lie (ring
/// slots, the oversize buffer): nothing is copied in userspace, and the arrays are allocated
/// once, at start.
final class TransmitBatch {
    let capacity: Int
    let messages: UnsafeMutablePointer<clinuxnet_mmsghdr>
    let vectors: UnsafeMutablePointer<iovec>
    private(set) var count = 0

    init(capacity: Int) {
        self.capacity = capacity
        messages = .allocate(capacity: capacity)
        messages.initialize(repeating: clinuxnet_mmsghdr(), count: capacity)
        vectors = .allocate(capacity: capacity)
        vectors.initialize(repeating: iovec(), count: capacity)
    }

    deinit {
        messages.deallocate()
        vectors.deallocate()
    }

    var isFull: Bool { count == capacity }

    /// Queues `length` bytes at `start` (virtio-net header first, then the frame).
    @inline(__always)
    func append(_ start: UnsafeMutableRawPointer, length: Int) {
        vectors[count] = iovec(iov_base: start, iov_len: length)
        messages[count].msg_hdr = msghdr()
        messages[count].msg_hdr.msg_iov = vectors + count
        messages[count].msg_hdr.msg_iovlen = 1
        count += 1
    }

    /// Sends everything queued; returns how many frames the kernel refused. A refused frame is
    /// skipped (and counted by the caller): a forwarder must not stall on one bad frame.
    func flush(fd: Int32) -> Int {
        var sent = 0
        var failed = 0
        while sent + failed < count {
            let r = clinuxnet_sendmmsg(fd, messages + sent + failed, UInt32(count - sent - failed), 0)
            if r > 0 {
                sent += Int(r)
            } else if r < 0 && errno == EINTR {
                continue
            } else {
                failed += 1
            }
        }
        count = 0
        return failed
    }
}
