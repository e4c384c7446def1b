import LVSCore

/// Builds synthetic Ethernet frames (IPv4 + TCP/UDP, ARP) byte by byte, the way a sender's stack
/// lays them out on the wire. Checksums are computed here with `ReferenceChecksum`, a plain
/// RFC 1071 loop, so that the tests never trust the code they test to make their inputs.
enum FrameBuilder {
    static let ethernet = 14
    static let ipv4 = 20

    /// An Ethernet + IPv4 + TCP frame. `fragmentField` is the IPv4 flags/offset word (0x4000 = DF).
    static func tcp(
        destinationMAC: MACAddress, sourceMAC: MACAddress,
        source: IPv4Address, destination: IPv4Address,
        sourcePort: UInt16, destinationPort: UInt16, flags: UInt8,
        ttl: UInt8 = 64, payload: [UInt8] = [], ipOptions: [UInt8] = [], tcpOptions: [UInt8] = [],
        fragmentField: UInt16 = 0x4000, identification: UInt16 = 0x1234
    ) -> [UInt8] {
        var tcp = [UInt8](repeating: 0, count: 20 + tcpOptions.count)
        put16(&tcp, 0, sourcePort)
        put16(&tcp, 2, destinationPort)
        put32(&tcp, 4, 0x0102_0304)                       // sequence number
        put32(&tcp, 8, flags & Wire.tcpACK != 0 ? 0x0A0B_0C0D : 0)
        tcp[12] = UInt8((20 + tcpOptions.count) / 4) << 4   // data offset in 32-bit words
        tcp[13] = flags
        put16(&tcp, 14, 64240)                           // window
        tcp.replaceSubrange(20..<20 + tcpOptions.count, with: tcpOptions)
        tcp += payload
        put16(&tcp, 16, ReferenceChecksum.transport(tcp, source: source, destination: destination, protocolNumber: 6))
        return ethernetIPv4(destinationMAC: destinationMAC, sourceMAC: sourceMAC, source: source,
                            destination: destination, protocolNumber: 6, ttl: ttl, ipOptions: ipOptions,
                            fragmentField: fragmentField, identification: identification, transport: tcp)
    }

    /// An Ethernet + IPv4 + UDP frame.
    static func udp(
        destinationMAC: MACAddress, sourceMAC: MACAddress,
        source: IPv4Address, destination: IPv4Address,
        sourcePort: UInt16, destinationPort: UInt16,
        ttl: UInt8 = 64, payload: [UInt8] = [], fragmentField: UInt16 = 0
    ) -> [UInt8] {
        var udp = [UInt8](repeating: 0, count: 8)
        put16(&udp, 0, sourcePort)
        put16(&udp, 2, destinationPort)
        put16(&udp, 4, UInt16(8 + payload.count))
        udp += payload
        var check = ReferenceChecksum.transport(udp, source: source, destination: destination, protocolNumber: 17)
        if check == 0 { check = 0xFFFF }
        put16(&udp, 6, check)
        return ethernetIPv4(destinationMAC: destinationMAC, sourceMAC: sourceMAC, source: source,
                            destination: destination, protocolNumber: 17, ttl: ttl, ipOptions: [],
                            fragmentField: fragmentField, identification: 0x4321, transport: udp)
    }

    /// Ethernet + IPv4 around an arbitrary transport payload, with a valid header checksum.
    static func ethernetIPv4(
        destinationMAC: MACAddress, sourceMAC: MACAddress, source: IPv4Address, destination: IPv4Address,
        protocolNumber: UInt8, ttl: UInt8, ipOptions: [UInt8] = [], fragmentField: UInt16 = 0x4000,
        identification: UInt16 = 0x1234, transport: [UInt8]
    ) -> [UInt8] {
        precondition(ipOptions.count % 4 == 0, "IPv4 options come in 32-bit words")
        let headerLength = 20 + ipOptions.count
        var frame = [UInt8](repeating: 0, count: ethernet + headerLength)
        putMAC(&frame, 0, destinationMAC)
        putMAC(&frame, 6, sourceMAC)
        put16(&frame, 12, Wire.etherTypeIPv4)
        let l3 = ethernet
        frame[l3] = 0x40 | UInt8(headerLength / 4)
        put16(&frame, l3 + 2, UInt16(headerLength + transport.count))
        put16(&frame, l3 + 4, identification)
        put16(&frame, l3 + 6, fragmentField)
        frame[l3 + 8] = ttl
        frame[l3 + 9] = protocolNumber
        put32(&frame, l3 + 12, source.value)
        put32(&frame, l3 + 16, destination.value)
        frame.replaceSubrange(l3 + 20..<l3 + headerLength, with: ipOptions)
        fixIPv4Checksum(&frame)
        return frame + transport
    }

