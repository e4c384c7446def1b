import CLinuxNet
import Glibc
import LVSCore

/// The shared machinery of every `probe_via_vip` attempt, on the health loop's thread: one
/// packet socket that sends the hand-made SYNs and resets and receives the answers, one that
/// sends and receives ARP, the probe source ports, and the table that matches answers to the
/// probes in flight. Created on the first probe; one per health thread, whatever the number
/// of servers.
///
/// A probe is a SYN from the director's address and one of its probe ports to VIP:port, sent
/// to the real server's MAC: exactly what the data plane does with a client's SYN. The server
/// answers from VIP:port to the director's address. Success is a SYN-ACK, failure a reset or
/// nothing within the timeout. A SYN-ACK is answered with a reset (same DR path), so the server
/// keeps no half-open connection.
///
/// Matching: every probe has a random initial sequence number; an answer is taken by the
/// acknowledgement number it carries (ours + 1), then checked against the probe's VIP, port,
/// probe port and the real server's MAC. So thousands of probes can share a few ports: only
/// two probes to the same server on the same port and VIP at once would be one TCP connection
/// to it, and the port choice avoids that.
final class VIPProber: EventHandler {
    /// Ports the probes use as source: above the kernel's default ephemeral range
    /// (32768-60999), and each held by a bound TCP socket, so the kernel gives them to no one
    /// else while lvsd runs.
    static let firstProbePort: UInt16 = 61000
    /// Ports are reserved 64 at a time, when every reserved one is busy with the server a probe
    /// goes to, up to 1024 (1024 probes in flight to one server and one VIP:port at once).
    static let portBatch = 64
    static let maximumPorts = 1024

    /// A probe waiting for its answer.
    struct InFlight {
        var attempt: VIPProbeAttempt
        var vip: VIPTarget
        var port: UInt16
        var mac: MACAddress
    }

    let path: DirectRoutingPath
    let loop: EventLoop
    let ipSocket: Int32
    let arpSocket: Int32
    /// The descriptors that hold the probe ports; kept open, never read.
    var portHolders: [Int32] = []
    var ports: [UInt16] = []
    var nextPort = 0
    var inFlight: [UInt32: InFlight] = [:]
    /// The TCP connections (as the server sees them) of the probes in flight, so two probes to
    /// one server and VIP:port never share a probe port.
    var busy: Set<BusyKey> = []
    /// The next port to try to reserve.
    var nextCandidate = VIPProber.firstProbePort

