import Testing
import LVSCore
import LVSConfig

/// What the keepalived.conf tests share: a reader that never asks the network or the host's
/// /etc/services, and short spellings of the expected values.
enum Keepalived {
    static let services = ServiceNames(servicesFileText: """
        http		80/tcp		www
        https		443/tcp
        domain		53/tcp
        domain		53/udp
        """)

    /// Only `web1.example` resolves, so no test depends on the host's resolver.
    static let reader = KeepalivedConfigReader(serviceNames: services, resolveHost: { name in
        name == "web1.example" ? IPv4Address(10, 0, 0, 21) : nil
    })

    static let file = "keepalived.conf"

    static func parse(_ text: String, file: String = Keepalived.file) throws(ConfigurationError) -> KeepalivedConfiguration {
        try reader.parse(text, file: file)
    }

    /// The error `text` produces, or nil (and a recorded issue) if it parses.
    static func failure(_ text: String, file: String = Keepalived.file,
                        sourceLocation: SourceLocation = #_sourceLocation) -> ConfigurationError? {
        do {
            _ = try reader.parse(text, file: file)
            Issue.record("parsed without error", sourceLocation: sourceLocation)
            return nil
        } catch {
            return error
        }
    }

    static func warning(_ line: Int, _ message: String, file: String = Keepalived.file) -> ConfigurationWarning {
        ConfigurationWarning(file: file, line: line, message: message)
    }

    static func tcp(_ last: UInt8, _ port: UInt16, network: UInt8 = 0) -> VirtualServiceKey {
        VirtualServiceKey(transport: .tcp, address: IPv4Address(10, 0, network, last), port: port)
    }

    static func udp(_ last: UInt8, _ port: UInt16, network: UInt8 = 0) -> VirtualServiceKey {
        VirtualServiceKey(transport: .udp, address: IPv4Address(10, 0, network, last), port: port)
    }

    static func server(_ last: UInt8, _ port: UInt16, weight: Int32 = 1, network: UInt8 = 0) -> RealServerConfig {
        RealServerConfig(address: IPv4Address(10, 0, network, last), port: port, weight: weight)
    }

    /// A checker with keepalived's defaults for its kind and a given delay loop (for warmup).
    static func checker(_ kind: CheckerConfig.Kind, delayLoop: Double = 60) -> CheckerConfig {
        var checker = CheckerConfig(kind: kind)
        switch kind {
        case .dns:
            checker.retry = 3
            checker.delayBeforeRetry = delayLoop
        case .misc:
            checker.retry = 0
        case .http:
            checker.delayBeforeRetry = 3
        default:
            break
        }
        checker.warmup = delayLoop
        return checker
    }

    static func realServer(_ last: UInt8, _ port: UInt16, weight: Int32 = 1, network: UInt8 = 0,
                           checkers: [CheckerConfig] = []) -> RealServerHealth {
        var health = RealServerHealth(address: IPv4Address(10, 0, network, last), port: port)
        health.weight = weight
        health.checkers = checkers
        return health
    }

    /// A minimal DR virtual server around `body` (real servers and settings).
    static func service(_ body: String, address: String = "10.0.0.100 80", protocol proto: String = "TCP") -> String {
        """
        virtual_server \(address) {
            lb_kind DR
            protocol \(proto)
        \(body)
        }
        """
    }
}
