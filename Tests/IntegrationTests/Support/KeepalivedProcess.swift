import Foundation

/// keepalived's VRRP process (Debian's keepalived; VRRPv3 unless `vrrpVersion` says otherwise,
/// nil writing no `vrrp_version` line: keepalived's default, 2) in one of the test bed's director
/// namespaces: in the foreground, its own pid files and state in a temporary directory,
/// stopped by PID. As master it puts the VIP on its eth0 (its kernel then answers ARP).
final class KeepalivedProcess {
    let process = Process()
    let directory: URL
    let logFile: URL
    let bed: TestBed
    let host: String
    private var stopped = false

    /// `initialState` keepalived's `state` (MASTER: it takes the VIPs at once, without waiting
    /// one master down interval); `virtualAddresses` its `virtual_ipaddress` list.
    init(bed: TestBed, host: String, priority: Int, advertInterval: Double = HighAvailabilityTests.advertInterval,
         vrrpVersion: Int? = 3, authPass: String? = nil, initialState: String = "BACKUP",
         virtualAddresses: [String] = ["10.200.0.100"]) throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/sbin/keepalived") else {
            throw IntegrationError(description: "no /usr/sbin/keepalived: run scripts/install-deps.sh (Debian package keepalived)")
        }
        self.bed = bed
        self.host = host
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("keepalived-\(bed.prefix)\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let config = directory.appendingPathComponent("keepalived.conf")
        let versionLine = vrrpVersion.map { "\n    vrrp_version \($0)" } ?? ""
        let authentication = authPass.map { "\n    authentication {\n        auth_type PASS\n        auth_pass \($0)\n    }" } ?? ""
        try """
            global_defs {
                router_id \(host)\(versionLine)
                script_user root
            }
            vrrp_instance VI_1 {
                state \(initialState)
                interface eth0
                virtual_router_id 51
                priority \(priority)
                advert_int \(advertInterval)\(authentication)
                virtual_ipaddress {
            \(virtualAddresses.map { "        \($0)/32 dev eth0" }.joined(separator: "\n"))
                }
            }

            """.write(to: config, atomically: true, encoding: .utf8)
        logFile = directory.appendingPathComponent("keepalived.log")
        _ = FileManager.default.createFile(atPath: logFile.path, contents: nil)
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["ip", "netns", "exec", bed.namespace(host), "/usr/sbin/keepalived",
                             "-n", "-l", "-D", "--vrrp", "-f", config.path,
                             "-p", directory.appendingPathComponent("keepalived.pid").path,
                             "-r", directory.appendingPathComponent("vrrp.pid").path]
        let handle = try FileHandle(forWritingTo: logFile)
        process.standardOutput = handle
        process.standardError = handle
        try process.run()
    }

    deinit { stop() }

    var log: String { (try? String(contentsOf: logFile, encoding: .utf8)) ?? "" }

    func hasVIP() -> Bool {
        ((try? bed.sh(host, "ip -4 addr show dev eth0").stdout) ?? "").contains("10.200.0.100/")
    }

    func waitForVIP(present: Bool, seconds: Double) -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if hasVIP() == present { return true }
            usleep(50_000)
        }
        return hasVIP() == present
    }

    /// SIGTERM (keepalived then sends its priority-0 advert and removes the VIP); after 5 s,
    /// SIGKILL to it and to its VRRP child (by the child's pid file).
    func stop() {
        guard !stopped else { return }
        stopped = true
        if process.isRunning {
            kill(process.processIdentifier, SIGTERM)
            let deadline = Date().addingTimeInterval(5)
            while process.isRunning && Date() < deadline { usleep(20_000) }
            if process.isRunning {
                if let text = try? String(contentsOf: directory.appendingPathComponent("vrrp.pid"), encoding: .utf8),
                   let child = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)) {
                    kill(child, SIGKILL)
                }
                kill(process.processIdentifier, SIGKILL)
            }
        }
        process.waitUntilExit()
    }
}
