import LVSCore

/// The addresses every test frame uses: a director, a client behind a router, three real
/// servers, and a VIP. Documentation ranges (RFC 5737) for the outside world.
enum TestNetwork {
    static let directorMAC = MACAddress(value: 0x0200_0000_0001)
    static let directorIP = IPv4Address(10, 0, 0, 2)
    static let routerMAC = MACAddress(value: 0x0200_0000_00AA)
    static let otherHostMAC = MACAddress(value: 0x0200_0000_00BB)
    static let client = IPv4Address(192, 0, 2, 10)
    static let vip = IPv4Address(10, 0, 0, 100)

    static let rs1 = IPv4Address(10, 0, 1, 1)
    static let rs2 = IPv4Address(10, 0, 1, 2)
    static let rs3 = IPv4Address(10, 0, 1, 3)
    static let rs1MAC = MACAddress(value: 0x0200_0000_0101)
    static let rs2MAC = MACAddress(value: 0x0200_0000_0102)
    static let rs3MAC = MACAddress(value: 0x0200_0000_0103)

    /// A client-to-VIP TCP segment as the router hands it to the director.
    static func tcp(sourcePort: UInt16 = 40000, destinationPort: UInt16 = 80, flags: UInt8,
                    ttl: UInt8 = 64, payload: [UInt8] = [], destinationMAC: MACAddress = directorMAC,
                    destination: IPv4Address = vip, fragmentField: UInt16 = 0x4000) -> [UInt8] {
        FrameBuilder.tcp(destinationMAC: destinationMAC, sourceMAC: routerMAC, source: client,
                         destination: destination, sourcePort: sourcePort, destinationPort: destinationPort,
                         flags: flags, ttl: ttl, payload: payload, fragmentField: fragmentField)
    }

    static func udp(sourcePort: UInt16 = 50000, destinationPort: UInt16 = 53, payload: [UInt8] = [1, 2, 3],
                    destinationMAC: MACAddress = directorMAC) -> [UInt8] {
        FrameBuilder.udp(destinationMAC: destinationMAC, sourceMAC: routerMAC, source: client, destination: vip,
                         sourcePort: sourcePort, destinationPort: destinationPort, payload: payload)
    }
}
