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
        return line.withUTF8 { fastRestoreLine($0) }
    }

    /// The same, on the line's bytes (without its line feed).
    static func fastRestoreLine(_ bytes: UnsafeBufferPointer<UInt8>) -> IpvsadmCommand? {
        var reader = FastRestoreLine(bytes: bytes)
        return reader.command()
    }
}

/// One line's bytes, read token by token (a token is a byte range; nothing is copied).
struct FastRestoreLine {
    typealias Token = (start: Int, end: Int)

    let bytes: UnsafeBufferPointer<UInt8>
    var position = 0

    init(bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    @inline(__always)
    static func isSeparator(_ b: UInt8) -> Bool { b == 0x20 || b == 0x09 || b == 0x0D || b == 0x0A }

    /// What the next token would be, without taking it: nil at the end of the line, and
    /// `.failure` for a token the fast path does not read (a non-ASCII or NUL byte, or an
    /// `ipvsadm` token, which the general reader drops).
    func peek() -> (token: Token, next: Int)?? {
        var i = position
        let n = bytes.count
        while i < n && Self.isSeparator(bytes[i]) { i += 1 }
        guard i < n else { return .some(nil) }
        let s = i
        while i < n {
            let c = bytes[i]
            if Self.isSeparator(c) { break }
            guard c != 0, c < 0x80 else { return nil }
            i += 1
        }
        if i - s == 7 && Self.isIpvsadm(bytes, s) { return nil }
        return .some(((s, i), i))
    }

    /// Takes the next token; nil at the end or for a token the fast path does not read
    /// (`failed` is set then).
    mutating func next() -> Token? {
        guard let peeked = peek() else {
            failed = true
            return nil
        }
        guard let (token, next) = peeked else { return nil }
        position = next
        return token
    }

    var failed = false

    static func isIpvsadm(_ bytes: UnsafeBufferPointer<UInt8>, _ s: Int) -> Bool {
        var k = 0
        for c in "ipvsadm".utf8 {
            guard bytes[s + k] == c else { return false }
            k += 1
        }
        return true
    }

    /// The letter of a `-X` token, or 0.
    @inline(__always)
    func shortLetter(_ t: Token) -> UInt8 {
        t.end - t.start == 2 && bytes[t.start] == UInt8(ascii: "-") ? bytes[t.start + 1] : 0
    }

    /// Plain decimal digits, at most `maxDigits` of them, as a number (no sign, no blanks:
    /// those the general parser reads as strtol does).
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

    func digits(_ t: Token, maxDigits: Int) -> Int64? { Self.digits(bytes, t.start, t.end, maxDigits: maxDigits) }

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
    func hostPort(_ t: Token) -> (address: IPv4Address, port: UInt16?)? {
        var colon = -1
        for k in t.start..<t.end where bytes[k] == UInt8(ascii: ":") {
            guard colon < 0 else { return nil }
            colon = k
        }
        guard colon >= 0 else {
            guard let address = Self.dottedQuad(bytes, t.start, t.end) else { return nil }
            return (address, nil)
        }
        guard let address = Self.dottedQuad(bytes, t.start, colon),
              let port = Self.digits(bytes, colon + 1, t.end, maxDigits: 5), port <= 65535 else { return nil }
        return (address, UInt16(port))
    }

    mutating func command() -> IpvsadmCommand? {
        guard let first = next() else { return nil }
        let letter = shortLetter(first)
        if letter == UInt8(ascii: "C") { return next() == nil && !failed ? .clear : nil }
        guard let selector = next(), let endpoint = next() else { return nil }
        let transport: TransportProtocol
        switch shortLetter(selector) {
        case UInt8(ascii: "t"): transport = .tcp
        case UInt8(ascii: "u"): transport = .udp
        default: return nil
        }
        guard let (vip, vport) = hostPort(endpoint) else { return nil }
        let key = VirtualServiceKey(transport: transport, address: vip, port: vport ?? 0)
        let command: IpvsadmCommand
        switch letter {
        case UInt8(ascii: "A"), UInt8(ascii: "E"):
            guard let service = service(key) else { return nil }
            command = letter == UInt8(ascii: "A") ? .addService(service) : .editService(service)
        case UInt8(ascii: "D"):
            guard next() == nil else { return nil }
            command = .deleteService(key)
        case UInt8(ascii: "a"), UInt8(ascii: "e"):
            guard let server = server(key) else { return nil }
            command = letter == UInt8(ascii: "a") ? .addServer(key, server) : .editServer(key, server)
        default:
            return nil
        }
        return failed ? nil : command
    }

    /// `-s NAME`, `-p [SECONDS]`, `-M MASK` and (UDP) `-o`, each at most once, in any order.
    mutating func service(_ key: VirtualServiceKey) -> VirtualServiceConfig? {
        var scheduler: String?
        var timeout: UInt32?
        var netmask: IPv4Address?
        var onePacket = false
        while let option = next() {
            switch shortLetter(option) {
            case UInt8(ascii: "s"):
                // A name of at most 15 bytes (ipvsadm would cut a longer one); one that starts
                // with '-' is left to the general parser.
                guard scheduler == nil, let name = next(), name.end - name.start <= 15,
                      bytes[name.start] != UInt8(ascii: "-") else { return nil }
                scheduler = String(decoding: UnsafeBufferPointer(rebasing: bytes[name.start..<name.end]), as: UTF8.self)
            case UInt8(ascii: "p"):
                guard timeout == nil else { return nil }
                // popt's optional value: the next token unless it starts with '-'.
                guard let peeked = peek() else { return nil }
                if let (value, after) = peeked, bytes[value.start] != UInt8(ascii: "-") {
                    guard let t = digits(value, maxDigits: 7), t >= 1, t <= IpvsadmLine.maximumTimeout else { return nil }
                    timeout = UInt32(t)
                    position = after
                } else {
                    timeout = Persistence.defaultTimeout
                }
            case UInt8(ascii: "M"):
                guard netmask == nil, let value = next(),
                      let mask = Self.dottedQuad(bytes, value.start, value.end) else { return nil }
                netmask = mask
            case UInt8(ascii: "o"):
                guard !onePacket, key.transport == .udp else { return nil }
                onePacket = true
            default:
                return nil
            }
        }
        // A zero port needs persistence; the general parser says so.
        guard !failed, key.port != 0 || timeout != nil else { return nil }
        let mask = netmask ?? IPv4Address(0xFFFF_FFFF)
        return VirtualServiceConfig(key: key, scheduler: scheduler ?? "wlc",
                                    persistence: timeout.map { Persistence(timeout: $0, netmask: mask) },
                                    onePacketScheduling: onePacket)
    }

    /// `-r RIP[:PORT]` right after the service, then `-g`, `-w N`, `-x N`, `-y N`, each at most
    /// once, in any order. Direct routing gives the server the service's port, whatever `-r` said.
    mutating func server(_ key: VirtualServiceKey) -> RealServerConfig? {
        guard let r = next(), shortLetter(r) == UInt8(ascii: "r"), let endpoint = next(),
              let (address, _) = hostPort(endpoint) else { return nil }
        var gatewaying = false
        var weight: Int64?
        var upper: Int64?
        var lower: Int64?
        while let option = next() {
            switch shortLetter(option) {
            case UInt8(ascii: "g"):
                guard !gatewaying else { return nil }
                gatewaying = true
            case UInt8(ascii: "w"):
                guard weight == nil, let value = next(), let w = digits(value, maxDigits: 5), w <= 65535 else { return nil }
                weight = w
            case UInt8(ascii: "x"):
                guard upper == nil, let value = next(), let x = digits(value, maxDigits: 10), x <= Int64(Int32.max) else {
                    return nil
                }
                upper = x
            case UInt8(ascii: "y"):
                guard lower == nil, let value = next(), let y = digits(value, maxDigits: 10), y <= Int64(Int32.max) else {
                    return nil
                }
                lower = y
            default:
                return nil
            }
        }
        guard !failed else { return nil }
        return RealServerConfig(address: address, port: key.port, weight: Int32(weight ?? 1),
                                upperThreshold: UInt32(upper ?? 0), lowerThreshold: UInt32(lower ?? 0))
    }
}
