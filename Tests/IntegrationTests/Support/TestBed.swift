import Foundation
import Testing

/// One namespace test bed (scripts/testbed.sh): client, director, director2, rs1..rs3 on one bridge.
/// Built in `init`, removed by `tearDown()` — call it in a `defer` right after creating the bed
/// so a failing test still cleans up; `deinit` removes it as a last resort.
final class TestBed {
    static let vip = "10.200.0.100"
    static let clientIP = "10.200.0.10"
    static let directorIP = "10.200.0.2"
    static let directorMAC = "02:00:0a:c8:00:02"
    /// The second director (namespace `director2`), idle unless a test runs an HA pair.
    static let director2IP = "10.200.0.3"
    static let director2MAC = "02:00:0a:c8:00:03"
    static let realServers = ["rs1": "10.200.0.11", "rs2": "10.200.0.12", "rs3": "10.200.0.13"]
    static let realServerMACs = ["rs1": "02:00:0a:c8:00:0b", "rs2": "02:00:0a:c8:00:0c", "rs3": "02:00:0a:c8:00:0d"]

    let prefix: String
    private var isUp = true

    /// - Parameter bareRealServers: leave the real servers without the VIP and with arp_ignore
    ///   and arp_announce at 0 (`LVS_TESTBED_RS_SETUP=none`), for lvs-realserver to set up.
    init(bareRealServers: Bool = false) throws {
        try Shell.requireRoot()
        let r = try Shell.run(["LVS_TESTBED_RS_SETUP=\(bareRealServers ? "none" : "dr")", Shell.testbedScript, "up"], timeout: 60)
        guard r.status == 0, let last = r.stdout.split(separator: "\n").last else {
            throw IntegrationError(description: "testbed.sh up failed (\(r.status)):\n\(r.stderr)")
        }
        prefix = String(last)
    }

    deinit { tearDown() }

    func tearDown() {
        guard isUp else { return }
        isUp = false
        _ = try? Shell.run([Shell.testbedScript, "down", prefix], timeout: 60)
    }

    func namespace(_ host: String) -> String { prefix + host }

    /// Runs `command` with sh in `host`'s namespace.
    @discardableResult
    func sh(_ host: String, _ command: String, timeout: TimeInterval = 60) throws -> CommandResult {
        try Shell.run(["ip", "netns", "exec", namespace(host), "sh", "-c", command], timeout: timeout)
    }

    /// Starts `command` in `host`'s namespace in the background and returns at once. The
    /// command gets none of the test process's descriptors besides its own redirections
    /// (Foundation's Process waits for every holder of its child's pipes, so an inherited one
    /// would make this call wait for the command to end).
    func background(_ host: String, _ command: String, log: String) throws {
        let detached = """
            for fd in /proc/$$/fd/*; do fd=${fd##*/}; if [ "$fd" -gt 2 ]; then eval "exec $fd>&-"; fi; done
            exec sh -c '\(command.replacingOccurrences(of: "'", with: "'\\''"))' </dev/null >\(log) 2>&1
            """
        try check(host, "bash -c '\(detached.replacingOccurrences(of: "'", with: "'\\''"))' &")
    }

    /// Like `sh`, but a non-zero exit is an error carrying the command's stderr.
    @discardableResult
    func check(_ host: String, _ command: String, timeout: TimeInterval = 60) throws -> String {
        let r = try sh(host, command, timeout: timeout)
        guard r.status == 0 else {
            throw IntegrationError(description: "[\(host)] `\(command)` exited \(r.status): \(r.stderr)")
        }
        return r.stdout
    }
}

extension TestBed {
    /// Downloads `bytes` from rs1's blob handler through the VIP and uploads as many random
    /// bytes through it, and checks both arrive intact (sha256 on either side): the offload
    /// paths (TSO super-frames, partial checksums) of whatever data path `director` runs.
    /// `scratch` is a directory the client can write (the director's).
    func checkBulkTransfersThroughVIP(bytes: Int, scratch: URL, timeout: Double) throws {
        let expected = try check("rs1", "curl -s http://10.200.0.11/blob/\(bytes) | sha256sum | cut -d' ' -f1")
        let downloaded = try check("client", "curl -s --max-time \(Int(timeout)) http://10.200.0.100/blob/\(bytes) | sha256sum | cut -d' ' -f1",
                                   timeout: timeout + 30)
        #expect(downloaded == expected, "download through the VIP differs from the real server's blob")

        let file = scratch.appendingPathComponent("upload.bin").path
        try check("client", "head -c \(bytes) /dev/urandom > \(file)")
        let local = try check("client", "sha256sum \(file) | cut -d' ' -f1").trimmingCharacters(in: .whitespacesAndNewlines)
        let reply = try check("client", "curl -s --max-time \(Int(timeout)) -X POST --data-binary @\(file) http://10.200.0.100/upload",
                              timeout: timeout + 30)
        let fields = reply.split(separator: " ").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        #expect(fields.count == 3 && fields[0].hasPrefix("rs"), "upload reply: \(reply)")
        #expect(fields.count == 3 && fields[1] == local && fields[2] == "\(bytes)", "upload arrived changed: \(reply) vs \(local)")
    }
}
