import Foundation
import LVSCore
import Testing
@testable import LVSHealth

/// The stats file's `"health"` member: per service and real server the verdict and each
/// checker's last result, a reply's quotes and newlines included, as parseable JSON.
@Suite struct HealthStatusJSONTests {
    @Test("services, servers and checkers, with a last result that needs escaping")
    func statusAsJSON() throws {
        let key = VirtualServiceKey(transport: .tcp, address: IPv4Address(10, 200, 0, 100), port: 80)
        let up = RealServerStatus(key: RealServerKey(service: key, address: IPv4Address(10, 200, 0, 11), port: 80),
                                  up: true, weight: 3, checkers: [CheckerStatus(keyword: "TCP_CHECK", up: true, lastResult: "ok")])
        let down = RealServerStatus(key: RealServerKey(service: key, address: IPv4Address(10, 200, 0, 12), port: 80),
                                    up: false, weight: 1,
                                    checkers: [CheckerStatus(keyword: "HTTP_GET", up: false, lastResult: "status 503 \"Service\nUnavailable\""),
                                               CheckerStatus(keyword: "MISC_CHECK", up: true, lastResult: nil)])
        let status = HealthStatus(services: [ServiceStatus(key: key, quorumUp: true, sorryServerActive: false, servers: [up, down])])
        let text = status.json()
        let services = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [[String: Any]], "\(text)")
        #expect(services.count == 1)
        let service = services[0]
        #expect(service["address"] as? String == "10.200.0.100")
        #expect((service["port"] as? NSNumber)?.intValue == 80)
        #expect(service["quorum_up"] as? Bool == true)
        #expect(service["sorry_server_active"] as? Bool == false)
        let servers = try #require(service["real_servers"] as? [[String: Any]])
        #expect(servers.map { $0["address"] as? String } == ["10.200.0.11", "10.200.0.12"])
        #expect(servers.map { $0["up"] as? Bool } == [true, false])
        #expect((servers[0]["weight"] as? NSNumber)?.intValue == 3)
        let checkers = try #require(servers[1]["checkers"] as? [[String: Any]])
        #expect(checkers[0]["type"] as? String == "HTTP_GET")
        #expect(checkers[0]["last_result"] as? String == "status 503 \"Service\nUnavailable\"")
        #expect(checkers[1]["last_result"] is NSNull)
    }

    @Test("no services: an empty array")
    func empty() throws {
        #expect(HealthStatus().json() == "[]")
    }
}
