import Foundation
import LVSCore

/// Turning what the host's tools print into `HostState` parts. Pure, so the unit tests feed it
/// captured output.
extension HostState {
    private struct IPLink: Decodable {
        var ifname: String
        var flags: [String]?
        var addr_info: [IPAddr]?
    }

    private struct IPAddr: Decodable {
        var family: String?
        var local: String?
        var prefixlen: Int?
        var label: String?
        var scope: String?
    }

    private struct IPRoute: Decodable {
        var dst: String?
        var gateway: String?
        var dev: String?
    }

    /// Parses `ip -j addr show` (IPv4 addresses only; IPv6 entries are skipped).
    public static func parseInterfaces(ipAddrJSON: String) throws -> [HostInterface] {
        let links: [IPLink]
        do {
            links = try JSONDecoder().decode([IPLink].self, from: Data(ipAddrJSON.utf8))
        } catch {
            throw RealServerError(.unreadableOutput, "`ip -j addr show` printed something that is not its JSON: \(error)",
                                  remedy: "use iproute2 from 2018 or later (JSON output)")
        }
        return links.map { link in
            let addresses = (link.addr_info ?? []).compactMap { a -> InterfaceAddress? in
                guard a.family == "inet", let local = a.local, let address = IPv4Address(local) else { return nil }
                return InterfaceAddress(address: address, prefixLength: a.prefixlen ?? 32,
                                        label: a.label ?? link.ifname, scope: a.scope ?? "global")
            }
            return HostInterface(name: link.ifname, flags: Set(link.flags ?? []), addresses: addresses)
        }
    }

    /// Parses `ip -j route show default`.
    public static func parseDefaultRoutes(ipRouteJSON: String) throws -> [DefaultRoute] {
        let trimmed = ipRouteJSON.trimmingWhitespace()
        if trimmed.isEmpty { return [] }
        do {
            return try JSONDecoder().decode([IPRoute].self, from: Data(trimmed.utf8)).map {
                DefaultRoute(gateway: $0.gateway.flatMap { IPv4Address($0) }, device: $0.dev)
            }
        } catch {
            throw RealServerError(.unreadableOutput, "`ip -j route show default` printed something that is not its JSON: \(error)")
        }
    }

    /// Parses /proc/net/{tcp,tcp6,udp,udp6}: TCP sockets in LISTEN (state 0A), UDP sockets that
    /// are bound and not connected (state 07 with a zero remote address).
    public static func parseListeners(procNet text: String, transport: ServicePort.Transport, ipv6: Bool) -> [ListeningSocket] {
        var result: [ListeningSocket] = []
        for line in text.split(separator: "\n").dropFirst() {
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            guard fields.count > 3 else { continue }
            let state = fields[3]
            switch transport {
            case .tcp: guard state == "0A" else { continue }
            case .udp: guard state == "07" else { continue }
            }
            let local = fields[1].split(separator: ":")
            guard local.count == 2, let port = UInt16(local[1], radix: 16) else { continue }
            let hex = local[0]
            if ipv6 {
                // 32 hex digits: four 32-bit words, each in host (little-endian) order.
                guard hex.count == 32 else { continue }
                let words = stride(from: 0, to: 32, by: 8).map { offset -> UInt32 in
                    let start = hex.index(hex.startIndex, offsetBy: offset)
                    return UInt32(hex[start..<hex.index(start, offsetBy: 8)], radix: 16).map { UInt32(bigEndian: $0) } ?? 1
                }
                if words.allSatisfy({ $0 == 0 }) {
                    result.append(ListeningSocket(transport: transport, address: nil, port: port))
                } else if words[0] == 0, words[1] == 0, words[2] == 0x0000_ffff {
                    // ::ffff:a.b.c.d, an IPv4-mapped address
                    result.append(ListeningSocket(transport: transport, address: IPv4Address(words[3]), port: port))
                } else {
                    result.append(ListeningSocket(transport: transport, address: nil, port: port, ipv6Only: true))
                }
            } else {
                guard hex.count == 8, let raw = UInt32(hex, radix: 16) else { continue }
                // The kernel prints the address bytes (network order) read as a native u32.
                let address = IPv4Address(UInt32(bigEndian: raw))
                result.append(ListeningSocket(transport: transport, address: address == .any ? nil : address, port: port))
            }
        }
        return result
    }
}
