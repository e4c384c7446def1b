import Foundation
import Testing

/// lvsd refuses bad input with a message naming the file, line and what was expected, and a
/// non-zero exit, before it touches the network.
@Suite("lvsd start-up errors")
struct DaemonErrorTests {
    static func writeTemporary(_ text: String, name: String) throws -> String {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("lvsd-test-\(UUID().uuidString.prefix(8))-\(name)")
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    @Test("A bad rules line is reported as file:line with what was expected, exit status 2")
    func badRulesFile() throws {
        try Shell.requireRoot()
        let path = try Self.writeTemporary("-A -t 10.200.0.100:80 -s rr\n-a -t 10.200.0.100:80 -r 10.200.0.11:80 -g -w heavy\n", name: "rules")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let r = try Shell.run([Shell.lvsdPath, "--interface", "lo", "--rules", path])
        #expect(r.status == 2)
        #expect(r.stderr.contains("\(path):2:") && r.stderr.contains("weight"), "stderr: \(r.stderr)")
    }

    @Test("A missing rules file is named in the error, exit status 2")
    func missingRulesFile() throws {
        try Shell.requireRoot()
        let r = try Shell.run([Shell.lvsdPath, "--interface", "lo", "--rules", "/nonexistent/lvs.rules"])
        #expect(r.status == 2)
        #expect(r.stderr.contains("/nonexistent/lvs.rules") && r.stderr.contains("No such file"), "stderr: \(r.stderr)")
    }

    @Test("An interface that does not exist is named in the error, exit status 1")
    func badInterface() throws {
        try Shell.requireRoot()
        let path = try Self.writeTemporary("-A -t 10.200.0.100:80 -s rr\n-a -t 10.200.0.100:80 -r 10.200.0.11:80 -g\n", name: "rules")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let r = try Shell.run([Shell.lvsdPath, "--interface", "nosuchif0", "--rules", path])
        #expect(r.status == 1)
        #expect(r.stderr.contains("nosuchif0") && r.stderr.contains("ip link"), "stderr: \(r.stderr)")
    }

    @Test("A malformed --timeouts value is refused with what is expected")
    func badTimeouts() throws {
        try Shell.requireRoot()
        let path = try Self.writeTemporary("-A -t 10.200.0.100:80 -s rr\n", name: "rules")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let r = try Shell.run([Shell.lvsdPath, "--rules", path, "--check", "--timeouts", "900,120"])
        #expect(r.status != 0)
        #expect(r.stderr.contains("TCP,TCPFIN,UDP"), "stderr: \(r.stderr)")
    }

    @Test("--check validates a rules file without touching the network")
    func checkOnly() throws {
        try Shell.requireRoot()
        let path = try Self.writeTemporary("ipvsadm -A -t 10.200.0.100:80 -s wrr\nipvsadm -a -t 10.200.0.100:80 -r 10.200.0.11 -g -w 3\n", name: "rules")
        defer { try? FileManager.default.removeItem(atPath: path) }
        let r = try Shell.run([Shell.lvsdPath, "--rules", path, "--check"])
        #expect(r.status == 0, "stderr: \(r.stderr)")
        #expect(r.stdout.contains("1 virtual services, 1 real servers"), "stdout: \(r.stdout)")
    }
}