    struct BusyKey: Hashable {
        var mac: MACAddress
        var port: UInt16
        var vip: VIPTarget
    }
    var macs: [IPv4Address: MACAddress] = [:]
    /// The servers whose MACs the data plane gave at the last refresh.
    var dataPlaneKnows: Set<IPv4Address> = []
    var macsRefreshed = -Double.infinity
    /// Work waiting for a server's MAC (an ARP answer), by server address.
    var waitingForMAC: [IPv4Address: [MACWaiter]] = [:]
    var lastARPRequest: [IPv4Address: Double] = [:]
    var identification: UInt16 = 1
    /// Frames waiting for room in the interface's queue, oldest first, and the timer that retries.
    var pending: [PendingFrame] = []
    var pendingHead = 0
    var flushTimer: TimerHandle?
    /// Receive buffer for the answers (their IP and TCP headers; the filter cuts at 128 bytes).
    let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 256, alignment: 8)
    /// Why the prober cannot work (no address on the interface...): every probe fails with it.
    var unusable: String?

    final class ARPHandler: EventHandler {
        unowned let prober: VIPProber
        init(prober: VIPProber) { self.prober = prober }
        func handleEvents(_ events: UInt32) { prober.readARP() }
    }

    var arpHandler: ARPHandler?

    /// Something to do once a server's MAC is known; `cancel()` when its attempt ends first.
    final class MACWaiter {
        var action: ((MACAddress) -> Void)?
        init(_ action: @escaping (MACAddress) -> Void) { self.action = action }
        func cancel() { action = nil }
    }

    /// Runs `action` with the server's MAC: now if it is known, else once an ARP answer comes
    /// (the caller's own deadline covers a server that never answers). The waiter, if any, is
    /// for cancelling.
    @discardableResult
    func whenMACKnown(_ server: IPv4Address, _ action: @escaping (MACAddress) -> Void) -> MACWaiter? {
        if let mac = mac(of: server) {
            action(mac)
            return nil
        }
        let waiter = MACWaiter(action)
        waitingForMAC[server, default: []].append(waiter)
        requestMAC(server)
        return waiter
    }

    init(path: DirectRoutingPath, loop: EventLoop) {
        self.path = path
        self.loop = loop
        var problem: String?
        if path.directorAddress == .any {
            problem = "\(path.interfaceName) has no IPv4 address to probe from"
        }
        ipSocket = Self.packetSocket(path.interfaceIndex, protocol: UInt16(ETH_P_IP))
        arpSocket = Self.packetSocket(path.interfaceIndex, protocol: UInt16(ETH_P_ARP))
        if problem == nil && (ipSocket < 0 || arpSocket < 0) {
            problem = "packet socket on \(path.interfaceName): \(Posix.errnoName(errno)) (probe_via_vip needs CAP_NET_RAW)"
        }
        if problem == nil {
            reservePorts()
            if ports.isEmpty { problem = "no free TCP port from \(Self.firstProbePort) up on \(path.directorAddress)" }
        }
        unusable = problem
        guard problem == nil else { return }
        installFilters()
        // Room for a burst of answers while the thread is busy starting checks: thousands of
        // SYN-ACKs a second arrive in bursts, and the default 208 KiB holds about 200 of them.
        // FORCE (root) goes past net.core.rmem_max; the plain option is the fallback.
        for fd in [ipSocket, arpSocket] {
            var size: Int32 = 4 << 20
            if setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, socklen_t(MemoryLayout<Int32>.size)) != 0 {
                _ = setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
            }
        }
        loop.register(ipSocket, events: EPOLLIN.rawValue, handler: self)
        let handler = ARPHandler(prober: self)
        arpHandler = handler
        loop.register(arpSocket, events: EPOLLIN.rawValue, handler: handler)
    }

    /// Reserves up to `portBatch` more probe ports: each is bound by a TCP socket that never
    /// listens, so the kernel hands the port to no other socket (nor to connect()'s ephemeral
    /// choice) while lvsd runs. Ports something else holds are skipped.
    func reservePorts() {
        var added = 0
        while added < Self.portBatch && ports.count < Self.maximumPorts && nextCandidate < UInt16.max {
            let port = nextCandidate
            nextCandidate += 1
            let s = Posix.socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            guard s.fd >= 0 else { return }
            if Posix.bind(s.fd, Posix.socketAddress(path.directorAddress.value, port)) == 0 {
                portHolders.append(s.fd)
                ports.append(port)
                added += 1
            } else {
                Posix.close(s.fd)
            }
        }
    }

    deinit {
        buffer.deallocate()
        for fd in portHolders { Posix.close(fd) }
        if ipSocket >= 0 { loop.closeRegistered(ipSocket) }
        if arpSocket >= 0 { loop.closeRegistered(arpSocket) }
    }

    /// A non-blocking SOCK_DGRAM packet socket (the kernel writes and strips the Ethernet
    /// header) for one EtherType on one interface; -1 with errno set on failure.
    static func packetSocket(_ index: Int32, protocol etherType: UInt16) -> Int32 {
        let s = Posix.socket(AF_PACKET, Int32(SOCK_DGRAM.rawValue), Int32(etherType.bigEndian))
        guard s.fd >= 0 else { return -1 }
        var address = sockaddr_ll()
        address.sll_family = UInt16(AF_PACKET)
        address.sll_protocol = etherType.bigEndian
        address.sll_ifindex = index
        let r = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(s.fd, $0, socklen_t(MemoryLayout<sockaddr_ll>.size))
            }
        }
        guard r == 0 else {
            let e = errno
            Posix.close(s.fd)
            errno = e
            return -1
        }
        return s.fd
    }

    /// Kernel-side filters, so the health thread wakes only for what may be an answer: TCP to
    /// the director's address on a probe port; ARP replies to the director's address.
    func installFilters() {
        func stmt(_ code: Int32, _ k: UInt32) -> sock_filter { sock_filter(code: UInt16(code), jt: 0, jf: 0, k: k) }
        func jump(_ code: Int32, _ k: UInt32, _ jt: UInt8, _ jf: UInt8) -> sock_filter {
            sock_filter(code: UInt16(code), jt: jt, jf: jf, k: k)
        }
        let address = path.directorAddress.value
        // Offsets are from the IP header (SOCK_DGRAM).
        var tcp: [sock_filter] = [
            stmt(BPF_LD | BPF_B | BPF_ABS, 9), jump(BPF_JMP | BPF_JEQ | BPF_K, 6, 0, 8),
            stmt(BPF_LD | BPF_W | BPF_ABS, 16), jump(BPF_JMP | BPF_JEQ | BPF_K, address, 0, 6),
            stmt(BPF_LD | BPF_H | BPF_ABS, 6), jump(BPF_JMP | BPF_JSET | BPF_K, 0x1fff, 4, 0),
            stmt(BPF_LDX | BPF_B | BPF_MSH, 0), stmt(BPF_LD | BPF_H | BPF_IND, 2),
            jump(BPF_JMP | BPF_JGE | BPF_K, UInt32(Self.firstProbePort), 0, 1),
            stmt(BPF_RET | BPF_K, 128), stmt(BPF_RET | BPF_K, 0),
        ]
        var arp: [sock_filter] = [
            stmt(BPF_LD | BPF_H | BPF_ABS, 6), jump(BPF_JMP | BPF_JEQ | BPF_K, 2, 0, 3),
            stmt(BPF_LD | BPF_W | BPF_ABS, 24), jump(BPF_JMP | BPF_JEQ | BPF_K, address, 0, 1),
            stmt(BPF_RET | BPF_K, 64), stmt(BPF_RET | BPF_K, 0),
        ]
        Self.attach(ipSocket, &tcp)
        Self.attach(arpSocket, &arp)
    }

    static func attach(_ fd: Int32, _ program: inout [sock_filter]) {
        program.withUnsafeMutableBufferPointer { instructions in
            var fprog = sock_fprog(len: UInt16(instructions.count), filter: instructions.baseAddress)
            _ = setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, &fprog, socklen_t(MemoryLayout<sock_fprog>.size))
        }
    }

    // MARK: Probes

    /// Starts the handshake of `attempt` to `vip` through `server`, now or once its MAC is known.
    func begin(_ attempt: VIPProbeAttempt) {
        if let unusable { return attempt.finishSoon(.failure(.viaVIP(unusable))) }
        attempt.waiter = whenMACKnown(attempt.server) { [unowned self] mac in send(attempt, mac: mac) }
    }

    /// The server's MAC: the data plane's (refreshed at most once a second), else the last one
    /// known (a server out of the table is no longer in the data plane's snapshot).
    func mac(of server: IPv4Address) -> MACAddress? {
        let now = Posix.monotonicSeconds()
        if now - macsRefreshed >= 1 {
            macsRefreshed = now
            let current = path.realServerMACs()
            for (address, mac) in current { macs[address] = mac }
            dataPlaneKnows = Set(current.keys)
        }
        return macs[server]
    }

    /// A probe got no answer: if its server's MAC is only remembered (the data plane no longer
    /// resolves it), forget it, so the next probe asks by ARP (the server's NIC may have been
    /// replaced while it was out of the table).
    func noAnswer(from server: IPv4Address) {
        if !dataPlaneKnows.contains(server) { macs[server] = nil }
    }

    func send(_ attempt: VIPProbeAttempt, mac: MACAddress) {
        guard let port = choosePort(mac: mac, vip: attempt.vip) else {
            return attempt.finishSoon(.failure(.viaVIP("all \(ports.count) probe ports are busy with this server")))
        }
        var sequence = UInt32.random(in: 0...UInt32.max)
        while inFlight[sequence &+ 1] != nil { sequence = UInt32.random(in: 0...UInt32.max) }
        let endpoints = ProbeSegment.Endpoints(source: path.directorAddress, sourcePort: port,
                                               destination: attempt.vip.address, destinationPort: attempt.vip.port)
        inFlight[sequence &+ 1] = InFlight(attempt: attempt, vip: attempt.vip, port: port, mac: mac)
        busy.insert(BusyKey(mac: mac, port: port, vip: attempt.vip))
        attempt.sequence = sequence
        attempt.registered = true
        identification &+= 1
        let syn = ProbeSegment.syn(endpoints, sequence: sequence, identification: identification)
        attempt.frame = send(syn, to: mac) { [unowned attempt, path] e in
            attempt.finish(.failure(.system(call: "sendto \(path.interfaceName)", errno: e)))
        }
        // As a kernel connect() would: the SYN again after 1 s (then 2 s...) while time is left,
        // so one lost frame does not fail the check.
        attempt.scheduleRetransmission(after: 1) { [unowned self] in
            guard attempt.registered else { return }
            attempt.frame = send(syn, to: mac) { [unowned attempt, path] e in
                attempt.finish(.failure(.system(call: "sendto \(path.interfaceName)", errno: e)))
            }
        }
    }

    /// The next probe port (round robin) with no probe in flight to this server and VIP:port;
    /// more are reserved when all are.
    func choosePort(mac: MACAddress, vip: VIPTarget) -> UInt16? {
        while true {
            for _ in 0..<ports.count {
                let port = ports[nextPort]
                nextPort = (nextPort + 1) % ports.count
                if !busy.contains(BusyKey(mac: mac, port: port, vip: vip)) { return port }
            }
            let before = ports.count
            reservePorts()
            if ports.count == before { return nil }
        }
    }

    /// Forgets a probe (answered, timed out or cancelled).
    func remove(_ attempt: VIPProbeAttempt) {
        if attempt.registered, let entry = inFlight.removeValue(forKey: attempt.sequence &+ 1) {
            busy.remove(BusyKey(mac: entry.mac, port: entry.port, vip: entry.vip))
        }
        attempt.registered = false
        attempt.waiter?.cancel()
        attempt.waiter = nil
        attempt.frame?.cancel()
        attempt.frame = nil
        attempt.retransmission?.cancel()
        attempt.retransmission = nil
    }

    /// Answers on the IP socket: SYN-ACKs and resets from a VIP to a probe port.
    func handleEvents(_ events: UInt32) {
        while true {
            var from = sockaddr_ll()
            var length = socklen_t(MemoryLayout<sockaddr_ll>.size)
            let r = withUnsafeMutablePointer(to: &from) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { a in
                    Posix.attempt { recvfrom(ipSocket, buffer.baseAddress, buffer.count, 0, a, &length) }
                }
            }
            guard r.result >= 0 else { return }
            guard from.sll_pkttype != UInt8(PACKET_OUTGOING),
                  let reply = ProbeSegment.parse(UnsafeRawBufferPointer(rebasing: buffer[0..<r.result])),
                  reply.isSynAck || reply.isReset,
                  let entry = inFlight[reply.acknowledgement],
                  reply.destination == path.directorAddress, reply.destinationPort == entry.port,
                  reply.source == entry.vip.address, reply.sourcePort == entry.vip.port,
                  Self.mac(from) == entry.mac
            else { continue }
            let attempt = entry.attempt
            remove(attempt)
            if reply.isSynAck {
                // The server holds a half-open connection now: reset it through the same path.
                let endpoints = ProbeSegment.Endpoints(source: path.directorAddress, sourcePort: entry.port,
                                                       destination: entry.vip.address, destinationPort: entry.vip.port)
                identification &+= 1
                _ = send(ProbeSegment.reset(endpoints, sequence: reply.acknowledgement, identification: identification),
                         to: entry.mac) { _ in }
                attempt.answered(synAck: true)
            } else {
                attempt.answered(synAck: false)
            }
        }
    }

    static func mac(_ a: sockaddr_ll) -> MACAddress {
        withUnsafeBytes(of: a.sll_addr) { b in MACAddress(bytes: (b[0], b[1], b[2], b[3], b[4], b[5])) }
    }

}
