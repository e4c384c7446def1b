import CLinuxNet
import Glibc

/// systemd's readiness protocol (`Type=notify`): one datagram to $NOTIFY_SOCKET. Written out
/// rather than linked from libsystemd, since it is ten lines and the daemon has no other use
/// for the library.
enum SystemdNotifier {
    static func notify(_ state: String) {
        guard let pointer = getenv("NOTIFY_SOCKET") else { return }
        var path = Array(String(cString: pointer).utf8)
        guard !path.isEmpty else { return }
        // A leading '@' names a socket in the abstract namespace: a NUL byte on the wire.
        if path[0] == UInt8(ascii: "@") { path[0] = 0 }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        guard path.count < MemoryLayout.size(ofValue: address.sun_path) else { return }
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: path) }
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return }
        defer { close(fd) }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + path.count)
        var message = Array(state.utf8)
        _ = withUnsafePointer(to: &address) { a in
            a.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa in
                message.withUnsafeMutableBytes { sendto(fd, $0.baseAddress, $0.count, 0, sa, length) }
            }
        }
    }
}
