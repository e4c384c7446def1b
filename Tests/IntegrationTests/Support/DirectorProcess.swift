import Foundation

/// lvsd running in one of the test bed's director namespaces (`director`, or `director2` for
/// the second of an HA pair), on its eth0.
final class DirectorProcess {
    let process = Process()
    let directory: URL
    let logFile: URL
    let statsFile: URL
    /// The control socket (its own per test, so tests never reach another test's lvsd).
    let socketPath: String
    /// The table lvsd saves on every change and restores at start.
    let saveFile: URL
    private var stopped = false

    /// Writes `rules` (if any) to a file and starts lvsd with it; returns once lvsd logged
    /// `lvsd: ready`. Pass the `directory` of an earlier, stopped director to start on its saved
    /// table (a restart).
    /// The keepalived.conf lvsd was started with (`config:`), which `reload(config:)` rewrites.
    var configFile: URL { directory.appendingPathComponent("keepalived.conf") }

    init(bed: TestBed, rules: String?, config: String? = nil, directory reused: URL? = nil, extraArguments: [String] = [],
         host: String = "director") throws {
        directory = reused ?? FileManager.default.temporaryDirectory.appendingPathComponent("lvsd-\(bed.prefix)\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var arguments = ["ip", "netns", "exec", bed.namespace(host), Shell.lvsdPath, "--interface", "eth0"]
        if let rules {
            let rulesFile = directory.appendingPathComponent("rules")
            try rules.write(to: rulesFile, atomically: true, encoding: .utf8)
            arguments += ["--rules", rulesFile.path]
        }
        if let config {
            let file = directory.appendingPathComponent("keepalived.conf")
            try config.write(to: file, atomically: true, encoding: .utf8)
            arguments += ["--config", file.path]
        }
        logFile = directory.appendingPathComponent("lvsd.log")
        statsFile = directory.appendingPathComponent("stats.json")
        saveFile = directory.appendingPathComponent("saved.rules")
        socketPath = directory.appendingPathComponent("lvsd.sock").path
        _ = FileManager.default.createFile(atPath: logFile.path, contents: nil)
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        // LVS_TEST_WORKERS=N runs every suite's directors with N data-plane workers (a test
        // that asks for --workers itself keeps its own).
        var workers: [String] = []
        if let n = ProcessInfo.processInfo.environment["LVS_TEST_WORKERS"], !extraArguments.contains("--workers") {
            workers = ["--workers", n]
        }
        // LVS_TEST_BACKEND=af_xdp runs every suite's directors with that backend (a test that
        // asks for --backend itself keeps its own).
        if let backend = ProcessInfo.processInfo.environment["LVS_TEST_BACKEND"], !extraArguments.contains("--backend") {
            workers += ["--backend", backend]
        }
        process.arguments = arguments + ["--stats-file", statsFile.path, "--socket", socketPath,
                                         "--save-file", saveFile.path] + workers + extraArguments
        let logHandle = try FileHandle(forWritingTo: logFile)
        process.standardError = logHandle
        process.standardOutput = logHandle
        try process.run()
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            if log(contains: "lvsd: ready") { return }
            if !process.isRunning {
                throw IntegrationError(description: "lvsd exited \(process.terminationStatus) before it was ready:\n\(self.log)")
            }
            usleep(50_000)
        }
        stop()
        throw IntegrationError(description: "lvsd was not ready within 10 s:\n\(self.log)")
    }

    deinit { stop() }

    var log: String { (try? String(contentsOf: logFile, encoding: .utf8)) ?? "" }

    /// Runs the real lvsadm binary against this director (from the host: the control socket is
    /// a file, reachable from any namespace).
    @discardableResult
    func lvsadm(_ arguments: [String], stdin: String? = nil) throws -> CommandResult {
        try Shell.run(["env", "LVSD_SOCKET=\(socketPath)", Shell.lvsadmPath] + arguments, stdin: stdin)
    }

    func log(contains text: String) -> Bool { log.contains(text) }

    /// Rewrites the keepalived.conf and sends SIGHUP; returns once lvsd logged the outcome of
    /// this reload (the n-th "reloaded"/"keeping the running configuration" line), at most 10 s.
    @discardableResult
    func reload(config: String) throws -> String {
        let before = log.components(separatedBy: "\n").count
        try config.write(to: configFile, atomically: true, encoding: .utf8)
        kill(process.processIdentifier, SIGHUP)
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline {
            let lines = log.components(separatedBy: "\n").dropFirst(before - 1)
            if let line = lines.first(where: { $0.contains("lvsd: reloaded") || $0.contains("keeping the running configuration") }) {
                return line
            }
            usleep(50_000)
        }
        throw IntegrationError(description: "lvsd did not report the reload within 10 s:\n\(log)")
    }

    /// Kills lvsd with SIGKILL, as a crash or power loss would stop it (no clean shutdown).
    func crash() {
        guard !stopped else { return }
        stopped = true
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    /// Stops lvsd with SIGTERM (bounded wait, then SIGKILL) and returns its exit status.
    @discardableResult
    func stop() -> Int32 {
        guard !stopped else { return process.terminationStatus }
        stopped = true
        if process.isRunning {
            process.terminate()
            let deadline = Date().addingTimeInterval(5)
            while process.isRunning && Date() < deadline { usleep(20_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        }
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// Kills lvsd with SIGKILL (a crash: no priority-0 advert, no clean-up) and reaps it.
    func kill9() {
        guard !stopped else { return }
        stopped = true
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    /// Waits up to `seconds` for `text` in the log; the time it took, or nil.
    func waitForLog(_ text: String, seconds: Double, after start: Date = Date()) -> Double? {
        let deadline = start.addingTimeInterval(seconds)
        while Date() < deadline {
            if log.contains(text) { return Date().timeIntervalSince(start) }
            usleep(20_000)
        }
        return log.contains(text) ? Date().timeIntervalSince(start) : nil
    }

    /// The stats file lvsd writes every second and at exit, parsed.
    func stats() throws -> Stats {
        let data = try Data(contentsOf: statsFile)
        guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw IntegrationError(description: "stats file is not a JSON object")
        }
        return Stats(object: object)
    }

    struct Stats {
        var object: [String: Any]

        /// A member lvsd adds only when it runs that part (`"vrrp"`, `"sync"`).
        func section(_ name: String) -> [String: Any]? { object[name] as? [String: Any] }

        func counter(_ name: String) -> Int {
            ((object["counters"] as? [String: Any])?[name] as? NSNumber)?.intValue ?? -1
        }

        /// Connections per real-server address for the service on `port`.
        func connectionsPerServer(port: Int, protocol proto: String = "TCP") -> [String: Int] {
            var result: [String: Int] = [:]
            for service in object["services"] as? [[String: Any]] ?? [] {
                guard (service["port"] as? NSNumber)?.intValue == port, service["protocol"] as? String == proto else { continue }
                for rs in service["real_servers"] as? [[String: Any]] ?? [] {
                    if let a = rs["address"] as? String { result[a] = (rs["conns"] as? NSNumber)?.intValue ?? -1 }
                }
            }
            return result
        }
    }
}
