import CLinuxNet
import Glibc
import LVSCore

/// Ring and socket sizes, chosen at start; nothing is allocated after setup.
public struct RingOptions: Sendable {
    /// Frames in the receive ring. Each holds one MTU-sized frame.
    public var frameCount: Int = 16384
    /// Frames handled per loop turn, and so the most frames one sendmmsg call sends.
    public var batchSize: Int = 64
    public init() {}
}

/// One AF_PACKET socket bound to the director's interface, with a TPACKET_V2 receive ring and
/// a sendmmsg transmit path.
///
/// Why these choices (docs/DATAPLANE.md has the measurements behind them):
/// - TPACKET_V2, not V3: V2 hands over each frame as soon as it lands; V3 hands over whole
///   blocks, full or after a ≥1 ms timer, which capped request/response rates at 0.58× the
///   in-kernel peer in the test bed.
/// - PACKET_VNET_HDR: every frame comes with its virtio-net header, which says whether the L4
///   checksum is still partial (a sender's checksum offload, TP_STATUS_CSUMNOTREADY) and whether
///   the frame is a GSO super-frame. Sending the same header back lets the kernel (or the NIC)
///   finish the checksum and segment the frame, so offloads can stay on everywhere.
/// - PACKET_COPY_THRESH: a GSO frame larger than a ring slot arrives truncated in the ring with
///   TP_STATUS_COPY, and whole in the socket's queue, where `receiveOversize` reads it.
/// - PACKET_IGNORE_OUTGOING: our own transmissions are not handed back to us.
/// - PACKET_QDISC_BYPASS: frames go straight to the driver, as a forwarder's should.
/// - A classic BPF filter passes only ARP and IPv4 to the VIPs, so the director's other
///   traffic never crosses into userspace.
public final class PacketSocket {
    public let fd: Int32
    public let interface: NetworkInterface
    let ring: UnsafeMutableRawPointer
    let ringLength: Int
    public let frameSize: Int
    public let frameCount: Int
    /// Bytes of virtio-net header in front of every frame we read and write.
    public let vnetHeaderLength: Int

    public init(interface: NetworkInterface, virtualAddresses: [IPv4Address], virtualNetworks: [IPv4Network] = [],
                options: RingOptions) throws(SystemError) {
        self.interface = interface
        vnetHeaderLength = clinuxnet_vnet_hdr_len
        // Protocol 0 at socket() and ETH_P_ALL only at bind(), so no frame of another interface
        // is queued in between.
        let fd = try Linux.call("socket", "AF_PACKET") {
            socket(AF_PACKET, Int32(SOCK_RAW.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        }
        var ok = false
        defer { if !ok { close(fd) } }
        try Linux.setOption(fd, SOL_PACKET, PACKET_VERSION, Int32(TPACKET_V2.rawValue), name: "PACKET_VERSION V2")
        try Linux.setOption(fd, SOL_PACKET, PACKET_VNET_HDR, Int32(1), name: "PACKET_VNET_HDR")
        try Linux.setOption(fd, SOL_PACKET, PACKET_COPY_THRESH, Int32(1), name: "PACKET_COPY_THRESH")
        try Linux.setOption(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, Int32(1), name: "PACKET_IGNORE_OUTGOING")
        try Linux.setOption(fd, SOL_PACKET, PACKET_QDISC_BYPASS, Int32(1), name: "PACKET_QDISC_BYPASS")
        // Room in the socket queue for a few oversize (GSO) frames at once.
        try Linux.setOption(fd, SOL_SOCKET, SO_RCVBUF, Int32(8 << 20), name: "SO_RCVBUF")
        try Self.attachFilter(fd, virtualAddresses: virtualAddresses, virtualNetworks: virtualNetworks)

        // A slot holds the V2 header, the sockaddr_ll, the vnet header and one MTU frame plus a
        // VLAN tag; slots are a power of two so they tile pages and blocks exactly.
        var frameSize = 2048
        while frameSize < interface.mtu + 14 + 4 + 160 { frameSize <<= 1 }
        let blockSize = max(frameSize, 1 << 16)
        let framesPerBlock = blockSize / frameSize
        let blocks = max(1, (options.frameCount + framesPerBlock - 1) / framesPerBlock)
        var req = tpacket_req(tp_block_size: UInt32(blockSize), tp_block_nr: UInt32(blocks),
                              tp_frame_size: UInt32(frameSize), tp_frame_nr: UInt32(blocks * framesPerBlock))
        try Linux.call("setsockopt", "PACKET_RX_RING") {
            setsockopt(fd, SOL_PACKET, PACKET_RX_RING, &req, socklen_t(MemoryLayout<tpacket_req>.size))
        }
        let length = blockSize * blocks
        guard let mapped = mmap(nil, length, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_LOCKED | MAP_POPULATE, fd, 0),
              mapped != MAP_FAILED
        else {
            throw SystemError(call: "mmap", subject: "receive ring of \(length) bytes", errno: errno)
        }
        ring = mapped
        ringLength = length
        self.frameSize = frameSize
        frameCount = blocks * framesPerBlock

        var address = sockaddr_ll()
        address.sll_family = UInt16(AF_PACKET)
        address.sll_protocol = UInt16(ETH_P_ALL).bigEndian
        address.sll_ifindex = interface.index
        do {
            try Linux.call("bind", interface.name) {
                withUnsafePointer(to: &address) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                        bind(fd, $0, socklen_t(MemoryLayout<sockaddr_ll>.size))
                    }
                }
            }
        } catch {
            munmap(mapped, length)
            throw error
        }
        self.fd = fd
        ok = true
    }

