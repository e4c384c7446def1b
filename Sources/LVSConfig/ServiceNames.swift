import LVSCore

/// Port names from /etc/services, the way ipvsadm's `getservbyname` resolves `:http` and its
/// `getservbyport` prints `:http` back in listings without `-n`.
public struct ServiceNames: Sendable {
    var ports: [String: [TransportProtocol: UInt16]] = [:]
    /// The official name (first field, never an alias) of the first line for each port, which
    /// is what `getservbyport` returns as `s_name`.
    var officialNames: [TransportProtocol: [UInt16: String]] = [:]

    public init() {}

    /// Parses services(5) text: `name port/proto [aliases...] [# comment]`.
    public init(servicesFileText text: String) {
        for rawLine in lines(of: text) {
            let line = rawLine.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard fields.count >= 2 else { continue }
            let portProto = fields[1].split(separator: "/")
            guard portProto.count == 2, let port = UInt16(portProto[0]) else { continue }
            let transport: TransportProtocol
            switch portProto[1] {
            case "tcp": transport = .tcp
            case "udp": transport = .udp
            default: continue
            }
            for name in [fields[0]] + fields.dropFirst(2) where ports[String(name)]?[transport] == nil {
                ports[String(name), default: [:]][transport] = port
            }
            if officialNames[transport]?[port] == nil {
                officialNames[transport, default: [:]][port] = String(fields[0])
            }
        }
    }

    /// Loads /etc/services; a missing file gives an empty table (numeric ports still work).
    public static func system(path: String = "/etc/services") -> ServiceNames {
        guard let text = try? readTextFile(path) else { return ServiceNames() }
        return ServiceNames(servicesFileText: text)
    }

    public func port(named name: String, transport: TransportProtocol) -> UInt16? {
        ports[name]?[transport]
    }

    /// The reverse lookup (`getservbyport`): the official name of the first entry for the port.
    public func name(forPort port: UInt16, transport: TransportProtocol) -> String? {
        officialNames[transport]?[port]
    }
}
