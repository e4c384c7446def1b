import LVSCore

/// A fast reading of the `-R` lines that make up nearly every stream: the shapes `ipvsadm -S -n`
/// and lvsd's saved table write (`-A -t VIP:PORT -s wlc`, `-a -t VIP:PORT -r RIP:PORT -g -w 1`
/// and a few variants), read from the line's bytes without building tokens, options or an
/// `IpvsadmLine`.
///
/// It answers only where the answer is certain to be the general parser's: every byte ASCII,
/// the command first and the service right after it, addresses as plain dotted quads (no
/// names, no leading zeros, no IPv6), ports and numbers as plain digits in range, each option
/// once, nothing that could be an error. Anything else, including every line the general
/// parser refuses, returns nil and goes to `parseRestoreLine`, so the commands and the errors
/// of a stream are the general parser's whatever the fast path takes (a property test holds
/// the two to that).
extension IpvsadmCommandLine {
    /// The command of one `-R` line, or nil when the line is not in a shape read here.
    static func fastRestoreLine(_ line: Substring) -> IpvsadmCommand? {
        var line = line
        return line.withUTF8 { bytes in
            var reader = FastRestoreLine(bytes: bytes)
            return reader.command()
        }
    }
}

/// One line's bytes and its tokens (as byte ranges).
struct FastRestoreLine {
    let bytes: UnsafeBufferPointer<UInt8>
    /// Token i is bytes[starts[i]..<ends[i]]; at most 16 tokens are read.
    var starts: (Int, Int, Int, Int, Int, Int, Int, Int, Int, Int, Int, Int, Int, Int, Int, Int) =
        (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    var ends: (Int, Int, Int, Int, Int, Int, Int, Int, Int, Int, Int, Int, Int, Int, Int, Int) =
        (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    var count = 0

    static let capacity = 16

    init(bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    func start(_ i: Int) -> Int { withUnsafeBytes(of: starts) { $0.load(fromByteOffset: i * 8, as: Int.self) } }
    func end(_ i: Int) -> Int { withUnsafeBytes(of: ends) { $0.load(fromByteOffset: i * 8, as: Int.self) } }

    /// Splits at spaces, tabs, CRs and LFs; false for a non-ASCII or NUL byte, too many tokens,
    /// or an `ipvsadm` token (which the general reader drops).
    mutating func tokenize() -> Bool {
        var i = 0
        let n = bytes.count
        while i < n {
            let b = bytes[i]
            if b == 0x20 || b == 0x09 || b == 0x0D || b == 0x0A {
                i += 1
                continue
            }
            guard count < Self.capacity else { return false }
            let s = i
            while i < n {
                let c = bytes[i]
                if c == 0x20 || c == 0x09 || c == 0x0D || c == 0x0A { break }
                guard c != 0, c < 0x80 else { return false }
                i += 1
            }
            if i - s == 7 && Self.isIpvsadm(bytes, s) { return false }
            withUnsafeMutableBytes(of: &starts) { $0.storeBytes(of: s, toByteOffset: count * 8, as: Int.self) }
            withUnsafeMutableBytes(of: &ends) { $0.storeBytes(of: i, toByteOffset: count * 8, as: Int.self) }
            count += 1
        }
        return true
    }

    func length(_ i: Int) -> Int { end(i) - start(i) }

    static func isIpvsadm(_ bytes: UnsafeBufferPointer<UInt8>, _ s: Int) -> Bool {
        var k = 0
        for c in "ipvsadm".utf8 {
            guard bytes[s + k] == c else { return false }
            k += 1
        }
        return true
    }

    func byte(_ i: Int, _ offset: Int) -> UInt8 { bytes[start(i) + offset] }

    /// Whether token `i` is `-X` for the letter `letter`.
    func isShort(_ i: Int, _ letter: UInt8) -> Bool {
        length(i) == 2 && byte(i, 0) == UInt8(ascii: "-") && byte(i, 1) == letter
    }

    /// Plain decimal digits, at most `maxDigits` of them, as a number (no sign, no blanks:
    /// those the general parser reads as strtol does, and it reads them here).
    func digits(_ i: Int, maxDigits: Int) -> Int64? {
        let s = start(i)
        let e = end(i)
        return Self.digits(bytes, s, e, maxDigits: maxDigits)
    }

    static func digits(_ bytes: UnsafeBufferPointer<UInt8>, _ s: Int, _ e: Int, maxDigits: Int) -> Int64? {
        guard e > s, e - s <= maxDigits else { return nil }
        var value: Int64 = 0
        for k in s..<e {
            let b = bytes[k]
            guard b >= UInt8(ascii: "0"), b <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + Int64(b &- UInt8(ascii: "0"))
        }
        return value
    }

    /// `inet_pton`'s dotted quad: four octets 0...255, no leading zero (those go to the
    /// resolver in the general parser, as `inet_aton` reads them as octal).
    static func dottedQuad(_ bytes: UnsafeBufferPointer<UInt8>, _ s: Int, _ e: Int) -> IPv4Address? {
        var address: UInt32 = 0
        var octets = 0
        var current: UInt32 = 0
        var digits = 0
        var leadingZero = false
        var k = s
        while k < e {
            let b = bytes[k]
            if b >= UInt8(ascii: "0") && b <= UInt8(ascii: "9") {
                if leadingZero { return nil }
                if digits == 0 && b == UInt8(ascii: "0") { leadingZero = true }
                current = current * 10 + UInt32(b &- UInt8(ascii: "0"))
                digits += 1
                if digits > 3 || current > 255 { return nil }
            } else if b == UInt8(ascii: ".") {
                if digits == 0 || octets == 3 { return nil }
                address = address << 8 | current
                octets += 1
                current = 0
                digits = 0
                leadingZero = false
            } else {
                return nil
            }
            k += 1
        }
        guard digits > 0, octets == 3 else { return nil }
        return IPv4Address(address << 8 | current)
    }

    /// `A.B.C.D[:PORT]` with a plain port 0...65535; `port` is nil without one.
    func hostPort(_ i: Int) -> (address: IPv4Address, port: UInt16?)? {
        let s = start(i)
        let e = end(i)
        var colon = -1
        for k in s..<e where bytes[k] == UInt8(ascii: ":") {
            guard colon < 0 else { return nil }
            colon = k
        }
        guard colon >= 0 else {
            guard let address = Self.dottedQuad(bytes, s, e) else { return nil }
            return (address, nil)
        }
        guard let address = Self.dottedQuad(bytes, s, colon),
              let port = Self.digits(bytes, colon + 1, e, maxDigits: 5), port <= 65535 else { return nil }
        return (address, UInt16(port))
    }

    mutating func command() -> IpvsadmCommand? {
        guard tokenize(), count >= 1, length(0) == 2, byte(0, 0) == UInt8(ascii: "-") else { return nil }
        let letter = byte(0, 1)
        if letter == UInt8(ascii: "C") { return count == 1 ? .clear : nil }
        guard count >= 3 else { return nil }
        let transport: TransportProtocol
        if isShort(1, UInt8(ascii: "t")) {
            transport = .tcp
        } else if isShort(1, UInt8(ascii: "u")) {
            transport = .udp
        } else {
            return nil
        }
        guard let (vip, vport) = hostPort(2) else { return nil }
        let key = VirtualServiceKey(transport: transport, address: vip, port: vport ?? 0)
        switch letter {
        case UInt8(ascii: "A"), UInt8(ascii: "E"):
            guard let service = service(key) else { return nil }
            return letter == UInt8(ascii: "A") ? .addService(service) : .editService(service)
        case UInt8(ascii: "D"):
            return count == 3 ? .deleteService(key) : nil
        case UInt8(ascii: "a"), UInt8(ascii: "e"):
            guard let server = server(key) else { return nil }
            return letter == UInt8(ascii: "a") ? .addServer(key, server) : .editServer(key, server)
        default:
            return nil
        }
    }

    /// `-s NAME`, `-p [SECONDS]`, `-M MASK` and (UDP) `-o`, each at most once, in any order.
    func service(_ key: VirtualServiceKey) -> VirtualServiceConfig? {
        var scheduler: String?
        var timeout: UInt32?
        var netmask: IPv4Address?
        var onePacket = false
        var i = 3
        while i < count {
            guard length(i) == 2, byte(i, 0) == UInt8(ascii: "-") else { return nil }
            switch byte(i, 1) {
            case UInt8(ascii: "s"):
                // A name of at most 15 bytes (ipvsadm would cut a longer one); one that starts
                // with '-' is left to the general parser.
                guard scheduler == nil, i + 1 < count, length(i + 1) <= 15, byte(i + 1, 0) != UInt8(ascii: "-") else {
                    return nil
                }
                scheduler = String(decoding: UnsafeBufferPointer(rebasing: bytes[start(i + 1)..<end(i + 1)]),
                                   as: UTF8.self)
                i += 2
            case UInt8(ascii: "p"):
                guard timeout == nil else { return nil }
                // popt's optional value: the next token unless it starts with '-'.
                if i + 1 < count && byte(i + 1, 0) != UInt8(ascii: "-") {
                    guard let t = digits(i + 1, maxDigits: 7), t >= 1, t <= IpvsadmLine.maximumTimeout else { return nil }
                    timeout = UInt32(t)
                    i += 2
                } else {
                    timeout = Persistence.defaultTimeout
                    i += 1
                }
            case UInt8(ascii: "M"):
                guard netmask == nil, i + 1 < count,
                      let mask = Self.dottedQuad(bytes, start(i + 1), end(i + 1)) else { return nil }
                netmask = mask
                i += 2
            case UInt8(ascii: "o"):
                guard !onePacket, key.transport == .udp else { return nil }
                onePacket = true
                i += 1
            default:
                return nil
            }
        }
        // A zero port needs persistence; the general parser says so.
        guard key.port != 0 || timeout != nil else { return nil }
        let mask = netmask ?? IPv4Address(0xFFFF_FFFF)
        return VirtualServiceConfig(key: key, scheduler: scheduler ?? "wlc",
                                    persistence: timeout.map { Persistence(timeout: $0, netmask: mask) },
                                    onePacketScheduling: onePacket)
    }

    /// `-r RIP[:PORT]` right after the service, then `-g`, `-w N`, `-x N`, `-y N`, each at most
    /// once, in any order. Direct routing gives the server the service's port, whatever `-r` said.
    func server(_ key: VirtualServiceKey) -> RealServerConfig? {
        guard count >= 5, isShort(3, UInt8(ascii: "r")), let (address, _) = hostPort(4) else { return nil }
        var gatewaying = false
        var weight: Int64?
        var upper: Int64?
        var lower: Int64?
        var i = 5
        while i < count {
            guard length(i) == 2, byte(i, 0) == UInt8(ascii: "-") else { return nil }
            switch byte(i, 1) {
            case UInt8(ascii: "g"):
                guard !gatewaying else { return nil }
                gatewaying = true
                i += 1
            case UInt8(ascii: "w"):
                guard weight == nil, i + 1 < count, let w = digits(i + 1, maxDigits: 5), w <= 65535 else { return nil }
                weight = w
                i += 2
            case UInt8(ascii: "x"):
                guard upper == nil, i + 1 < count, let x = digits(i + 1, maxDigits: 10), x <= Int64(Int32.max) else {
                    return nil
                }
                upper = x
                i += 2
            case UInt8(ascii: "y"):
                guard lower == nil, i + 1 < count, let y = digits(i + 1, maxDigits: 10), y <= Int64(Int32.max) else {
                    return nil
                }
                lower = y
                i += 2
            default:
                return nil
            }
        }
        return RealServerConfig(address: address, port: key.port, weight: Int32(weight ?? 1),
                                upperThreshold: UInt32(upper ?? 0), lowerThreshold: UInt32(lower ?? 0))
    }
}
