import Foundation
import Testing

/// `probe_via_vip` in the namespace bed: the SYN goes to VIP:port with the real server's MAC, as
/// the data plane forwards a client's, so a server that does not really serve the VIP fails
/// where a plain TCP_CHECK to its own address passes.
@Suite("probe_via_vip in the namespace bed", .serialized)
struct ProbeViaVIPTests {
    static let vip = TestBed.vip

    /// Starts an HTTP server on `host` that answers its own name, bound to `bind` (0.0.0.0, or
    /// the server's own address only), port 8080.
    static func startServer(_ bed: TestBed, _ host: String, bind: String) throws {
        let dir = "/tmp/\(bed.prefix)www-\(host)"
        try bed.check(host, "rm -rf \(dir); mkdir -p \(dir); echo \(host) > \(dir)/index.html")
        try bed.background(host, "exec python3 -m http.server 8080 --bind \(bind) --directory \(dir)", log: "\(dir).log")
        try bed.check(host, "for i in $(seq 50); do ss -ltn | grep -q ':8080 ' && exit 0; sleep 0.1; done; exit 1")
    }

    static func config() -> String {
        var text = """
            ! written by ProbeViaVIPTests
            virtual_server \(vip) 8080 {
                delay_loop 1
                lb_algo rr
                lb_kind DR
                protocol TCP
                alpha

            """
        for name in ["rs1", "rs2", "rs3"] {
            text += """
                    real_server \(TestBed.realServers[name]!) 8080 {
                        weight 1
                        TCP_CHECK {
                            connect_timeout 1
                            retry 1
                            delay_before_retry 0.5
                            probe_via_vip
                        }
                    }

                """
        }
        // The same listener of rs2 under a plain TCP_CHECK (to its own address): it passes.
        text += """
            }
            virtual_server \(vip) 8081 {
                delay_loop 1
                lb_algo rr
                lb_kind DR
                protocol TCP
                alpha
                real_server \(TestBed.realServers["rs2"]!) 8081 {
                    TCP_CHECK {
                        connect_port 8080
                        connect_timeout 1
                    }
                }
            }

            """
        return text
    }

    @Test("rs2 listening on its own address only passes a plain TCP_CHECK but never enters with probe_via_vip; rs3 losing the VIP leaves; no request fails")
    func probeViaVIP() throws {
        let bed = try TestBed()
        defer { bed.tearDown() }
        try Self.startServer(bed, "rs1", bind: "0.0.0.0")
        try Self.startServer(bed, "rs2", bind: TestBed.realServers["rs2"]!)
        try Self.startServer(bed, "rs3", bind: "0.0.0.0")
        let director = try HealthCheckTests.startDirector(bed, config: Self.config())
        defer { director.stop() }
        let listsRS1RS3 = try HealthCheckTests.waitForTable(director, seconds: 5) {
            $0.contains("-> 10.200.0.11:8080 ") && $0.contains("-> 10.200.0.13:8080 ") && $0.contains("-> 10.200.0.12:8081 ")
        }
        var listing = try director.lvsadm(["-L", "-n"]).stdout
        #expect(listsRS1RS3 != nil, "\(listing)\n\(director.log)")
        sleep(2)
        listing = try director.lvsadm(["-L", "-n"]).stdout
        #expect(!listing.contains("-> 10.200.0.12:8080 "), "rs2 does not serve the VIP, yet it is in:\n\(listing)")
        #expect(listing.contains("-> 10.200.0.12:8081 "), "the plain TCP_CHECK of the same listener passes:\n\(listing)")
        #expect(director.log(contains: "TCP connection to [10.200.0.12]:tcp:8080 failed (connection to the VIP refused through the DR path (reset))"),
                "\(director.log)")
        // Each SYN-ACK is answered with a reset: the real servers keep no half-open connection.
        let halfOpen = try bed.check("rs1", "ss -Htn state syn-recv '( sport = :8080 )' | wc -l")
        #expect(halfOpen.trimmingCharacters(in: .whitespacesAndNewlines) == "0", "half-open on rs1: \(halfOpen)")
        // The director's kernel never learnt a real server's MAC for the VIP from the probes.
        let neighbour = try bed.check("director", "ip neigh show \(Self.vip)")
        #expect(!TestBed.realServerMACs.values.contains { neighbour.contains($0) }, "director: \(neighbour)")

