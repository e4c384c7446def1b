import CLinuxNet
import Glibc
import LVSCore

/// What the director needs to know about the interface it serves: index, MAC, its own IPv4
/// address (the sender of its ARP requests) and MTU.
public struct NetworkInterface: Sendable {
    public var name: String
    public var index: Int32
    public var mac: MACAddress
    public var address: IPv4Address
    public var mtu: Int

    /// Reads the interface's properties with SIOCGIF* ioctls.
    public static func lookup(_ name: String) throws(SystemError) -> NetworkInterface {
        guard name.utf8.count < Int(IFNAMSIZ), !name.isEmpty else {
            throw SystemError(call: "interface name", subject: name, errno: ENODEV)
        }
        let fd = try Linux.call("socket", "AF_INET") { socket(AF_INET, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0) }
        defer { close(fd) }
        func request(_ code: Int32, _ what: String) throws(SystemError) -> ifreq {
            var ifr = ifreq()
            withUnsafeMutableBytes(of: &ifr.ifr_ifrn.ifrn_name) { dst in
                for (i, b) in name.utf8.enumerated() { dst[i] = b }
            }
            try Linux.call("ioctl \(what)", name) { clinuxnet_ioctl_ifreq(fd, UInt(code), &ifr) }
            return ifr
        }
        let index = try request(Int32(SIOCGIFINDEX), "SIOCGIFINDEX").ifr_ifru.ifru_ivalue
        let hw = try request(Int32(SIOCGIFHWADDR), "SIOCGIFHWADDR").ifr_ifru.ifru_hwaddr
        let mac = withUnsafeBytes(of: hw.sa_data) { b in
            MACAddress(bytes: (b[0], b[1], b[2], b[3], b[4], b[5]))
        }
        let mtu = Int(try request(Int32(SIOCGIFMTU), "SIOCGIFMTU").ifr_ifru.ifru_mtu)
        // An interface without an IPv4 address can still forward; ARP requests then say 0.0.0.0
        // (an RFC 5227 probe), which real servers answer too.
        var address = IPv4Address.any
        if let ifr = try? request(Int32(SIOCGIFADDR), "SIOCGIFADDR") {
            address = withUnsafeBytes(of: ifr.ifr_ifru.ifru_addr) { b in
                IPv4Address(b[4], b[5], b[6], b[7])
            }
        }
        return NetworkInterface(name: name, index: index, mac: mac, address: address, mtu: mtu)
    }

    /// Whether the kernel forwards IPv4 on this interface. If it does, it would also route the
    /// VIP frames that lvsd forwards, and each packet would reach a real server twice.
    public func kernelForwardsIPv4() -> Bool {
        for path in ["/proc/sys/net/ipv4/conf/\(name)/forwarding"] {
            guard let f = fopen(path, "r") else { continue }
            defer { fclose(f) }
            var c: Int32 = 0
            c = fgetc(f)
            return c == Int32(UInt8(ascii: "1"))
        }
        return false
    }
}