    /// An Ethernet/IPv4 ARP frame, padded with zeros to the 60-byte Ethernet minimum unless told not to.
    static func arp(
        operation: UInt16, ethernetDestination: MACAddress, ethernetSource: MACAddress,
        senderMAC: MACAddress, senderIP: IPv4Address, targetMAC: MACAddress, targetIP: IPv4Address,
        padded: Bool = true
    ) -> [UInt8] {
        var frame = [UInt8](repeating: 0, count: padded ? 60 : 42)
        putMAC(&frame, 0, ethernetDestination)
        putMAC(&frame, 6, ethernetSource)
        put16(&frame, 12, Wire.etherTypeARP)
        put16(&frame, 14, 1)          // hardware type: Ethernet
        put16(&frame, 16, 0x0800)     // protocol type: IPv4
        frame[18] = 6
        frame[19] = 4
        put16(&frame, 20, operation)
        putMAC(&frame, 22, senderMAC)
        put32(&frame, 28, senderIP.value)
        putMAC(&frame, 32, targetMAC)
        put32(&frame, 38, targetIP.value)
        return frame
    }

    /// Recomputes the IPv4 header checksum of a frame whose IP header starts at byte 14, using
    /// the header length its IHL field states.
    static func fixIPv4Checksum(_ frame: inout [UInt8]) {
        let l3 = ethernet
        let headerLength = Int(frame[l3] & 0x0F) * 4
        frame[l3 + 10] = 0
        frame[l3 + 11] = 0
        put16(&frame, l3 + 10, ReferenceChecksum.checksum(frame[l3..<l3 + headerLength]))
    }

    static func put16(_ b: inout [UInt8], _ offset: Int, _ v: UInt16) {
        b[offset] = UInt8(v >> 8)
        b[offset + 1] = UInt8(v & 0xFF)
    }

    static func put32(_ b: inout [UInt8], _ offset: Int, _ v: UInt32) {
        for i in 0..<4 { b[offset + i] = UInt8((v >> UInt32(24 - 8 * i)) & 0xFF) }
    }

    static func putMAC(_ b: inout [UInt8], _ offset: Int, _ mac: MACAddress) {
        for i in 0..<6 { b[offset + i] = mac.byte(i) }
    }

    static func get16(_ b: [UInt8], _ offset: Int) -> UInt16 { UInt16(b[offset]) << 8 | UInt16(b[offset + 1]) }

    static func get32(_ b: [UInt8], _ offset: Int) -> UInt32 {
        (0..<4).reduce(UInt32(0)) { $0 << 8 | UInt32(b[offset + $1]) }
    }

    static func getMAC(_ b: [UInt8], _ offset: Int) -> MACAddress {
        MACAddress(value: (0..<6).reduce(UInt64(0)) { $0 << 8 | UInt64(b[offset + $1]) })
    }
}

/// Hands `bytes` to `body` as a `FrameBytes` over the array's own storage, so that in-place
/// rewrites show up in the array afterwards.
func withFrame<R>(_ bytes: inout [UInt8], _ body: (FrameBytes) throws -> R) rethrows -> R {
    try bytes.withUnsafeMutableBytes { raw in
        // An empty array may have no storage; any non-nil pointer will do for zero bytes.
        let base = raw.baseAddress ?? UnsafeMutableRawPointer(bitPattern: 0x10)!
        return try body(FrameBytes(base: base, count: raw.count))
    }
}

/// The Internet checksum done the slow, obvious way (RFC 1071 §1: add 16-bit big-endian
/// words, fold the carries, complement), used as the oracle for the optimised code.
enum ReferenceChecksum {
    /// The folded, uncomplemented ones' complement sum of `bytes` (odd length padded with zero).
    static func foldedSum(_ bytes: some Collection<UInt8>, initial: UInt32 = 0) -> UInt16 {
        var sum = initial
        var high = true
        for byte in bytes {
            sum += high ? UInt32(byte) << 8 : UInt32(byte)
            high.toggle()
            while sum > 0xFFFF { sum = (sum & 0xFFFF) + (sum >> 16) }
        }
        return UInt16(sum)
    }

    static func checksum(_ bytes: some Collection<UInt8>) -> UInt16 { ~foldedSum(bytes) }

    /// The 12-byte IPv4 pseudo header of RFC 793 / RFC 768.
    static func pseudoHeader(source: IPv4Address, destination: IPv4Address, protocolNumber: UInt8, length: Int) -> [UInt8] {
        var p = [UInt8](repeating: 0, count: 12)
        FrameBuilder.put32(&p, 0, source.value)
        FrameBuilder.put32(&p, 4, destination.value)
        p[9] = protocolNumber
        FrameBuilder.put16(&p, 10, UInt16(length))
        return p
    }

    /// The TCP/UDP checksum of `segment` (whose checksum field must be zero) from scratch.
    static func transport(_ segment: [UInt8], source: IPv4Address, destination: IPv4Address, protocolNumber: UInt8) -> UInt16 {
        checksum(pseudoHeader(source: source, destination: destination, protocolNumber: protocolNumber,
                              length: segment.count) + segment)
    }
}
