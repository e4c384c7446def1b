import Foundation
import Testing

/// The outcome of a command the tests ran.
struct CommandResult {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// Why an integration test could not run its command.
struct IntegrationError: Error, CustomStringConvertible {
    var description: String
}

/// Runs tools as child processes (by absolute path through `/usr/bin/env`), the way an admin
/// would at a shell. Output is read fully; every call has a time limit.
enum Shell {
    /// The project root, found from this file's path (Tests/IntegrationTests/Support/Shell.swift).
    static let projectRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static var lvsdPath: String {
        ProcessInfo.processInfo.environment["LVSD_BIN"]
            ?? projectRoot.appendingPathComponent(".build/debug/lvsd").path
    }

    /// lvsadm to test: LVSADM_BIN, else the one next to lvsd.
    static var lvsadmPath: String {
        ProcessInfo.processInfo.environment["LVSADM_BIN"]
            ?? URL(fileURLWithPath: lvsdPath).deletingLastPathComponent().appendingPathComponent("lvsadm").path
    }

    /// lvs-realserver to test: LVS_REALSERVER_BIN (scripts/test.sh sets it), else the debug build's.
    static var realServerPath: String {
        ProcessInfo.processInfo.environment["LVS_REALSERVER_BIN"]
            ?? projectRoot.appendingPathComponent(".build/debug/lvs-realserver").path
    }

    static var testbedScript: String {
        ProcessInfo.processInfo.environment["LVS_TESTBED"]
            ?? projectRoot.appendingPathComponent("scripts/testbed.sh").path
    }

    /// Fails the test loudly unless it runs as root with network namespaces available: a
    /// skipped integration test must never look like a passing one.
    static func requireRoot() throws {
        guard geteuid() == 0 else {
            throw IntegrationError(description: "integration tests need root (network namespaces, packet sockets): run scripts/test.sh as root")
        }
        guard FileManager.default.isExecutableFile(atPath: lvsdPath) else {
            throw IntegrationError(description: "no lvsd binary at \(lvsdPath): run `swift build` first or set LVSD_BIN")
        }
    }

    /// `requireRoot`, plus an lvs-realserver binary to test.
    static func requireRealServerTool() throws {
        try requireRoot()
        guard FileManager.default.isExecutableFile(atPath: realServerPath) else {
            throw IntegrationError(description: "no lvs-realserver binary at \(realServerPath): run `swift build` first or set LVS_REALSERVER_BIN")
        }
    }

    /// Runs a command to completion. Output goes to temporary files, not pipes: a command may
    /// leave daemons behind (the test bed's servers) that keep a pipe open long after it exited.
    @discardableResult
    static func run(_ arguments: [String], timeout: TimeInterval = 60, stdin: String? = nil) throws -> CommandResult {
        let directory = FileManager.default.temporaryDirectory
        let tag = UUID().uuidString
        let outURL = directory.appendingPathComponent("lvs-test-\(tag).out")
        let errURL = directory.appendingPathComponent("lvs-test-\(tag).err")
        let inURL = directory.appendingPathComponent("lvs-test-\(tag).in")
        try (stdin ?? "").write(to: inURL, atomically: true, encoding: .utf8)
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        defer {
            try? FileManager.default.removeItem(at: outURL)
            try? FileManager.default.removeItem(at: errURL)
            try? FileManager.default.removeItem(at: inURL)
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = arguments
        let outHandle = try FileHandle(forWritingTo: outURL)
        let errHandle = try FileHandle(forWritingTo: errURL)
        defer {
            try? outHandle.close()
            try? errHandle.close()
        }
        process.standardOutput = outHandle
        process.standardError = errHandle
        let inHandle = try FileHandle(forReadingFrom: inURL)
        defer { try? inHandle.close() }
        process.standardInput = inHandle
        try process.run()
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        let read = { (url: URL) in (try? String(contentsOf: url, encoding: .utf8)) ?? "" }
        if process.isRunning {
            process.terminate()
            usleep(200_000)
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
            throw IntegrationError(description: "timed out after \(timeout) s: \(arguments.joined(separator: " "))\nstderr: \(read(errURL))")
        }
        process.waitUntilExit()
        return CommandResult(status: process.terminationStatus, stdout: read(outURL), stderr: read(errURL))
    }
}

