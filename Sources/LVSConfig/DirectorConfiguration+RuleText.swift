import LVSCore

extension DirectorConfiguration {
    /// The table as ipvsadm rule lines in their full canonical form (`-A` per service, then
    /// `-a` per real server in `-a` order), after `header` (lvsd's saved table). Unlike
    /// `ipvsadm -S` it keeps the thresholds (`-x`, `-y`), so nothing is lost across a restart;
    /// `IpvsadmCommandLine.parseRestore` reads it back to the same table.
    ///
    /// Each line is `canonicalArguments` joined with spaces, written as bytes (lvsd rewrites
    /// this on every change, 50 000 lines for 10 000 services).
    public func canonicalRuleText(header: String = "") -> String {
        var out: [UInt8] = []
        out.reserveCapacity(header.utf8.count + services.count * 48 + services.reduce(0) { $0 + $1.realServers.count } * 64)
        out.appendText(header)
        for service in services {
            out.appendText("-A ")
            Self.appendSelector(service.key, to: &out)
            out.appendText(" -s ")
            out.appendText(service.scheduler)
            if let persistence = service.persistence {
                out.appendText(" -p ")
                out.appendDecimal(UInt64(persistence.timeout))
                out.appendText(" -M ")
                out.appendDottedQuad(persistence.netmask)
            }
            if !service.schedulerFlags.isEmpty {
                out.appendText(" -b ")
                out.appendText(IpvsadmCommand.schedulerFlagsText(service.schedulerFlags, scheduler: service.scheduler))
            }
            if service.onePacketScheduling { out.appendText(" -o") }
            out.append(0x0A)
            for server in service.realServers {
                out.appendText("-a ")
                Self.appendSelector(service.key, to: &out)
                out.appendText(" -r ")
                out.appendDottedQuad(server.address)
                out.append(0x3A)
                out.appendDecimal(UInt64(server.port))
                out.appendText(" -g -w ")
                out.appendDecimal(Int64(server.weight))
                out.appendText(" -x ")
                out.appendDecimal(UInt64(server.upperThreshold))
                out.appendText(" -y ")
                out.appendDecimal(UInt64(server.lowerThreshold))
                out.append(0x0A)
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// `-t|-u ADDRESS:PORT`.
    static func appendSelector(_ key: VirtualServiceKey, to out: inout [UInt8]) {
        out.appendText(key.transport == .tcp ? "-t " : "-u ")
        out.appendDottedQuad(key.address)
        out.append(0x3A)
        out.appendDecimal(UInt64(key.port))
    }
}
