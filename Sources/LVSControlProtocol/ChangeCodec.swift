import LVSConfig
import LVSCore

/// Table commands on the wire (protocol 3): one record per line, tab-separated fields, every
/// field written out numerically, so that lvsd reads a change with byte splitting and never
/// runs ipvsadm's grammar again (lvsadm did that, with ipvsadm's messages):
///
///     A   proto address port mark scheduler flags persistence|- netmask ops      -A
///     E   proto address port mark scheduler flags persistence|- netmask ops      -E
///     D   proto address port mark                                                 -D
///     C                                                                           -C
///     a   proto address port mark server-address server-port weight uthreshold lthreshold   -a
///     e   proto address port mark server-address server-port weight uthreshold lthreshold   -e
///     d   proto address port mark server-address server-port                      -d
///     Z   [proto address port mark]                                               -Z
///     T   tcp tcpfin udp                                                     --set
///
/// `proto` is the IP protocol number (6, 17); `mark` the firewall mark of a `-f` service (0 for
/// `-t`/`-u`); `flags` the scheduler flag bits (0...7); `ops`
/// 0 or 1. The decoder checks each field's syntax and the ranges ipvsadm's parser guarantees
/// (a weight 0...65535, thresholds 0...2^31-1, timeouts up to 31 days, a scheduler name of at
/// most 15 bytes); the table rules (a service that exists, a known scheduler, `-y` not above
/// `-x`) are `DirectorConfiguration.apply`'s and the engine's, as for any other change.
///
/// Commands that do not change the table (`-L`, `-S`, ...) have no record: they are written as
/// their ipvsadm spelling, which the decoder refuses by name.
public enum ChangeCodec {
    /// Appends one command's record and its line feed.
    public static func encode(_ command: IpvsadmCommand, into out: inout [UInt8]) {
        switch command {
        case .addService(let service):
            out.append(UInt8(ascii: "A"))
            service_(service, into: &out)
        case .editService(let service):
            out.append(UInt8(ascii: "E"))
            service_(service, into: &out)
        case .deleteService(let key):
            out.append(UInt8(ascii: "D"))
            self.key(key, into: &out)
        case .clear:
            out.append(UInt8(ascii: "C"))
        case .addServer(let key, let server):
            out.append(UInt8(ascii: "a"))
            self.key(key, into: &out)
            self.server(server, into: &out)
        case .editServer(let key, let server):
            out.append(UInt8(ascii: "e"))
            self.key(key, into: &out)
            self.server(server, into: &out)
        case .deleteServer(let key, let address, let port):
            out.append(UInt8(ascii: "d"))
            self.key(key, into: &out)
            tab(&out); decimal(address, into: &out)
            tab(&out); decimal(UInt64(port), into: &out)
        case .zero(let key):
            out.append(UInt8(ascii: "Z"))
            if let key { self.key(key, into: &out) }
        case .setTimeouts(let t):
            out.append(UInt8(ascii: "T"))
            tab(&out); decimal(UInt64(t.tcp), into: &out)
            tab(&out); decimal(UInt64(t.tcpFin), into: &out)
            tab(&out); decimal(UInt64(t.udp), into: &out)
        case .list, .save, .restore, .startDaemon, .stopDaemon, .help, .version:
            out.append(contentsOf: IpvsadmCommandLine.spelling(of: command).utf8)
        }
        out.append(UInt8(ascii: "\n"))
    }

