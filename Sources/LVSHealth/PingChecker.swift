import CLinuxNet
import Glibc
import LVSCore

/// `PING_CHECK`: an ICMP echo request is answered within the timeout. It uses an unprivileged
/// ICMP socket (SOCK_DGRAM, IPPROTO_ICMP: the kernel picks the id and filters the replies) where
/// `net.ipv4.ping_group_range` allows it, and otherwise a raw socket (root), connected to the
/// server so that it only sees that server's ICMP, filtered to echo replies.
struct PingChecker: Checker {
    var keyword: String { "PING_CHECK" }

    func start(_ target: CheckTarget, environment: CheckEnvironment,
               completion: @escaping (CheckOutcome) -> Void) -> any CheckAttempt {
        let attempt = PingAttempt(environment: environment, completion: completion)
        attempt.begin(target)
        return attempt
    }

    /// An echo request of 8 header bytes and 16 of payload, with its checksum.
    static func echoRequest(id: UInt16, sequence: UInt16) -> [UInt8] {
        var p: [UInt8] = [8, 0, 0, 0, UInt8(id >> 8), UInt8(id & 0xff), UInt8(sequence >> 8), UInt8(sequence & 0xff)]
        p += Array("swiftlvs health!".utf8)
        let sum = checksum(p)
        p[2] = UInt8(sum >> 8)
        p[3] = UInt8(sum & 0xff)
        return p
    }

    static func checksum(_ bytes: [UInt8]) -> UInt16 {
        var sum: UInt32 = 0
        var i = 0
        while i + 1 < bytes.count {
            sum += UInt32(bytes[i]) << 8 | UInt32(bytes[i + 1])
            i += 2
        }
        if i < bytes.count { sum += UInt32(bytes[i]) << 8 }
        while sum > 0xffff { sum = (sum & 0xffff) + (sum >> 16) }
        return ~UInt16(sum)
    }
}

final class PingAttempt: SocketAttempt {
    var raw = false
    var id: UInt16 = 0
    var sequence: UInt16 = 0

    /// ICMP_FILTER (linux/icmp.h, which clashes with glibc's netinet headers): a raw ICMP
    /// socket option whose value is a mask of the types to drop.
    static let icmpFilter: Int32 = 1
    static let solRaw: Int32 = 255

    func begin(_ target: CheckTarget) {
        raw = environment.pingNeedsRawSocket
        var s = (fd: Int32(-1), errno: Int32(0))
        if !raw {
            s = Posix.socket(AF_INET, Int32(SOCK_DGRAM.rawValue), Int32(IPPROTO_ICMP))
            if s.fd < 0 && (s.errno == EACCES || s.errno == EPERM || s.errno == EPROTONOSUPPORT) {
                environment.pingNeedsRawSocket = true
                raw = true
            }
        }
        if raw { s = Posix.socket(AF_INET, Int32(SOCK_RAW.rawValue), Int32(IPPROTO_ICMP)) }
        guard s.fd >= 0 else { return finishSoon(.failure(.system(call: "socket", errno: s.errno))) }
        guard adopt(s.fd, events: EPOLLIN.rawValue) else { return }
        if raw {
            let dropAllButEchoReply: UInt32 = ~UInt32(1 << 0)
            try? Posix.setOption(fd, Self.solRaw, Self.icmpFilter, dropAllButEchoReply, name: "ICMP_FILTER")
        }
        let b = target.bindIfNeeded(fd)
        guard b == 0 else { return finishSoon(.failure(.system(call: "bind", errno: b))) }
        let c = Posix.connect(fd, Posix.socketAddress(target.address.value, 0))
        guard c == 0 else { return finishSoon(.failure(.socket(errno: c))) }
        id = UInt16.random(in: 1...UInt16.max)
        sequence = UInt16.random(in: 0...UInt16.max)
        let packet = PingChecker.echoRequest(id: id, sequence: sequence)
        let r = packet.withUnsafeBytes { p in Posix.attempt { send(fd, p.baseAddress, p.count, Int32(MSG_NOSIGNAL)) } }
        guard r.result >= 0 else { return finishSoon(.failure(.socket(errno: r.errno))) }
        armDeadline(target.timeout)
    }

    override func ready(_ events: UInt32) {
        let buffer = environment.scratch
        while completion != nil {
            let r = Posix.attempt { recv(fd, buffer.baseAddress, buffer.count, 0) }
            if r.result < 0 {
                if r.errno == EAGAIN { return }
                return finish(.failure(.socket(errno: r.errno)))
            }
            var offset = 0
            if raw {
                guard r.result >= 20 else { continue }
                offset = Int(buffer[0] & 0x0f) * 4
            }
            guard r.result >= offset + 8 else { continue }
            let type = buffer[offset]
            let rid = UInt16(buffer[offset + 4]) << 8 | UInt16(buffer[offset + 5])
            let rseq = UInt16(buffer[offset + 6]) << 8 | UInt16(buffer[offset + 7])
            // A ping socket rewrites the id to its own; it only delivers replies to it.
            guard type == 0, rseq == sequence, !raw || rid == id else { continue }
            return finish(.success(weight: nil))
        }
    }
}
