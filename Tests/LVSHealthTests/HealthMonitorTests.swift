import Foundation
import Glibc
import LVSConfig
import LVSCore
@testable import LVSHealth
import Synchronization
import Testing

@Suite("HealthMonitor: its own thread, real checks on 127.0.0.1, a fake editor", .serialized)
struct HealthMonitorTests {
    /// A service whose real servers are listeners on 127.0.0.1 (distinct ports), TCP_CHECK each.
    static func configuration(ports: [UInt16], delayLoop: Double = 0.1) -> KeepalivedConfiguration {
        var configuration = KeepalivedConfiguration()
        for port in ports {
            let key = VirtualServiceKey(transport: .tcp, address: Fixture.vip, port: port)
            configuration.director.services.append(VirtualServiceConfig(key: key, scheduler: "rr", realServers: [
                RealServerConfig(address: Local.loopback, port: port, weight: 2),
            ]))
            var health = ServiceHealth(key: key)
            health.delayLoop = delayLoop
            var rs = RealServerHealth(address: Local.loopback, port: port)
            rs.weight = 2
            var check = CheckerConfig(kind: .tcp)
            check.retry = 1
            check.delayBeforeRetry = 0.05
            check.connectTimeout = 0.5
            rs.checkers = [check]
            health.realServers = [rs]
            configuration.health.services.append(health)
        }
        return configuration
    }

    static func listen(on port: UInt16 = 0) -> (fd: Int32, port: UInt16) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        var one: Int32 = 1
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(4))
        var a = Posix.socketAddress(Local.loopback.value, port)
        _ = withUnsafePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &a) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        Glibc.listen(fd, 64)
        return (fd, UInt16(bigEndian: a.sin_port))
    }

    /// Polls `condition` every 20 ms for at most `seconds`.
    static func eventually(_ seconds: Double, _ condition: () -> Bool) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if condition() { return true }
            usleep(20_000)
        }
        return condition()
    }

    @Test("A listener that goes away is removed within delay_loop + retries; back, it is added again; reload and status")
    func failAndRecover() throws {
        let a = Self.listen()
        let b = Self.listen()
        defer { close(b.fd) }
        let configuration = Self.configuration(ports: [a.port, b.port])
        let editor = FakeEditor(HealthMonitor.initialTable(for: configuration))
        let lines = Mutex<[String]>([])
        let monitor = HealthMonitor { _, line in lines.withLock { $0.append(line) } }
        try monitor.start(configuration: configuration, editor: editor)
        defer { monitor.stop() }
        let serviceA = configuration.director.services[0].key
        let serviceB = configuration.director.services[1].key

        #expect(Self.eventually(2) { monitor.status().services.flatMap(\.servers).allSatisfy { $0.checkers.first?.lastResult == "ok" } })
        close(a.fd)
        let closedAt = Date()
        #expect(Self.eventually(3) { editor.weight(serviceA, Local.loopback) == nil })
        #expect(Date().timeIntervalSince(closedAt) < 1.5, "delay_loop 0.1 + one retry after 0.05 s")
        #expect(editor.weight(serviceB, Local.loopback) == 2)
        #expect(lines.withLock { $0.contains("Removing service [127.0.0.1]:tcp:\(a.port) from VS [10.0.0.100]:tcp:\(a.port)") })
        #expect(monitor.status().server(RealServerKey(service: serviceA, address: Local.loopback, port: a.port))?.up == false)

        let again = Self.listen(on: a.port)
        defer { close(again.fd) }
        #expect(Self.eventually(3) { editor.weight(serviceA, Local.loopback) == 2 })

        // Reload: service B goes, service A stays up (no command for it).
        let commands = try monitor.reload(to: Self.configuration(ports: [a.port]))
        #expect(commands == [.deleteService(serviceB)])
        #expect(editor.currentTable().services.map(\.key) == [serviceA])
        #expect(monitor.status().services.count == 1)
        #expect(monitor.status().services[0].servers[0].up)

        // New health settings alone: the same service, a MISC_CHECK that fails.
        var health = Self.configuration(ports: [a.port]).health
        var misc = CheckerConfig(kind: .misc(MiscCheck(arguments: ["false"])))
        misc.retry = 0
        health.services[0].realServers[0].checkers = [misc]
        #expect(try monitor.reload(to: health).isEmpty, "the table part did not change")
        #expect(Self.eventually(3) { editor.weight(serviceA, Local.loopback) == nil })
    }

    @Test("A reload the table refuses changes nothing and says why; stop ends the thread")
    func refusedReload() throws {
        let a = Self.listen()
        defer { close(a.fd) }
        let configuration = Self.configuration(ports: [a.port], delayLoop: 0.2)
        let editor = FakeEditor(HealthMonitor.initialTable(for: configuration))
        let monitor = HealthMonitor()
        try monitor.start(configuration: configuration, editor: editor)
        var bad = Self.configuration(ports: [a.port])
        bad.director.services[0].scheduler = "nosuch"
        #expect(throws: HealthReloadError.self) { try monitor.reload(to: bad) }
        #expect(editor.currentTable().services[0].scheduler == "rr")
        monitor.stop()
        #expect(monitor.status().services.isEmpty)
        #expect(throws: HealthReloadError.self) { try monitor.reload(to: configuration) }
    }

    @Test("notify scripts run without a shell, with their argv")
    func notifyScript() throws {
        let a = Self.listen()
        var configuration = Self.configuration(ports: [a.port])
        let file = "/tmp/lvs-health-notify-\(getpid())"
        defer { unlink(file) }
        configuration.health.services[0].realServers[0].notifyDown = ["/bin/sh", "-c", "echo \"$0 $1\" > \(file)", "down", "a b"]
        let editor = FakeEditor(HealthMonitor.initialTable(for: configuration))
        let monitor = HealthMonitor()
        try monitor.start(configuration: configuration, editor: editor)
        defer { monitor.stop() }
        usleep(200_000)
        close(a.fd)
        #expect(Self.eventually(3) { (try? String(contentsOfFile: file, encoding: .utf8)) == "down a b\n" })
    }
}