    /// The record of one command, without its line feed (for messages and tests).
    public static func record(_ command: IpvsadmCommand) -> String {
        var bytes: [UInt8] = []
        encode(command, into: &bytes)
        bytes.removeLast()
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Reads one record (no line feed). `number` is the record's position, for messages.
    public static func decode(_ record: UnsafeBufferPointer<UInt8>, number: Int) throws(ControlProtocolError) -> IpvsadmCommand {
        var f = ByteFields(record, record: number)
        let kind = try f.field()
        guard kind.count == 1 else { throw f.unknownKind(kind) }
        let command: IpvsadmCommand
        switch kind[kind.startIndex] {
        case UInt8(ascii: "A"):
            command = .addService(try f.service())
        case UInt8(ascii: "E"):
            command = .editService(try f.service())
        case UInt8(ascii: "D"):
            command = .deleteService(try f.key())
        case UInt8(ascii: "C"):
            command = .clear
        case UInt8(ascii: "a"):
            command = .addServer(try f.key(), try f.server())
        case UInt8(ascii: "e"):
            command = .editServer(try f.key(), try f.server())
        case UInt8(ascii: "d"):
            command = .deleteServer(try f.key(), address: try f.address(), port: UInt16(try f.number(0...65535)))
        case UInt8(ascii: "Z"):
            command = .zero(f.atEnd ? nil : try f.key())
        case UInt8(ascii: "T"):
            command = .setTimeouts(TimeoutSetting(tcp: UInt32(try f.number(0...maximumTimeout)),
                                                  tcpFin: UInt32(try f.number(0...maximumTimeout)),
                                                  udp: UInt32(try f.number(0...maximumTimeout))))
        default:
            throw f.unknownKind(kind)
        }
        try f.end()
        return command
    }

    /// Reads every record of a change request's body (the lines after the header).
    public static func decodeAll(_ body: UnsafeBufferPointer<UInt8>) throws(ControlProtocolError) -> [IpvsadmCommand] {
        var commands: [IpvsadmCommand] = []
        var start = 0
        var number = 0
        let count = body.count
        while start < count {
            var end = start
            while end < count && body[end] != UInt8(ascii: "\n") { end += 1 }
            guard end > start else { throw ControlProtocolError("empty command line in a change request") }
            number += 1
            let record = UnsafeBufferPointer(rebasing: body[start..<end])
            commands.append(try decode(record, number: number))
            start = end + 1
        }
        return commands
    }

    /// `--set`'s and `-p`'s upper bound (31 days), as the parser checks it.
    static let maximumTimeout: Int64 = 86_400 * 31

    // MARK: Writing

    static func service_(_ s: VirtualServiceConfig, into out: inout [UInt8]) {
        key(s.key, into: &out)
        // A tab or line feed could only come from a command-line argument (`-s "a<TAB>b"`);
        // no scheduler has one, so '?' in its place is refused the same way ("not found").
        tab(&out)
        for byte in s.scheduler.utf8 {
            out.append(byte == UInt8(ascii: "\t") || byte == UInt8(ascii: "\n") ? UInt8(ascii: "?") : byte)
        }
        tab(&out); decimal(UInt64(s.schedulerFlags.rawValue), into: &out)
        tab(&out)
        if let p = s.persistence { decimal(UInt64(p.timeout), into: &out) } else { out.append(UInt8(ascii: "-")) }
        tab(&out); decimal(s.persistence?.netmask ?? IPv4Address(0xFFFF_FFFF), into: &out)
        tab(&out); out.append(s.onePacketScheduling ? UInt8(ascii: "1") : UInt8(ascii: "0"))
    }

    static func key(_ key: VirtualServiceKey, into out: inout [UInt8]) {
        tab(&out); decimal(UInt64(key.transport.rawValue), into: &out)
        tab(&out); decimal(key.address, into: &out)
        tab(&out); decimal(UInt64(key.port), into: &out)
        tab(&out); decimal(UInt64(key.firewallMark), into: &out)
    }

    static func server(_ r: RealServerConfig, into out: inout [UInt8]) {
        tab(&out); decimal(r.address, into: &out)
        tab(&out); decimal(UInt64(r.port), into: &out)
        tab(&out)
        if r.weight < 0 { out.append(UInt8(ascii: "-")) }
        decimal(UInt64(r.weight.magnitude), into: &out)
        tab(&out); decimal(UInt64(r.upperThreshold), into: &out)
        tab(&out); decimal(UInt64(r.lowerThreshold), into: &out)
    }

    @inline(__always)
    static func tab(_ out: inout [UInt8]) { out.append(UInt8(ascii: "\t")) }

    /// Decimal digits without a String in between.
    @inline(__always)
    static func decimal(_ value: UInt64, into out: inout [UInt8]) { out.appendDecimal(value) }

    /// A dotted quad without a String in between.
    @inline(__always)
    static func decimal(_ address: IPv4Address, into out: inout [UInt8]) { out.appendDottedQuad(address) }
}

/// A cursor over one record's tab-separated fields, on bytes.
struct ByteFields {
    let bytes: UnsafeBufferPointer<UInt8>
    var position = 0
    var fieldNumber = 0
    let record: Int
    /// How messages name the record ("change record 3", "status line 7").
    let label: StaticString

    init(_ bytes: UnsafeBufferPointer<UInt8>, record: Int, label: StaticString = "change record") {
        self.bytes = bytes
        self.record = record
        self.label = label
    }

    var atEnd: Bool { position > bytes.count }

    func error(_ expected: String) -> ControlProtocolError {
        ControlProtocolError("\(label) \(record), field \(fieldNumber): expected \(expected)")
    }

    func unknownKind(_ kind: Slice<UnsafeBufferPointer<UInt8>>) -> ControlProtocolError {
        let text = String(decoding: kind, as: UTF8.self)
        if text.hasPrefix("-") {
            return ControlProtocolError(
                "'\(text)' does not change the table; a change request takes -A -E -D -C -a -e -d -Z --set")
        }
        return ControlProtocolError("change record \(record): unknown command '\(text.prefix(20))'")
    }

