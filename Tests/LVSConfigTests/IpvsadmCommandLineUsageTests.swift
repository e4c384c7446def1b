import Testing
import LVSConfig

/// `-h` and `-v`: ipvsadm's layout (synopsis, commands, services, options, daemon options) in
/// SwiftLVS's words, and every option the grammar knows is documented.
@Suite struct IpvsadmCommandLineUsageTests {
    static let longOptions = [
        "add-service", "edit-service", "delete-service", "clear", "restore", "save", "add-server", "edit-server",
        "delete-server", "list", "zero", "set", "start-daemon", "stop-daemon", "help",
        "tcp-service", "udp-service", "sctp-service", "fwmark-service",
        "ipv6", "scheduler", "pe", "persistent", "netmask", "real-server", "gatewaying", "ipip", "masquerading",
        "tun-type", "tun-port", "tun-nocsum", "tun-csum", "tun-remcsum", "weight", "u-threshold", "l-threshold",
        "connection", "timeout", "daemon", "stats", "rate", "exact", "thresholds", "persistent-conn", "tun-info",
        "nosort", "sort", "ops", "numeric", "sched-flags",
        "syncid", "sync-maxlen", "mcast-interface", "mcast-group", "mcast-port", "mcast-ttl",
    ]

    @Test func version() {
        #expect(IpvsadmCommandLine.versionText == "lvsadm v0.1 (ipvsadm v1.31 compatible, IPVS v1.2.1)\n")
    }

    // The version line, then the synopsis whose first line the spec gives, with the program name.
    @Test func synopsis() {
        let text = IpvsadmCommandLine.usage(programName: "lvsadm")
        #expect(text.hasPrefix(IpvsadmCommandLine.versionText + "Usage:\n"
            + "  lvsadm -A|E virtual-service [-s scheduler] [-p [timeout]] [-M netmask] [--pe persistence_engine] [-b sched-flags]\n"
            + "  lvsadm -D virtual-service\n"))
        let synopsis = text.split(separator: "\n").filter { $0.hasPrefix("  /usr/sbin/lvsadm ") }
        #expect(synopsis.isEmpty)
        let named = IpvsadmCommandLine.usage(programName: "/usr/sbin/lvsadm").split(separator: "\n")
            .filter { $0.hasPrefix("  /usr/sbin/lvsadm ") }
        #expect(named.count == 13)
        #expect(named.last == "  /usr/sbin/lvsadm -h")
    }

    /// Where `needle` first occurs in `text`, in UTF-8 bytes (no Foundation here).
    static func offset(of needle: String, in text: String) -> Int? {
        let haystack = Array(text.utf8)
        let pattern = Array(needle.utf8)
        guard pattern.count <= haystack.count else { return nil }
        return (0...(haystack.count - pattern.count)).first { haystack[$0..<($0 + pattern.count)].elementsEqual(pattern) }
    }

    // Sections in ipvsadm's order.
    @Test func sectionsInOrder() throws {
        let text = IpvsadmCommandLine.usage(programName: "lvsadm")
        var previous = -1
        for heading in ["Usage:\n", "\nCommands:\n", "\nvirtual-service:\n", "\nOptions:\n", "Daemon Options:\n"] {
            let offset = try #require(Self.offset(of: heading, in: text), "\(heading)")
            #expect(offset > previous, "\(heading)")
            previous = offset
        }
        #expect(text.hasSuffix("\n"))
    }

    // Every long option appears, and every one shown is one the parser knows.
    @Test func everyOptionDocumentedAndKnown() {
        let text = IpvsadmCommandLine.usage(programName: "lvsadm")
        let parser = IpvsadmCommandLine(serviceNames: ServiceNames(), resolveHost: { _ in nil })
        for name in Self.longOptions {
            #expect(text.contains("--\(name)"), "\(name)")
            do {
                _ = try parser.parse(["-L", "--\(name)"])
            } catch {
                #expect(!error.message.hasSuffix("unknown option"), "\(name): \(error.message)")
            }
        }
    }
}
