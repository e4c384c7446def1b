// CLinuxNet too: its header includes <sys/socket.h>, and when clang attributes that header to
// CLinuxNet's module, SOCK_DGRAM and MSG_TRUNC are visible only through it (a release build
// failed with "cannot find 'SOCK_DGRAM' in scope" without this import).
import CLinuxNet
import Glibc
import LVSCore

/// The UDP socket of a sync daemon, master or backup: bound to the sync port on every address,
/// a member of the multicast group on the sync interface (when the group is multicast), and
/// sending on that interface with the group's TTL and without looping its own messages back.
///
/// One socket serves both roles because lvsd's master also listens (for a backup's full-table
/// request) and its backup also sends (that request); a kernel peer sees only what it expects:
/// messages from the master to the group, port 8848 by default.
final class SyncSocket {
    let fd: Int32
    let destination: sockaddr_in
    static let receiveBufferBytes = 8 << 20

    /// - Parameter peer: where messages go: the multicast group, or a peer director's unicast
    ///   address (lvsd's unicast mode).
    init(interface: NetworkInterface, peer: IPv4Address, port: UInt16, ttl: UInt8) throws(SystemError) {
        let subject = "sync socket on \(interface.name)"
        fd = try Linux.call("socket", subject) {
            socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0)
        }
        var destination = sockaddr_in()
        destination.sin_family = sa_family_t(AF_INET)
        destination.sin_port = port.bigEndian
        destination.sin_addr.s_addr = peer.value.bigEndian
        self.destination = destination
        do {
            try Linux.setOption(fd, SOL_SOCKET, SO_REUSEADDR, Int32(1), name: "SO_REUSEADDR")
            // A full-table pull arrives as a burst of datagrams: room for a few thousand of
            // them, past net.core.rmem_max when lvsd runs as root (else what rmem_max allows).
            if (try? Linux.setOption(fd, SOL_SOCKET, SO_RCVBUFFORCE, Int32(Self.receiveBufferBytes), name: "SO_RCVBUFFORCE")) == nil {
                _ = try? Linux.setOption(fd, SOL_SOCKET, SO_RCVBUF, Int32(Self.receiveBufferBytes), name: "SO_RCVBUF")
            }
            var local = sockaddr_in()
            local.sin_family = sa_family_t(AF_INET)
            local.sin_port = port.bigEndian
            try Linux.call("bind", "\(subject), port \(port)") {
                withUnsafePointer(to: &local) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                    }
                }
            }
            var request = ip_mreqn()
            request.imr_ifindex = interface.index
            try Linux.setOption(fd, Int32(IPPROTO_IP), IP_MULTICAST_IF, request, name: "IP_MULTICAST_IF")
            try Linux.setOption(fd, Int32(IPPROTO_IP), IP_MULTICAST_TTL, Int32(ttl), name: "IP_MULTICAST_TTL")
            try Linux.setOption(fd, Int32(IPPROTO_IP), IP_MULTICAST_LOOP, Int32(0), name: "IP_MULTICAST_LOOP")
            if peer.value >> 28 == 0xE {
                request.imr_multiaddr.s_addr = peer.value.bigEndian
                try Linux.setOption(fd, Int32(IPPROTO_IP), IP_ADD_MEMBERSHIP, request, name: "IP_ADD_MEMBERSHIP \(peer)")
            }
        } catch {
            close(fd)
            throw error
        }
    }

    deinit { close(fd) }

    /// Sends `count` bytes to the group (or peer); false when the kernel refused (counted by
    /// the caller: a full socket buffer drops the message, as the kernel's master does).
    func send(_ bytes: UnsafeRawPointer, count: Int) -> Bool {
        send(bytes, count: count, to: destination)
    }

    func send(_ bytes: UnsafeRawPointer, count: Int, to address: sockaddr_in) -> Bool {
        var to = address
        let r = withUnsafePointer(to: &to) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                sendto(fd, bytes, count, Int32(MSG_NOSIGNAL), $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        return r == count
    }

    /// Receives one datagram into `buffer`; nil when none waits. `from` is its sender.
    func receive(_ buffer: UnsafeMutableRawPointer, capacity: Int) -> (count: Int, from: sockaddr_in)? {
        var from = sockaddr_in()
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let r = withUnsafeMutablePointer(to: &from) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                recvfrom(fd, buffer, capacity, Int32(MSG_TRUNC), $0, &length)
            }
        }
        guard r >= 0 else { return nil }
        return (r, from)
    }

    /// Waits up to `millis` for a datagram.
    func wait(millis: Int32) {
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        _ = poll(&p, 1, millis)
    }
}
