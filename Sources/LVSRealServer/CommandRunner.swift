import Foundation

/// What a host command printed and how it ended.
public struct CommandOutput: Sendable {
    public var status: Int32
    public var stdout: String
    public var stderr: String
}

/// Runs host tools directly (Foundation's `Process`, which posix_spawns: no shell, so no
/// quoting and no injection through a VIP or interface name), with their output captured.
public struct CommandRunner: Sendable {
    /// Where tools are looked for after PATH: root's tools live in sbin, which a sudo'd or
    /// cron'd PATH may lack.
    public static let fallbackDirectories = ["/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"]

    public var timeout: TimeInterval

    public init(timeout: TimeInterval = 30) { self.timeout = timeout }

    /// The absolute path of `tool`, or `nil` when it is not installed.
    public func locate(_ tool: String) -> String? {
        if tool.hasPrefix("/") { return FileManager.default.isExecutableFile(atPath: tool) ? tool : nil }
        let path = ProcessInfo.processInfo.environment["PATH"] ?? ""
        for directory in path.split(separator: ":").map(String.init) + Self.fallbackDirectories {
            let candidate = directory + "/" + tool
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        return nil
    }

    /// Runs `tool arguments...` to completion and returns whatever it did.
    ///
    /// - Throws: `RealServerError` (`.toolMissing`) when the tool is not installed, or
    ///   (`.commandFailed`) when it cannot be started or outlives the timeout.
    public func run(_ tool: String, _ arguments: [String], input: String? = nil) throws -> CommandOutput {
        guard let executable = locate(tool) else {
            throw RealServerError(.toolMissing, "`\(tool)` is not installed (looked in PATH and \(Self.fallbackDirectories.joined(separator: ":")))",
                                  remedy: "install the package that provides \(tool)")
        }
        let command = ([tool] + arguments).joined(separator: " ")
        // Output goes to unlinked temporary files, not pipes: nothing to drain concurrently,
        // and a tool that leaves a child holding the descriptor cannot make us wait.
        let out = try Self.scratchFile()
        let err = try Self.scratchFile()
        defer {
            try? out.close()
            try? err.close()
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.standardOutput = out
        process.standardError = err
        if let input {
            let inputFile = try Self.scratchFile()
            defer { try? inputFile.close() }
            inputFile.write(Data(input.utf8))
            inputFile.seek(toFileOffset: 0)
            process.standardInput = inputFile
        } else {
            process.standardInput = FileHandle.nullDevice
        }
        do {
            try process.run()
        } catch {
            throw RealServerError(.commandFailed, "could not start `\(command)`: \(error)")
        }
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(2_000) }
        if process.isRunning {
            process.terminate()
            process.waitUntilExit()
            throw RealServerError(.commandFailed, "`\(command)` did not finish within \(Int(timeout)) s and was stopped")
        }
        process.waitUntilExit()
        func read(_ handle: FileHandle) -> String {
            handle.seek(toFileOffset: 0)
            return String(decoding: handle.readDataToEndOfFile(), as: UTF8.self)
        }
        return CommandOutput(status: process.terminationStatus, stdout: read(out), stderr: read(err))
    }

    /// Like `run`, but a non-zero exit is an error naming the command and what it said.
    @discardableResult
    public func check(_ tool: String, _ arguments: [String], input: String? = nil, remedy: String? = nil) throws -> String {
        let result = try run(tool, arguments, input: input)
        guard result.status == 0 else {
            let said = result.stderr.trimmingWhitespace().isEmpty ? result.stdout.trimmingWhitespace() : result.stderr.trimmingWhitespace()
            throw RealServerError(.commandFailed, "`\(([tool] + arguments).joined(separator: " "))` exited \(result.status): \(said)",
                                  remedy: remedy)
        }
        return result.stdout
    }

    /// A read-write temporary file that is already unlinked (gone when closed).
    static func scratchFile() throws -> FileHandle {
        var template = Array((NSTemporaryDirectory() + "/lvs-realserver.XXXXXX").utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard fd >= 0 else {
            throw RealServerError(.fileError, "cannot create a temporary file in \(NSTemporaryDirectory()): errno \(errno)",
                                  remedy: "check that TMPDIR is writable")
        }
        template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
        return FileHandle(fileDescriptor: fd, closeOnDealloc: true)
    }
}
