import LVSCore

extension ListingFormatter {
    /// `-L -c` (`list_conn`): ipvsadm re-prints /proc/net/ip_vs_conn, one line per connection
    /// or persistence template, in the order the table gives them.
    ///
    /// The expiry is the kernel's whole seconds left (milliseconds / 1000, truncated) shown as
    /// `%02d:%02d` minutes and seconds; minutes are not capped, so a 900 s TCP entry reads
    /// `15:00` and a long persistence template can show three digits. Addresses go through the
    /// same name lookup as the other listings (`-n` or not), never truncated but by the 59-byte
    /// name buffer.
    ///
    /// `--persistent-conn` widens the header with `pe name` and `pe_data`, but a row only gets
    /// those columns when the kernel line carries persistence-engine data (the SIP engine,
    /// `--pe sip`). lvsd has no persistence engine, so its rows keep the plain layout under the
    /// wide header, as ipvsadm's do for every connection without engine data.
    static func connections<Names: NameResolver>(_ entries: [ConnectionStatus], showsPersistenceEngine: Bool,
                                                 namer: EndpointNamer<Names>) -> String {
        var out = "IPVS connection entries\n"
        if showsPersistenceEngine {
            // "pro expire %-11s %-18s %-18s %-18s %-16s %s\n"
            out += "pro expire " + TextColumn.left("state", 11) + " " + TextColumn.left("source", 18) + " "
                + TextColumn.left("virtual", 18) + " " + TextColumn.left("destination", 18) + " "
                + TextColumn.left("pe name", 16) + " pe_data\n"
        } else {
            // "pro expire %-11s %-18s %-18s %s\n"
            out += "pro expire " + TextColumn.left("state", 11) + " " + TextColumn.left("source", 18) + " "
                + TextColumn.left("virtual", 18) + " destination\n"
        }
        for entry in entries {
            out += connectionLine(entry, namer: namer)
        }
        return out
    }

    /// "%-3s %-6s %-11s %-18s %-18s %s\n": protocol, mm:ss, state, client, virtual, real server.
    static func connectionLine<Names: NameResolver>(_ entry: ConnectionStatus, namer: EndpointNamer<Names>) -> String {
        // The kernel prints the seconds with %u and ipvsadm reads them into an unsigned int.
        let seconds = UInt32(truncatingIfNeeded: entry.expiresInMilliseconds / 1000)
        let expire = TextColumn.zeroPadded(seconds / 60, 2) + ":" + TextColumn.zeroPadded(seconds % 60, 2)
        // A firewall-mark template is an IPPROTO_IP entry: the kernel names it `IP`, and
        // ipvsadm has no port names for that protocol.
        let isMarkTemplate = entry.firewallMark != 0
        let transport: TransportProtocol? = isMarkTemplate ? nil : entry.transport
        return TextColumn.left(isMarkTemplate ? "IP" : entry.transport.description, 3) + " " + TextColumn.left(expire, 6) + " "
            + TextColumn.left(entry.state, 11) + " "
            + TextColumn.left(namer.name(entry.clientAddress, entry.clientPort, transport), 18) + " "
            + TextColumn.left(namer.name(entry.virtualAddress, entry.virtualPort, transport), 18) + " "
            + namer.name(entry.destinationAddress, entry.destinationPort, transport) + "\n"
    }
}
