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
/// services encode and decode in a few milliseconds.
public enum StatusCodec {
    public static func encode(_ status: DirectorStatus) -> String {
        var out = "size\t\(status.connectionTableSize)\n"
        out += "timeouts\t\(status.timeouts.tcp)\t\(status.timeouts.tcpFin)\t\(status.timeouts.udp)\n"
        for service in status.services {
            let c = service.config
            let persistence = c.persistence.map { "\($0.timeout)" } ?? "-"
            let netmask = c.persistence?.netmask ?? IPv4Address(0xFFFF_FFFF)
            out += "service\t\(c.key.transport.rawValue)\t\(c.key.address)\t\(c.key.port)\t\(c.key.firewallMark)\t"
            out += "\(c.scheduler)\t"
            out += "\(c.schedulerFlags.rawValue)\t\(persistence)\t\(netmask)\t\(c.onePacketScheduling ? 1 : 0)\t"
            out += traffic(service.stats, service.rates) + "\n"
            for d in service.destinations {
                let r = d.config
                out += "dest\t\(r.address)\t\(r.port)\t\(r.weight)\t\(r.upperThreshold)\t\(r.lowerThreshold)\t"
                out += "\(d.activeConnections)\t\(d.inactiveConnections)\t\(d.persistentConnections)\t"
                out += traffic(d.stats, d.rates) + "\n"
            }
        }
        if let connections = status.connections {
            out += "connections\t\(connections.count)\n"
            for e in connections {
                out += "conn\t\(e.transport.rawValue)\t\(e.state)\t\(e.expiresInMilliseconds)\t\(e.clientAddress)\t"
                out += "\(e.clientPort)\t\(e.virtualAddress)\t\(e.virtualPort)\t\(e.destinationAddress)\t"
                out += "\(e.destinationPort)\t\(e.isTemplate ? 1 : 0)\t\(e.firewallMark)\n"
            }
        }
        if let c = status.vipConflict {
            out += "conflict\t\(c.vip)\t\(c.mac)\t\(c.senderAddress)\t\(c.count)\t\(c.secondsSinceLast)\n"
        }
        return out
    }

    static func traffic(_ s: TrafficStats, _ r: TrafficRates) -> String {
        [s.connections, s.inPackets, s.outPackets, s.inBytes, s.outBytes, r.connectionsPerSecond,
         r.inPacketsPerSecond, r.outPacketsPerSecond, r.inBytesPerSecond, r.outBytesPerSecond]
            .map(String.init).joined(separator: "\t")
    }

    public static func decode(_ text: Substring) throws(ControlProtocolError) -> DirectorStatus {
        var status = DirectorStatus(connectionTableSize: 0, timeouts: TimeoutSetting(tcp: 0, tcpFin: 0, udp: 0))
        var lineNumber = 1
        for line in text.split(separator: "\n") {
            lineNumber += 1
            var fields = Fields(line.split(separator: "\t", omittingEmptySubsequences: false), line: lineNumber)
            switch try fields.word() {
            case "size":
                status.connectionTableSize = try fields.number()
            case "timeouts":
                status.timeouts = TimeoutSetting(tcp: try fields.number(), tcpFin: try fields.number(), udp: try fields.number())
            case "service":
                let transport = try fields.transport()
                var key = VirtualServiceKey(transport: transport, address: try fields.address(), port: try fields.number())
                key.firewallMark = try fields.number()
                var config = VirtualServiceConfig(key: key, scheduler: String(try fields.word()))
                config.schedulerFlags = SchedulerFlags(rawValue: try fields.number())
                let persistence = try fields.word()
                let netmask = try fields.address()
                if persistence != "-" {
                    guard let timeout = UInt32(persistence) else { throw fields.error("persistence timeout") }
                    config.persistence = Persistence(timeout: timeout, netmask: netmask)
                }
                config.onePacketScheduling = try fields.number() as UInt8 != 0
                let (stats, rates) = try fields.traffic()
                status.services.append(ServiceStatus(config: config, stats: stats, rates: rates))
            case "dest":
                guard !status.services.isEmpty else { throw fields.error("a service line before this dest line") }
                let server = RealServerConfig(address: try fields.address(), port: try fields.number(),
                                              weight: try fields.number(), upperThreshold: try fields.number(),
                                              lowerThreshold: try fields.number())
                var d = DestinationStatus(config: server, activeConnections: try fields.number(),
                                          inactiveConnections: try fields.number(),
                                          persistentConnections: try fields.number())
                (d.stats, d.rates) = try fields.traffic()
                status.services[status.services.count - 1].destinations.append(d)
                // The configuration lists servers in -a order: the reverse of the kernel's list.
                status.services[status.services.count - 1].config.realServers.insert(server, at: 0)
            case "connections":
                let count: Int = try fields.number()
                status.connections = []
                status.connections?.reserveCapacity(count)
            case "conn":
                let entry = ConnectionStatus(
                    transport: try fields.transport(), state: String(try fields.word()),
                    expiresInMilliseconds: try fields.number(), clientAddress: try fields.address(),
                    clientPort: try fields.number(), virtualAddress: try fields.address(), virtualPort: try fields.number(),
                    destinationAddress: try fields.address(), destinationPort: try fields.number(),
                    isTemplate: try fields.number() as UInt8 != 0, firewallMark: try fields.number())
                guard status.connections != nil else { throw fields.error("a connections line before this conn line") }
                status.connections?.append(entry)
            case "conflict":
                let vip = try fields.address()
                guard let mac = MACAddress(try fields.word()) else { throw fields.error("a MAC address") }
                status.vipConflict = VIPConflict(vip: vip, mac: mac, senderAddress: try fields.address(),
                                                 count: try fields.number(), secondsSinceLast: try fields.number())
            case let other:
                throw ControlProtocolError("status line \(lineNumber): unknown record '\(other)'")
            }
            try fields.end()
        }
        return status
    }

    /// A cursor over one record's fields that names what it expected when a field is wrong.
    struct Fields {
        var items: [Substring]
        var next = 0
        let line: Int

        init(_ items: [Substring], line: Int) {
            self.items = items
            self.line = line
        }

        func error(_ expected: String) -> ControlProtocolError {
            ControlProtocolError("status line \(line), field \(next): expected \(expected)")
        }

        mutating func word() throws(ControlProtocolError) -> Substring {
            guard next < items.count else { throw error("another field") }
            next += 1
            return items[next - 1]
        }

        mutating func number<T: FixedWidthInteger>() throws(ControlProtocolError) -> T {
            guard let v = T(try word()) else { throw error("a number (\(T.self))") }
            return v
        }

        mutating func address() throws(ControlProtocolError) -> IPv4Address {
            guard let a = IPv4Address(try word()) else { throw error("an IPv4 address") }
            return a
        }

        mutating func transport() throws(ControlProtocolError) -> TransportProtocol {
            guard let t = TransportProtocol(rawValue: try number()) else { throw error("a protocol number (6 or 17)") }
            return t
        }

        mutating func traffic() throws(ControlProtocolError) -> (TrafficStats, TrafficRates) {
            var s = TrafficStats()
            var r = TrafficRates()
            s.connections = try number()
            s.inPackets = try number()
            s.outPackets = try number()
            s.inBytes = try number()
            s.outBytes = try number()
            r.connectionsPerSecond = try number()
            r.inPacketsPerSecond = try number()
            r.outPacketsPerSecond = try number()
            r.inBytesPerSecond = try number()
            r.outBytesPerSecond = try number()
            return (s, r)
        }

        func end() throws(ControlProtocolError) {
            guard next == items.count else { throw error("the end of the record") }
        }
    }
}
