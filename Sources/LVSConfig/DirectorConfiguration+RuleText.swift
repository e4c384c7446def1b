import LVSCore

extension DirectorConfiguration {
    /// The table as ipvsadm rule lines in their full canonical form (`-A` per service, then
    /// `-a` per real server in `-a` order), after `header` (lvsd's saved table). Unlike
    /// `ipvsadm -S` it keeps the thresholds (`-x`, `-y`), so nothing is lost across a restart;
    /// `IpvsadmCommandLine.parseRestore` reads it back to the same table.
    public func canonicalRuleText(header: String = "") -> String {
        var out = header
        for service in services {
            var bare = service
            bare.realServers = []
            out += IpvsadmCommand.addService(bare).canonicalArguments.joined(separator: " ") + "\n"
            for server in service.realServers {
                out += IpvsadmCommand.addServer(service.key, server).canonicalArguments.joined(separator: " ") + "\n"
            }
        }
        return out
    }
}
