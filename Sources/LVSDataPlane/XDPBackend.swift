import CLinuxNet
import Glibc
import LVSCore

/// The data path a director forwards with (`lvsd --backend`).
public enum DataPlaneBackend: String, Sendable, CaseIterable {
    case afPacket = "af_packet"
    case afXDP = "af_xdp"
}

/// Everything the AF_XDP backend sets up on one interface: the XDP program with its maps, one
/// AF_XDP socket per worker (worker i on receive queue i), and the program's attachment.
public struct XDPBackend {
    public let program: XDPRedirect
    public let sockets: [XDPSocket]

    /// Sets it all up, in an order that never has the program attached without the sockets it
    /// redirects to: maps and program, sockets bound and registered, VIPs in the map, attach.
    /// Any failure undoes what was done (the fds close) and names the step and errno.
    public static func setUp(interface: NetworkInterface, workers: Int, mode: XDPMode,
                             virtualAddresses: [IPv4Address], virtualNetworks: [IPv4Network],
                             batchSize: Int) throws(XDPSetupError) -> XDPBackend {
        let queues = Int(clinuxnet_rx_queue_count(interface.name))
        guard workers <= queues else {
            throw XDPSetupError(step: "\(workers) workers but \(queues) receive queue\(queues == 1 ? "" : "s") (one AF_XDP socket per queue; use --workers \(queues) or fewer)",
                                errno: EINVAL)
        }
        let program = try XDPRedirect(socketSlots: queues,
                                      localAddresses: interface.address == .any ? [] : [interface.address])
        var sockets: [XDPSocket] = []
        for queue in 0..<workers {
            let socket = try XDPSocket(interface: interface, queue: queue, batchSize: batchSize)
            try program.register(socket: socket.fd, queue: queue)
            sockets.append(socket)
        }
        try program.setVirtualAddresses(virtualAddresses, networks: virtualNetworks)
        try program.attach(to: interface, mode: mode)
        return XDPBackend(program: program, sockets: sockets)
    }
}
