import Foundation
import Testing

/// SSL_GET in the namespace bed: a TLS server (python3's ssl module around http.server, with a
/// self-signed certificate from the openssl CLI) on port 443 of each real server beside the
/// service on port 80; stopping it on rs2 takes rs2 out of VIP:80, starting it brings it back.
@Suite("SSL_GET in the namespace bed", .serialized)
struct SSLGetTests {
    static let vip = TestBed.vip
    /// MD5 of the body "ok\n" the TLS servers answer on /health.
    static let digest = "eff5bc1ef8ec9d03e640fc4370f5eacd"

    static let server = """
        import http.server, ssl, sys
        certificate, key, sni_file = sys.argv[1], sys.argv[2], sys.argv[3]
        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                body = b"ok\\n" if self.path == "/health" else b"other\\n"
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            def log_message(self, *args):
                pass
        def remember_sni(sock, name, context):
            with open(sni_file, "w") as f:
                f.write(name or "")
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(certificate, key)
        context.sni_callback = remember_sni
        server = http.server.ThreadingHTTPServer(("0.0.0.0", 443), Handler)
        server.socket = context.wrap_socket(server.socket, server_side=True)
        server.serve_forever()
        """

    static func startTLS(_ bed: TestBed, _ host: String, work: String) throws {
        try bed.background(host, "echo $$ > \(work)/\(host).pid; exec python3 \(work)/server.py \(work)/cert.pem \(work)/key.pem \(work)/\(host).sni",
                           log: "\(work)/\(host).log")
        try bed.check(host, "for i in $(seq 50); do ss -ltn | grep -q ':443 ' && exit 0; sleep 0.1; done; exit 1")
    }

    static func stopTLS(_ bed: TestBed, _ host: String, work: String) throws {
        try bed.check(host, "kill -KILL $(cat \(work)/\(host).pid); for i in $(seq 50); do ss -ltn | grep -q ':443 ' || exit 0; sleep 0.1; done; exit 1")
    }

    @Test("SSL_GET with status_code and digest: rs2's TLS server stops → out within delay_loop + retry, back when it starts; SNI sent; no request fails")
    func sslGetUnderLoad() throws {
        let bed = try TestBed()
        defer { bed.tearDown() }
        let work = "/tmp/\(bed.prefix)tls"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: work) }
        try Self.server.write(toFile: "\(work)/server.py", atomically: true, encoding: .utf8)
        let made = try Shell.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                                  "-nodes", "-keyout", "\(work)/key.pem", "-out", "\(work)/cert.pem", "-days", "1",
                                  "-subj", "/CN=swiftlvs-test"])
        #expect(made.status == 0, "openssl: \(made.stderr)")
        for host in ["rs1", "rs2", "rs3"] { try Self.startTLS(bed, host, work: work) }

        let check = """
            SSL_GET {
                url {
                    path /health
                    digest \(Self.digest)
                    status_code 200
                }
                virtualhost health.example
                enable_sni
                connect_port 443
                connect_timeout 1
                retry 1
                delay_before_retry 0.5
            }
            """
        let director = try HealthCheckTests.startDirector(bed, config: HealthCheckTests.config(servers: ["rs1", "rs2", "rs3"], check: check))
        defer { director.stop() }
        let load = try HealthCheckTests.Load(bed: bed)
        sleep(2)
        #expect(!director.log(contains: "SSL_GET to"), "a check failed while every TLS server runs:\n\(director.log)")
        let sni = try bed.check("rs1", "cat \(work)/rs1.sni 2>/dev/null || true")
        #expect(sni == "health.example", "SNI seen by rs1: '\(sni)'")

        let stopped = Date()
        try Self.stopTLS(bed, "rs2", work: work)
        let removed = try HealthCheckTests.waitForTable(director, seconds: 8, HealthCheckTests.omits("10.200.0.12"))
        #expect(removed != nil, "rs2 was not removed:\n\(director.log)")
        let removalDelay = (removed ?? Date()).timeIntervalSince(stopped)
        #expect(removalDelay < 2.5, "removed \(removalDelay) s after its TLS server stopped")
        sleep(2)
        try Self.startTLS(bed, "rs2", work: work)
        let back = try HealthCheckTests.waitForTable(director, seconds: 8, HealthCheckTests.lists("10.200.0.12"))
        #expect(back != nil, "rs2 did not come back:\n\(director.log)")
        sleep(2)
        let entries = try load.finish()

        #expect(entries.count > 50, "load: \(entries.count) requests")
        #expect(!entries.contains { $0.1 == "failed" }, "a request failed: \(entries.filter { $0.1 == "failed" })")
        let removedAt = (removed ?? Date()).timeIntervalSince1970
        let backAt = (back ?? Date()).timeIntervalSince1970
        let rs2WhileOut = entries.filter { $0.0 > removedAt + 0.3 && $0.0 < backAt - 0.3 && $0.1 == "rs2" }
        #expect(rs2WhileOut.isEmpty, "rs2 answered while out of the table: \(rs2WhileOut.count)")
        #expect(entries.contains { $0.0 > backAt + 0.3 && $0.1 == "rs2" }, "rs2 gets traffic again")
        #expect(director.log(contains: "SSL_GET to [10.200.0.12]:tcp:443 failed (Connection refused)"), "\(director.log)")
        #expect(director.log(contains: "Removing service [10.200.0.12]:tcp:80 from VS [10.200.0.100]:tcp:80"))
        #expect(director.log(contains: "Adding service [10.200.0.12]:tcp:80 to VS [10.200.0.100]:tcp:80"))
    }
}