    deinit {
        munmap(ring, ringLength)
        close(fd)
    }

    /// Frame slot `index` of the ring.
    @inline(__always)
    func slot(_ index: Int) -> UnsafeMutableRawPointer { ring + index &* frameSize }

    /// Kernel drop counters (PACKET_STATISTICS); reading them resets them.
    func takeDropCount() -> UInt64 {
        var stats = tpacket_stats()
        var len = socklen_t(MemoryLayout<tpacket_stats>.size)
        guard getsockopt(fd, SOL_PACKET, PACKET_STATISTICS, &stats, &len) == 0 else { return 0 }
        return UInt64(stats.tp_drops)
    }

    /// Joins the PACKET_FANOUT group `group` in CBPF mode: the kernel then hands each frame to
    /// the one member `steering`'s program names. Members join in worker order (the program's
    /// result indexes the group's members in joining order). The first member's join creates
    /// the group; its program is set right after, and until then every frame goes to member 0.
    func joinFanout(group: UInt16, steering: FlowSteering) throws(SystemError) {
        let mode = Int32(group) | Int32(PACKET_FANOUT_CBPF) << 16
        try Linux.setOption(fd, SOL_PACKET, PACKET_FANOUT, mode, name: "PACKET_FANOUT \(group) (CBPF)")
        try setFanoutProgram(steering)
    }

    /// Replaces the group's steering program (atomically, for every member).
    func setFanoutProgram(_ steering: FlowSteering) throws(SystemError) {
        var program = steering.fanoutProgram.map { sock_filter(code: $0.code, jt: $0.jt, jf: $0.jf, k: $0.k) }
        try program.withUnsafeMutableBufferPointer { (instructions) throws(SystemError) in
            var fprog = sock_fprog(len: UInt16(instructions.count), filter: instructions.baseAddress)
            try Linux.call("setsockopt", "PACKET_FANOUT_DATA (steering program)") {
                setsockopt(fd, SOL_PACKET, PACKET_FANOUT_DATA, &fprog, socklen_t(MemoryLayout<sock_fprog>.size))
            }
        }
    }

