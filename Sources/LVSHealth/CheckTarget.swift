import Glibc
import LVSCore

/// Where one checker probes, and the time it has: a checker block resolved against its real
/// server (`connect_ip`/`connect_port` default to the server's address and port).
struct CheckTarget: Equatable {
    var address: IPv4Address
    var port: UInt16
    var bindAddress: IPv4Address?
    var bindPort: UInt16?
    /// `connect_timeout` (or `misc_timeout` for MISC_CHECK): the whole attempt's budget.
    var timeout: Double
    /// `probe_via_vip`: the handshake goes to this VIP:port through the DR path first.
    var viaVIP: VIPTarget? = nil
    /// The real server whose MAC the VIP probe is sent to.
    var viaVIPServer: IPv4Address? = nil

    var socketAddress: sockaddr_in { Posix.socketAddress(address.value, port) }

    /// Binds `fd` to `bindto`/`bind_port` if the checker has them; errno or 0.
    func bindIfNeeded(_ fd: Int32) -> Int32 {
        guard bindAddress != nil || bindPort != nil else { return 0 }
        return Posix.bind(fd, Posix.socketAddress(bindAddress?.value ?? 0, bindPort ?? 0))
    }
}
