import LVSCore

/// What the health monitor knows, for logs and for an operator: per virtual service its quorum
/// and sorry server, per real server whether it is up, its weight, and its checkers' last result.
public struct HealthStatus: Sendable, Equatable, CustomStringConvertible {
    public var services: [ServiceStatus]

    public init(services: [ServiceStatus] = []) { self.services = services }

    /// One line per real server: `[10.200.0.100]:tcp:80 [10.200.0.12]:tcp:80 UP weight 1 (TCP_CHECK: ok)`.
    public var description: String {
        var lines: [String] = []
        for service in services {
            let vs = KeepalivedFormat.service(service.key)
            lines.append("\(vs) quorum \(service.quorumUp ? "up" : "down")\(service.sorryServerActive ? ", sorry server in" : "")")
            for server in service.servers { lines.append("  \(server)") }
        }
        return lines.joined(separator: "\n")
    }

    /// The status of one real server, if the configuration has it.
    public func server(_ key: RealServerKey) -> RealServerStatus? {
        services.first { $0.key == key.service }?.servers.first { $0.key == key }
    }
}

public struct ServiceStatus: Sendable, Equatable {
    public var key: VirtualServiceKey
    public var quorumUp: Bool
    public var sorryServerActive: Bool
    public var servers: [RealServerStatus]

    public init(key: VirtualServiceKey, quorumUp: Bool, sorryServerActive: Bool, servers: [RealServerStatus]) {
        self.key = key
        self.quorumUp = quorumUp
        self.sorryServerActive = sorryServerActive
        self.servers = servers
    }
}

public struct RealServerStatus: Sendable, Equatable, CustomStringConvertible {
    public var key: RealServerKey
    /// All its checkers pass (keepalived's "alive").
    public var up: Bool
    /// The weight it has while up (its configured weight, or what MISC_CHECK's `misc_dynamic` set).
    public var weight: Int32
    public var checkers: [CheckerStatus]

    public init(key: RealServerKey, up: Bool, weight: Int32, checkers: [CheckerStatus]) {
        self.key = key
        self.up = up
        self.weight = weight
        self.checkers = checkers
    }

    public var description: String {
        let checks = checkers.map { "\($0.keyword): \($0.lastResult ?? "not run yet")" }.joined(separator: ", ")
        return "\(key) \(up ? "UP" : "DOWN") weight \(weight)\(checks.isEmpty ? "" : " (\(checks))")"
    }
}

public struct CheckerStatus: Sendable, Equatable {
    /// `TCP_CHECK`, `HTTP_GET`...
    public var keyword: String
    public var up: Bool
    /// `ok`, or why the last attempt failed; nil before the first attempt.
    public var lastResult: String?

    public init(keyword: String, up: Bool, lastResult: String?) {
        self.keyword = keyword
        self.up = up
        self.lastResult = lastResult
    }
}
