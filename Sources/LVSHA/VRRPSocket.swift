import CLinuxNet
import Glibc
import LVSCore
import LVSDataPlane

/// The raw IPv4 socket of protocol 112 one VRRP instance speaks through: bound to its
/// interface, member of 224.0.0.18 there, TTL 255 on everything it sends (multicast and
/// unicast), its own multicast not looped back. The kernel builds the IPv4 header; received
/// datagrams come with theirs, so the TTL check reads it.
final class VRRPSocket {
    let fd: Int32
    let interface: NetworkInterface
    /// The address adverts leave from (and the checksum's pseudo-header source).
    let source: IPv4Address

    init(interface: NetworkInterface, unicastSource: IPv4Address?) throws(SystemError) {
        self.interface = interface
        source = unicastSource ?? interface.address
        fd = try Linux.call("socket", "AF_INET raw, protocol 112") {
            socket(AF_INET, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue),
                   Int32(VRRPAdvertisement.ipProtocol))
        }
        do {
            var name = Array(interface.name.utf8)
            try Linux.call("setsockopt SO_BINDTODEVICE", interface.name) {
                setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, &name, socklen_t(name.count))
            }
            var ttl: Int32 = 255
            try Linux.call("setsockopt IP_MULTICAST_TTL", interface.name) {
                setsockopt(fd, Int32(IPPROTO_IP), IP_MULTICAST_TTL, &ttl, socklen_t(MemoryLayout<Int32>.size))
            }
            try Linux.call("setsockopt IP_TTL", interface.name) {
                setsockopt(fd, Int32(IPPROTO_IP), IP_TTL, &ttl, socklen_t(MemoryLayout<Int32>.size))
            }
            var off: Int32 = 0
            try Linux.call("setsockopt IP_MULTICAST_LOOP", interface.name) {
                setsockopt(fd, Int32(IPPROTO_IP), IP_MULTICAST_LOOP, &off, socklen_t(MemoryLayout<Int32>.size))
            }
            var request = ip_mreqn()
            request.imr_multiaddr.s_addr = VRRPInstanceConfiguration.multicastGroup.value.bigEndian
            request.imr_ifindex = interface.index
            try Linux.call("setsockopt IP_MULTICAST_IF", interface.name) {
                setsockopt(fd, Int32(IPPROTO_IP), IP_MULTICAST_IF, &request, socklen_t(MemoryLayout<ip_mreqn>.size))
            }
            try Linux.call("setsockopt IP_ADD_MEMBERSHIP 224.0.0.18", interface.name) {
                setsockopt(fd, Int32(IPPROTO_IP), IP_ADD_MEMBERSHIP, &request, socklen_t(MemoryLayout<ip_mreqn>.size))
            }
            if let unicastSource {
                var local = sockaddr_in()
                local.sin_family = sa_family_t(AF_INET)
                local.sin_addr.s_addr = unicastSource.value.bigEndian
                try Linux.call("bind", "unicast_src_ip \(unicastSource)") {
                    withUnsafePointer(to: &local) {
                        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                            bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                        }
                    }
                }
            }
        } catch {
            close(fd)
            throw error
        }
    }

    deinit { close(fd) }

    /// Sends `advertisement` to `destination`; false if the kernel refused it.
    func send(_ advertisement: VRRPMessage, to destination: IPv4Address) -> Bool {
        let bytes = advertisement.encode(source: source, destination: destination)
        var peer = sockaddr_in()
        peer.sin_family = sa_family_t(AF_INET)
        peer.sin_addr.s_addr = destination.value.bigEndian
        let sent = bytes.withUnsafeBytes { raw in
            withUnsafePointer(to: &peer) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(fd, raw.baseAddress, raw.count, 0, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        }
        return sent == bytes.count
    }

    /// The next datagram waiting (IPv4 header included), or nil when none is.
    func receive() -> [UInt8]? {
        var buffer = [UInt8](repeating: 0, count: 2048)
        let n = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
        guard n > 0 else { return nil }
        return Array(buffer[0..<n])
    }

    /// Whether interface `name` is up with a carrier (its operstate is up, or unknown for
    /// devices that do not report one); a missing interface is down.
    static func linkIsUp(_ name: String) -> Bool {
        guard let f = fopen("/sys/class/net/\(name)/operstate", "r") else { return false }
        defer { fclose(f) }
        var buffer = [CChar](repeating: 0, count: 32)
        guard fgets(&buffer, 32, f) != nil else { return false }
        let state = String(decoding: buffer.prefix { $0 != 0 && $0 != 10 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return state == "up" || state == "unknown"
    }
}