        // Client load on VIP:8080 while rs3 loses the VIP.
        let directory = "/tmp/\(bed.prefix)vipload"
        try bed.check("client", "rm -rf \(directory); mkdir -p \(directory)")
        try bed.background("client", """
            end=$(( $(date +%s) + 40 )); i=0
            while [ ! -e \(directory)/stop ] && [ $(date +%s) -lt $end ] && [ $i -lt 800 ]; do
              i=$((i+1))
              r=$(curl -s --max-time 2 http://\(Self.vip):8080/ || echo failed)
              echo "$(date +%s.%N) ${r:-failed}" >> \(directory)/log
              sleep 0.05
            done
            touch \(directory)/done
            """, log: "\(directory)/loop.log")
        defer { _ = try? bed.sh("client", "touch \(directory)/stop") }
        sleep(2)
        let dropped = Date()
        try bed.check("rs3", "ip addr del \(Self.vip)/32 dev lo")
        let removed = try HealthCheckTests.waitForTable(director, seconds: 8) { !$0.contains("-> 10.200.0.13:8080 ") }
        #expect(removed != nil, "rs3 without the VIP was not removed:\n\(director.log)")
        #expect((removed ?? Date()).timeIntervalSince(dropped) < 4.5)
        sleep(4)
        try bed.check("client", "touch \(directory)/stop; for i in $(seq 60); do [ -e \(directory)/done ] && break; sleep 0.1; done")
        let entries = try bed.check("client", "cat \(directory)/log").split(separator: "\n").compactMap { line -> (Double, String)? in
            let parts = line.split(separator: " ", maxSplits: 1)
            guard parts.count == 2, let t = Double(parts[0]) else { return nil }
            return (t, String(parts[1]))
        }
        #expect(director.log(contains: "TCP connection to [10.200.0.13]:tcp:8080 failed (no SYN-ACK from the VIP through the DR path)"),
                "\(director.log)")
        let droppedAt = dropped.timeIntervalSince1970
        let removedAt = (removed ?? Date()).timeIntervalSince1970
        #expect(entries.count > 20, "load: \(entries.count) requests")
        // Before rs3 lost the VIP nothing failed (rs2 never took a request); after it left the
        // table (plus one curl timeout for a request already on its way) nothing failed either.
        let failedBefore = entries.filter { $0.0 < droppedAt && $0.1 == "failed" }
        let failedAfter = entries.filter { $0.0 > removedAt + 2.2 && $0.1 == "failed" }
        #expect(failedBefore.isEmpty && failedAfter.isEmpty, "failed: \(failedBefore) \(failedAfter)")
        #expect(!entries.contains { $0.1 == "rs2" }, "rs2 answered a request")
        #expect(entries.contains { $0.0 > removedAt + 2.2 && $0.1 == "rs1" })
        #expect(!entries.contains { $0.0 > removedAt + 2.2 && $0.1 == "rs3" })
    }

    @Test("UDP_CHECK through the VIP: rs-server's echo (bound to the VIP only) answers; to the server's own address it is unreachable; rs3 without the VIP leaves")
    func udpThroughVIP() throws {
        let bed = try TestBed()
        defer { bed.tearDown() }
        func check(_ extra: String) -> String {
            "UDP_CHECK {\n payload 70696e67\n require_reply\n connect_timeout 1\n retry 1\n delay_before_retry 0.5\n \(extra)\n }"
        }
        var config = "virtual_server \(Self.vip) 9000 {\n delay_loop 1\n lb_algo rr\n lb_kind DR\n protocol UDP\n alpha\n"
        for name in ["rs1", "rs2", "rs3"] {
            config += " real_server \(TestBed.realServers[name]!) 9000 {\n  \(check("probe_via_vip"))\n }\n"
        }
        // The same echo checked at rs2's own address: ICMP port unreachable, never in.
        config += "}\nvirtual_server \(Self.vip) 9001 {\n delay_loop 1\n lb_algo rr\n lb_kind DR\n protocol UDP\n alpha\n"
        config += " real_server \(TestBed.realServers["rs2"]!) 9001 {\n  \(check("connect_port 9000"))\n }\n}\n"
        let director = try HealthCheckTests.startDirector(bed, config: config)
        defer { director.stop() }
        let all = try HealthCheckTests.waitForTable(director, seconds: 5) { listing in
            ["11", "12", "13"].allSatisfy { listing.contains("-> 10.200.0.\($0):9000 ") }
        }
        var listing = try director.lvsadm(["-L", "-n"]).stdout
        #expect(all != nil, "\(listing)\n\(director.log)")
        sleep(2)
        listing = try director.lvsadm(["-L", "-n"]).stdout
        #expect(!listing.contains("-> 10.200.0.12:9001 "), "the echo answered at rs2's own address:\n\(listing)")
        #expect(director.log(contains: "UDP_CHECK to [10.200.0.12]:udp:9000 failed (ICMP port unreachable)"), "\(director.log)")

        let dropped = Date()
        try bed.check("rs3", "ip addr del \(Self.vip)/32 dev lo")
        let removed = try HealthCheckTests.waitForTable(director, seconds: 8) { !$0.contains("-> 10.200.0.13:9000 ") }
        #expect(removed != nil, "rs3 without the VIP was not removed:\n\(director.log)")
        #expect((removed ?? Date()).timeIntervalSince(dropped) < 4.5)
        #expect(director.log(contains: "UDP_CHECK to [10.200.0.13]:udp:9000 failed (no reply)"), "\(director.log)")
        listing = try director.lvsadm(["-L", "-n"]).stdout
        #expect(listing.contains("-> 10.200.0.11:9000 ") && listing.contains("-> 10.200.0.12:9000 "), "\(listing)")
    }

    @Test("HTTP_GET with probe_via_vip: the handshake through the VIP first (rs2 fails it), then the request (rs3's 404 fails it)")
    func httpThroughVIP() throws {
        let bed = try TestBed()
        defer { bed.tearDown() }
        try Self.startServer(bed, "rs1", bind: "0.0.0.0")
        try Self.startServer(bed, "rs2", bind: TestBed.realServers["rs2"]!)
        try Self.startServer(bed, "rs3", bind: "0.0.0.0")
        try bed.check("rs3", "rm /tmp/\(bed.prefix)www-rs3/index.html")
        var config = "virtual_server \(Self.vip) 8080 {\n delay_loop 1\n lb_algo rr\n lb_kind DR\n protocol TCP\n alpha\n"
        for name in ["rs1", "rs2", "rs3"] {
            config += " real_server \(TestBed.realServers[name]!) 8080 {\n  HTTP_GET {\n   url {\n    path /index.html\n    status_code 200\n   }\n"
            config += "   connect_timeout 1\n   retry 1\n   delay_before_retry 0.5\n   probe_via_vip\n  }\n }\n"
        }
        config += "}\n"
        let director = try HealthCheckTests.startDirector(bed, config: config)
        defer { director.stop() }
        let rs1 = try HealthCheckTests.waitForTable(director, seconds: 5) { $0.contains("-> 10.200.0.11:8080 ") }
        #expect(rs1 != nil, "\(director.log)")
        sleep(2)
        let listing = try director.lvsadm(["-L", "-n"]).stdout
        #expect(!listing.contains("-> 10.200.0.12:8080 ") && !listing.contains("-> 10.200.0.13:8080 "), "\(listing)")
        #expect(director.log(contains: "HTTP_GET to [10.200.0.12]:tcp:8080 failed (connection to the VIP refused through the DR path (reset))"),
                "\(director.log)")
        #expect(director.log(contains: "HTTP_GET to [10.200.0.13]:tcp:8080 failed (url /index.html: status code 404)"), "\(director.log)")
    }
}
