import LVSCore

/// `DirectorStatus` as lines of tab-separated fields, one record per line:
///
///     size        capacity
///     timeouts    tcp tcpfin udp
///     service     proto address port fwmark scheduler flags persistence|- netmask ops  + 10 traffic numbers
///     dest        address port weight uthreshold lthreshold active inactive persistent + 10 traffic numbers
///     connections count        (present when the entries were asked for; the `conn` lines follow)
///     conn        proto state expires-ms caddr cport vaddr vport daddr dport template fwmark
///     conflict    vip mac sender-address count seconds-since-last
///
/// `dest` lines belong to the `service` line before them, in kernel list order. The 10 traffic
/// numbers are conns inpkts outpkts inbytes outbytes cps inpps outpps inbps outbps. `fwmark` is
/// the firewall mark of a `-f` service (address 0.0.0.0, port 0), and of a `conn` that is such
/// a service's persistence template; 0 otherwise.
/// A hand-written format rather than JSON: the daemon stays free of Foundation, and 10 000
/// services encode and decode in a few milliseconds (both sides work on bytes: no `String`
/// per number, no array of fields per line).
public enum StatusCodec {
    public static func encode(_ status: DirectorStatus) -> String {
        var out: [UInt8] = []
        encode(status, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// Appends the records to `out`.
    public static func encode(_ status: DirectorStatus, into out: inout [UInt8]) {
        let destinations = status.services.reduce(0) { $0 + $1.destinations.count }
        out.reserveCapacity(out.count + 64 + status.services.count * 80 + destinations * 64
            + (status.connections?.count ?? 0) * 96)
        out.appendText("size\t")
        out.appendDecimal(Int64(status.connectionTableSize))
        out.appendText("\ntimeouts\t")
        out.appendDecimal(UInt64(status.timeouts.tcp))
        out.append(0x09)
        out.appendDecimal(UInt64(status.timeouts.tcpFin))
        out.append(0x09)
        out.appendDecimal(UInt64(status.timeouts.udp))
        out.append(0x0A)
        for service in status.services {
            let c = service.config
            out.appendText("service\t")
            out.appendDecimal(UInt64(c.key.transport.rawValue))
            out.append(0x09)
            out.appendDottedQuad(c.key.address)
            out.append(0x09)
            out.appendDecimal(UInt64(c.key.port))
            out.append(0x09)
            out.appendDecimal(UInt64(c.key.firewallMark))
            out.append(0x09)
            out.appendText(c.scheduler)
            out.append(0x09)
            out.appendDecimal(UInt64(c.schedulerFlags.rawValue))
            out.append(0x09)
            if let p = c.persistence { out.appendDecimal(UInt64(p.timeout)) } else { out.append(UInt8(ascii: "-")) }
            out.append(0x09)
            out.appendDottedQuad(c.persistence?.netmask ?? IPv4Address(0xFFFF_FFFF))
            out.append(0x09)
            out.append(c.onePacketScheduling ? UInt8(ascii: "1") : UInt8(ascii: "0"))
            traffic(service.stats, service.rates, into: &out)
            for d in service.destinations {
                let r = d.config
                out.appendText("dest\t")
                out.appendDottedQuad(r.address)
                out.append(0x09)
                out.appendDecimal(UInt64(r.port))
                out.append(0x09)
                out.appendDecimal(Int64(r.weight))
                out.append(0x09)
                out.appendDecimal(UInt64(r.upperThreshold))
                out.append(0x09)
                out.appendDecimal(UInt64(r.lowerThreshold))
                out.append(0x09)
                out.appendDecimal(UInt64(d.activeConnections))
                out.append(0x09)
                out.appendDecimal(UInt64(d.inactiveConnections))
                out.append(0x09)
                out.appendDecimal(UInt64(d.persistentConnections))
                traffic(d.stats, d.rates, into: &out)
            }
        }
        if let connections = status.connections {
            out.appendText("connections\t")
            out.appendDecimal(UInt64(connections.count))
            out.append(0x0A)
            for e in connections {
                out.appendText("conn\t")
                out.appendDecimal(UInt64(e.transport.rawValue))
                out.append(0x09)
                out.appendText(e.state)
                out.append(0x09)
                out.appendDecimal(e.expiresInMilliseconds)
                out.append(0x09)
                out.appendDottedQuad(e.clientAddress)
                out.append(0x09)
                out.appendDecimal(UInt64(e.clientPort))
                out.append(0x09)
                out.appendDottedQuad(e.virtualAddress)
                out.append(0x09)
                out.appendDecimal(UInt64(e.virtualPort))
                out.append(0x09)
                out.appendDottedQuad(e.destinationAddress)
                out.append(0x09)
                out.appendDecimal(UInt64(e.destinationPort))
                out.append(0x09)
                out.append(e.isTemplate ? UInt8(ascii: "1") : UInt8(ascii: "0"))
                out.append(0x09)
                out.appendDecimal(UInt64(e.firewallMark))
                out.append(0x0A)
            }
        }
        if let c = status.vipConflict {
            out.appendText("conflict\t")
            out.appendDottedQuad(c.vip)
            out.append(0x09)
            out.appendText(c.mac.description)
            out.append(0x09)
            out.appendDottedQuad(c.senderAddress)
            out.append(0x09)
            out.appendDecimal(c.count)
            out.append(0x09)
            out.appendDecimal(c.secondsSinceLast)
            out.append(0x0A)
        }
    }

    /// The 10 traffic numbers, each after a tab, then the line feed.
    static func traffic(_ s: TrafficStats, _ r: TrafficRates, into out: inout [UInt8]) {
        for value in [s.connections, s.inPackets, s.outPackets, s.inBytes, s.outBytes, r.connectionsPerSecond,
                      r.inPacketsPerSecond, r.outPacketsPerSecond, r.inBytesPerSecond, r.outBytesPerSecond] {
            out.append(0x09)
            out.appendDecimal(value)
        }
        out.append(0x0A)
    }

    public static func decode(_ text: Substring) throws(ControlProtocolError) -> DirectorStatus {
        var text = text
        return try text.withUTF8 { bytes in Result { () throws(ControlProtocolError) in try decode(bytes) } }.get()
    }

    /// Reads the records from their bytes.
    public static func decode(_ bytes: UnsafeBufferPointer<UInt8>) throws(ControlProtocolError) -> DirectorStatus {
        var status = DirectorStatus(connectionTableSize: 0, timeouts: TimeoutSetting(tcp: 0, tcpFin: 0, udp: 0))
        // Each service's configuration lists its servers in -a order, the reverse of the
        // kernel's list that the dest lines follow: collected, then reversed once.
        var pending: [RealServerConfig] = []
        func finishService() {
            guard !status.services.isEmpty, !pending.isEmpty else { return }
            status.services[status.services.count - 1].config.realServers = pending.reversed()
            pending.removeAll(keepingCapacity: true)
        }
        var lineNumber = 1
        var start = 0
        let count = bytes.count
        while start < count {
            var end = start
            while end < count && bytes[end] != 0x0A { end += 1 }
            defer { start = end + 1 }
            // Empty lines are skipped, as before.
            guard end > start else { continue }
            lineNumber += 1
            var fields = ByteFields(UnsafeBufferPointer(rebasing: bytes[start..<end]), record: lineNumber,
                                    label: "status line")
            let word = try fields.field()
            switch Record(word) {
            case .size:
                status.connectionTableSize = Int(try fields.number(0...Int64.max))
            case .timeouts:
                status.timeouts = TimeoutSetting(tcp: try fields.u32(), tcpFin: try fields.u32(), udp: try fields.u32())
            case .service:
                finishService()
                let transport = try fields.transport()
                var key = VirtualServiceKey(transport: transport, address: try fields.address(), port: try fields.u16())
                key.firewallMark = try fields.u32()
                let name = try fields.field()
                var config = VirtualServiceConfig(key: key, scheduler: String(decoding: name, as: UTF8.self))
                config.schedulerFlags = SchedulerFlags(rawValue: try fields.u8())
                let persistence = try fields.field()
                let netmask = try fields.address()
                if !(persistence.count == 1 && persistence.first == UInt8(ascii: "-")) {
                    guard let timeout = ByteFields.unsigned(persistence), timeout <= UInt64(UInt32.max) else {
                        throw fields.error("persistence timeout")
                    }
                    config.persistence = Persistence(timeout: UInt32(timeout), netmask: netmask)
                }
                config.onePacketScheduling = try fields.u8() != 0
                let (stats, rates) = try fields.traffic()
                status.services.append(ServiceStatus(config: config, stats: stats, rates: rates))
            case .dest:
                guard !status.services.isEmpty else { throw fields.error("a service line before this dest line") }
                let server = RealServerConfig(address: try fields.address(), port: try fields.u16(),
                                              weight: try fields.i32(), upperThreshold: try fields.u32(),
                                              lowerThreshold: try fields.u32())
                var d = DestinationStatus(config: server, activeConnections: try fields.u32(),
                                          inactiveConnections: try fields.u32(),
                                          persistentConnections: try fields.u32())
                (d.stats, d.rates) = try fields.traffic()
                status.services[status.services.count - 1].destinations.append(d)
                pending.append(server)
            case .connections:
                let n = try fields.number(0...Int64(Int32.max))
                status.connections = []
                status.connections?.reserveCapacity(Int(n))
            case .conn:
                let entry = ConnectionStatus(
                    transport: try fields.transport(), state: String(decoding: try fields.field(), as: UTF8.self),
                    expiresInMilliseconds: try fields.u64(), clientAddress: try fields.address(),
                    clientPort: try fields.u16(), virtualAddress: try fields.address(), virtualPort: try fields.u16(),
                    destinationAddress: try fields.address(), destinationPort: try fields.u16(),
                    isTemplate: try fields.u8() != 0, firewallMark: try fields.u32())
                guard status.connections != nil else { throw fields.error("a connections line before this conn line") }
                status.connections?.append(entry)
            case .conflict:
                let vip = try fields.address()
                guard let mac = MACAddress(String(decoding: try fields.field(), as: UTF8.self)) else {
                    throw fields.error("a MAC address")
                }
                status.vipConflict = VIPConflict(vip: vip, mac: mac, senderAddress: try fields.address(),
                                                 count: try fields.u64(), secondsSinceLast: try fields.u64())
            case nil:
                throw ControlProtocolError(
                    "status line \(lineNumber): unknown record '\(String(decoding: word.prefix(40), as: UTF8.self))'")
            }
            try fields.end()
        }
        finishService()
        return status
    }

    /// The record kinds, told apart by their bytes.
    enum Record {
        case size, timeouts, service, dest, connections, conn, conflict

        init?(_ word: Slice<UnsafeBufferPointer<UInt8>>) {
            func equals(_ text: StaticString) -> Bool {
                guard word.count == text.utf8CodeUnitCount else { return false }
                var i = word.startIndex
                for k in 0..<text.utf8CodeUnitCount {
                    guard word[i] == text.utf8Start[k] else { return false }
                    i += 1
                }
                return true
            }
            if equals("dest") {
                self = .dest
            } else if equals("service") {
                self = .service
            } else if equals("conn") {
                self = .conn
            } else if equals("size") {
                self = .size
            } else if equals("timeouts") {
                self = .timeouts
            } else if equals("connections") {
                self = .connections
            } else if equals("conflict") {
                self = .conflict
            } else {
                return nil
            }
        }
    }
}

extension ByteFields {
    /// Plain decimal digits as a UInt64 (nil when empty, not digits, or too large).
    static func unsigned(_ f: Slice<UnsafeBufferPointer<UInt8>>) -> UInt64? {
        guard !f.isEmpty, f.count <= 20 else { return nil }
        var value: UInt64 = 0
        for byte in f {
            guard byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") else { return nil }
            let (times10, o1) = value.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times10.addingReportingOverflow(UInt64(byte &- UInt8(ascii: "0")))
            guard !o1, !o2 else { return nil }
            value = sum
        }
        return value
    }

    mutating func u64() throws(ControlProtocolError) -> UInt64 {
        guard let v = Self.unsigned(try field()) else { throw error("a number (UInt64)") }
        return v
    }

    mutating func u32() throws(ControlProtocolError) -> UInt32 {
        guard let v = Self.unsigned(try field()), v <= UInt64(UInt32.max) else { throw error("a number (UInt32)") }
        return UInt32(v)
    }

    mutating func u16() throws(ControlProtocolError) -> UInt16 {
        guard let v = Self.unsigned(try field()), v <= UInt64(UInt16.max) else { throw error("a number (UInt16)") }
        return UInt16(v)
    }

    mutating func u8() throws(ControlProtocolError) -> UInt8 {
        guard let v = Self.unsigned(try field()), v <= UInt64(UInt8.max) else { throw error("a number (UInt8)") }
        return UInt8(v)
    }

    /// An optional '-', then digits, in Int32.
    mutating func i32() throws(ControlProtocolError) -> Int32 {
        var f = try field()
        let negative = f.first == UInt8(ascii: "-")
        if negative { f = f.dropFirst() }
        guard let magnitude = Self.unsigned(f), magnitude <= (negative ? 1 << 31 : UInt64(Int32.max)) else {
            throw error("a number (Int32)")
        }
        return negative ? Int32(truncatingIfNeeded: 0 &- Int64(magnitude)) : Int32(magnitude)
    }

    mutating func transport() throws(ControlProtocolError) -> TransportProtocol {
        guard let t = TransportProtocol(rawValue: try u8()) else { throw error("a protocol number (6 or 17)") }
        return t
    }

    mutating func traffic() throws(ControlProtocolError) -> (TrafficStats, TrafficRates) {
        var s = TrafficStats()
        var r = TrafficRates()
        s.connections = try u64()
        s.inPackets = try u64()
        s.outPackets = try u64()
        s.inBytes = try u64()
        s.outBytes = try u64()
        r.connectionsPerSecond = try u64()
        r.inPacketsPerSecond = try u64()
        r.outPacketsPerSecond = try u64()
        r.inBytesPerSecond = try u64()
        r.outBytesPerSecond = try u64()
        return (s, r)
    }
}
