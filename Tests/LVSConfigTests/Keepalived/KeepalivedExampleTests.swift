import Testing
import LVSCore
import LVSConfig

/// docs/examples/keepalived.conf, the test bed's DR setup, read from the repository.
@Suite struct KeepalivedExampleTests {
    typealias K = Keepalived

    static let path: String = {
        var components = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false)
        components.removeLast(4)  // Tests/LVSConfigTests/Keepalived/this file
        return components.joined(separator: "/") + "/docs/examples/keepalived.conf"
    }()


    @Test func theExampleReadsWithoutWarnings() throws {
        let config = try K.reader.load(path: Self.path)
        #expect(config.warnings == [])
        #expect(config.routerID == "lvs-testbed-director")
        #expect(config.lvsTimeouts == TimeoutSetting(tcp: 900, tcpFin: 120, udp: 300))

        let web = VirtualServiceKey(transport: .tcp, address: IPv4Address(10, 200, 0, 100), port: 80)
        let echo = VirtualServiceKey(transport: .udp, address: IPv4Address(10, 200, 0, 100), port: 9000)
        let servers: [UInt8] = [11, 12, 13]
        #expect(config.director == DirectorConfiguration(services: [
            VirtualServiceConfig(key: web, scheduler: "wlc",
                                 realServers: servers.map { RealServerConfig(address: IPv4Address(10, 200, 0, $0), port: 80) }),
            VirtualServiceConfig(key: echo, scheduler: "rr",
                                 realServers: servers.map { RealServerConfig(address: IPv4Address(10, 200, 0, $0), port: 9000) }),
        ]))

        var http = CheckerConfig(kind: .http(HTTPCheck(urls: [HTTPCheck.URL(path: "/", statusCode: 200)])))
        http.connectTimeout = 2
        http.delayBeforeRetry = 1
        http.warmup = 5
        var webHealth = ServiceHealth(key: web)
        webHealth.delayLoop = 5
        webHealth.inhibitOnFailure = true
        webHealth.realServers = servers.map {
            var server = RealServerHealth(address: IPv4Address(10, 200, 0, $0), port: 80)
            server.inhibitOnFailure = true
            server.rise = $0 == 13 ? 2 : 1
            server.checkers = [http]
            return server
        }

        var ping = UDPCheck(payload: Array("ping".utf8))
        ping.requireReply = true
        var udp = CheckerConfig(kind: .udp(ping))
        udp.connectTimeout = 2
        udp.warmup = 5
        udp.probeThroughVIP = true
        var echoHealth = ServiceHealth(key: echo)
        echoHealth.delayLoop = 5
        echoHealth.realServers = servers.map {
            var server = RealServerHealth(address: IPv4Address(10, 200, 0, $0), port: 9000)
            server.checkers = [udp]
            return server
        }
        #expect(config.health == HealthConfiguration(services: [webHealth, echoHealth]))

        #expect(config.vrrpInstances == [VRRPInstanceBlock(name: "VI_TESTBED", settings: [
            ("state", ["MASTER"]), ("interface", ["eth0"]), ("virtual_router_id", ["51"]), ("priority", ["150"]),
            ("advert_int", ["1"]), ("virtual_ipaddress", ["10.200.0.100/32", "dev", "eth0"]),
        ], file: Self.path, line: 12)])
    }
}
