import CLinuxNet
import Glibc
import LVSCore

/// ARP for the real servers the data plane has not resolved.
extension VIPProber {
    /// Asks for a server's MAC (at most once a second per server): for servers the data plane
    /// has not resolved, such as one a failed check took out of the table before lvsd knew it.
    func requestMAC(_ server: IPv4Address) {
        let now = Posix.monotonicSeconds()
        if let last = lastARPRequest[server], now - last < 1 { return }
        lastARPRequest[server] = now
        var p = [UInt8](repeating: 0, count: 28)
        p[1] = 1; p[2] = 0x08; p[4] = 6; p[5] = 4; p[7] = 1 // Ethernet, IPv4, request
        for i in 0..<6 { p[8 + i] = UInt8((path.directorMAC.value >> UInt64(40 - 8 * i)) & 0xff) }
        ProbeSegment.put32(&p, 14, path.directorAddress.value)
        ProbeSegment.put32(&p, 24, server.value)
        let e = transmit(p, to: MACAddress(value: 0xFFFF_FFFF_FFFF), etherType: UInt16(ETH_P_ARP))
        // A failed send is retried by the next probe's request (a second later); the waiting
        // attempts end at their deadlines.
        _ = e
    }

    func readARP() {
        var p = [UInt8](repeating: 0, count: 64)
        while true {
            let r = p.withUnsafeMutableBytes { b in Posix.attempt { recv(arpSocket, b.baseAddress, b.count, 0) } }
            guard r.result >= 0 else { return }
            guard r.result >= 28, p[0] == 0, p[1] == 1, p[2] == 0x08, p[3] == 0, p[4] == 6, p[5] == 4, p[7] == 2 else { continue }
            let sender = IPv4Address(p[14], p[15], p[16], p[17])
            let mac = MACAddress(bytes: (p[8], p[9], p[10], p[11], p[12], p[13]))
            guard let waiting = waitingForMAC.removeValue(forKey: sender) else { continue }
            macs[sender] = mac
            for waiter in waiting { waiter.action?(mac) }
        }
    }
}