    /// Classic BPF: accept ARP; accept IPv4 whose destination is a VIP or in one of the mark
    /// rules' networks (all IPv4 if they do not fit a short program, or a network is /0; none
    /// when there is neither yet); reject the rest in the kernel. Attaching again replaces the
    /// filter atomically, so a table change that adds a VIP loses no frame.
    static func attachFilter(_ fd: Int32, virtualAddresses: [IPv4Address],
                             virtualNetworks: [IPv4Network] = []) throws(SystemError) {
        let acceptLength: UInt32 = 0x0004_0000
        var program: [sock_filter] = []
        func stmt(_ code: Int32, _ k: UInt32) -> sock_filter { sock_filter(code: UInt16(code), jt: 0, jf: 0, k: k) }
        func jump(_ code: Int32, _ k: UInt32, _ jt: UInt8, _ jf: UInt8) -> sock_filter {
            sock_filter(code: UInt16(code), jt: jt, jf: jf, k: k)
        }
        if virtualAddresses.isEmpty && virtualNetworks.isEmpty {
            // ARP only: the director answers nothing else until a service is added.
            program = [stmt(BPF_LD | BPF_H | BPF_ABS, 12), jump(BPF_JMP | BPF_JEQ | BPF_K, UInt32(ETH_P_ARP), 0, 1),
                       stmt(BPF_RET | BPF_K, acceptLength), stmt(BPF_RET | BPF_K, 0)]
            try install(fd, &program)
            return
        }
        // One instruction per VIP, three per network (reload, mask, compare).
        let fits = virtualAddresses.count <= 32 && virtualAddresses.count + 3 * virtualNetworks.count <= 96
            && !virtualNetworks.contains { $0.prefixLength == 0 }
        let vips = fits ? virtualAddresses : []
        let networks = fits ? virtualNetworks : []
        let checks = vips.isEmpty && networks.isEmpty ? 0 : 1 + vips.count + 3 * networks.count
        // Layout: [0] ld type, [1] jeq arp, [2] jeq ip, [3..3+checks) the destination tests,
        // then reject, accept.
        let rejectIndex = 3 + checks
        let acceptIndex = rejectIndex + 1
        program.append(stmt(BPF_LD | BPF_H | BPF_ABS, 12))
        program.append(jump(BPF_JMP | BPF_JEQ | BPF_K, UInt32(ETH_P_ARP), UInt8(acceptIndex - 2), 0))
        if checks == 0 {
            program.append(jump(BPF_JMP | BPF_JEQ | BPF_K, UInt32(ETH_P_IP), UInt8(acceptIndex - 3), UInt8(rejectIndex - 3)))
        } else {
            program.append(jump(BPF_JMP | BPF_JEQ | BPF_K, UInt32(ETH_P_IP), 0, UInt8(rejectIndex - 3)))
            program.append(stmt(BPF_LD | BPF_W | BPF_ABS, 30))
            for vip in vips {
                let here = program.count
                program.append(jump(BPF_JMP | BPF_JEQ | BPF_K, vip.value, UInt8(acceptIndex - here - 1), 0))
            }
            for network in networks {
                program.append(stmt(BPF_LD | BPF_W | BPF_ABS, 30))
                program.append(stmt(BPF_ALU | BPF_AND | BPF_K, network.mask))
                let here = program.count
                program.append(jump(BPF_JMP | BPF_JEQ | BPF_K, network.address.value, UInt8(acceptIndex - here - 1), 0))
            }
        }
        program.append(stmt(BPF_RET | BPF_K, 0))
        program.append(stmt(BPF_RET | BPF_K, acceptLength))
        try install(fd, &program)
    }

    static func install(_ fd: Int32, _ program: inout [sock_filter]) throws(SystemError) {
        try program.withUnsafeMutableBufferPointer { (instructions) throws(SystemError) in
            var fprog = sock_fprog(len: UInt16(instructions.count), filter: instructions.baseAddress)
            try Linux.call("setsockopt", "SO_ATTACH_FILTER") {
                setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &fprog, socklen_t(MemoryLayout<sock_fprog>.size))
            }
        }
    }
}