    /// The next field (possibly empty); an error past the last one.
    mutating func field() throws(ControlProtocolError) -> Slice<UnsafeBufferPointer<UInt8>> {
        guard position <= bytes.count else { throw error("another field") }
        fieldNumber += 1
        var end = position
        while end < bytes.count && bytes[end] != UInt8(ascii: "\t") { end += 1 }
        let slice = bytes[position..<end]
        position = end + 1
        return slice
    }

    func end() throws(ControlProtocolError) {
        guard position > bytes.count else { throw error("the end of the record") }
    }

    /// Plain decimal digits (no sign, no blanks), in `range`.
    mutating func number(_ range: ClosedRange<Int64>) throws(ControlProtocolError) -> Int64 {
        guard let value = Self.digits(try field()), range.contains(value) else { throw error("a number in \(range)") }
        return value
    }

    static func digits(_ f: Slice<UnsafeBufferPointer<UInt8>>) -> Int64? {
        guard !f.isEmpty, f.count <= 18 else { return nil }
        var value: Int64 = 0
        for byte in f {
            guard byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") else { return nil }
            value = value * 10 + Int64(byte &- UInt8(ascii: "0"))
        }
        return value
    }

    mutating func address() throws(ControlProtocolError) -> IPv4Address {
        let f = try field()
        guard let a = ByteFields.dottedQuad(f) else { throw error("an IPv4 address") }
        return a
    }

    /// Four decimal octets 0...255, at most three digits each.
    static func dottedQuad(_ f: Slice<UnsafeBufferPointer<UInt8>>) -> IPv4Address? {
        var address: UInt32 = 0
        var octets = 0
        var current: UInt32 = 0
        var digits = 0
        for byte in f {
            if byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") {
                current = current * 10 + UInt32(byte &- UInt8(ascii: "0"))
                digits += 1
                if digits > 3 || current > 255 { return nil }
            } else if byte == UInt8(ascii: ".") {
                if digits == 0 || octets == 3 { return nil }
                address = address << 8 | current
                octets += 1
                current = 0
                digits = 0
            } else {
                return nil
            }
        }
        guard digits > 0, octets == 3 else { return nil }
        return IPv4Address(address << 8 | current)
    }

    mutating func key() throws(ControlProtocolError) -> VirtualServiceKey {
        guard let transport = TransportProtocol(rawValue: UInt8(try number(0...255))) else {
            throw error("a protocol number (6 or 17)")
        }
        var key = VirtualServiceKey(transport: transport, address: try address(), port: UInt16(try number(0...65535)))
        key.firewallMark = UInt32(try number(0...Int64(UInt32.max)))
        // A mark service has no address or port (`VirtualServiceKey.firewallMark`).
        guard key.firewallMark == 0 || (key.address.value == 0 && key.port == 0) else {
            throw error("a firewall-mark key with address 0.0.0.0 and port 0")
        }
        return key
    }

    mutating func service() throws(ControlProtocolError) -> VirtualServiceConfig {
        let key = try key()
        let name = try field()
        // ipvsadm keeps at most 15 bytes of a scheduler name (and uses wlc for an empty one).
        guard !name.isEmpty, name.count <= 15 else { throw error("a scheduler name (1 to 15 bytes)") }
        let scheduler = String(decoding: name, as: UTF8.self)
        let flags = SchedulerFlags(rawValue: UInt8(try number(0...7)))
        let timeoutField = try field()
        var timeout: UInt32?
        if !(timeoutField.count == 1 && timeoutField.first == UInt8(ascii: "-")) {
            guard let t = Self.digits(timeoutField), (1...ChangeCodec.maximumTimeout).contains(t) else {
                throw error("a persistence timeout (1...\(ChangeCodec.maximumTimeout)) or -")
            }
            timeout = UInt32(t)
        }
        let netmask = try address()
        let ops = try number(0...1)
        return VirtualServiceConfig(key: key, scheduler: scheduler, schedulerFlags: flags,
                                    persistence: timeout.map { Persistence(timeout: $0, netmask: netmask) },
                                    onePacketScheduling: ops == 1)
    }

    mutating func server() throws(ControlProtocolError) -> RealServerConfig {
        let address = try address()
        let port = UInt16(try number(0...65535))
        let weight = Int32(try number(0...65535))
        let upper = UInt32(try number(0...Int64(Int32.max)))
        let lower = UInt32(try number(0...Int64(Int32.max)))
        return RealServerConfig(address: address, port: port, weight: weight, upperThreshold: upper,
                                lowerThreshold: lower)
    }
}
