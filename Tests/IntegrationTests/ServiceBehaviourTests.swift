import Foundation
import Testing

/// Service features end to end: persistence and the ICMP the director sends.
@Suite("Service behaviour through lvsd", .serialized)
struct ServiceBehaviourTests {
    @Test("A persistent service keeps one client on one real server; a one-packet UDP service spreads one client port")
    func persistentServiceKeepsClientOnOneServer() throws {
        let bed = try TestBed()
        defer { bed.tearDown() }
        let director = try DirectorProcess(bed: bed, rules: """
            -A -t 10.200.0.100:80 -s rr -p 300
            -a -t 10.200.0.100:80 -r 10.200.0.11:80 -g -w 1
            -a -t 10.200.0.100:80 -r 10.200.0.12:80 -g -w 1
            -a -t 10.200.0.100:80 -r 10.200.0.13:80 -g -w 1
            -A -u 10.200.0.100:9000 -s rr -o
            -a -u 10.200.0.100:9000 -r 10.200.0.11 -g
            -a -u 10.200.0.100:9000 -r 10.200.0.12 -g

            """)
        defer { director.stop() }
        let out = try bed.check("client", """
            for i in $(seq 30); do curl -s --max-time 3 http://10.200.0.100/ || echo failed; done
            """, timeout: 120)
        let answers = Set(out.split(separator: "\n").map(String.init))
        #expect(answers.count == 1 && answers.first?.hasPrefix("rs") == true, "answers: \(answers)")
        // The UDP service uses one-packet scheduling: two datagrams from the same client port go
        // to two servers (without -o the second would follow the first's connection).
        let udp = try bed.check("client", """
            echo a | socat -t 2 - UDP4:10.200.0.100:9000,sourceport=5001; \
            echo b | socat -t 2 - UDP4:10.200.0.100:9000,sourceport=5001
            """, timeout: 20)
        let udpServers = Set(udp.split(separator: "\n").map { $0.split(separator: " ").first.map(String.init) ?? "" })
        #expect(udpServers.count == 2, "UDP answers: \(udp)")
    }

    @Test("All weights 0: the client gets ICMP port unreachable at once (connection refused), not a timeout")
    func noServerAvailableRefusesAtOnce() throws {
        let bed = try TestBed()
        defer { bed.tearDown() }
        let director = try DirectorProcess(bed: bed, rules: """
            -A -t 10.200.0.100:80 -s wrr
            -a -t 10.200.0.100:80 -r 10.200.0.11:80 -g -w 0
            -a -t 10.200.0.100:80 -r 10.200.0.12:80 -g -w 0

            """)
        defer { director.stop() }
        let started = Date()
        let r = try bed.sh("client", "curl -s --max-time 5 http://10.200.0.100/")
        let elapsed = Date().timeIntervalSince(started)
        // curl's exit 7 is "failed to connect" (ECONNREFUSED from the ICMP error); 28 would be a timeout.
        #expect(r.status == 7, "curl exit \(r.status) after \(elapsed) s: \(r.stderr)")
        #expect(elapsed < 3)
        director.stop()
        let stats = try director.stats()
        #expect(stats.counter("icmp_errors_sent") >= 1)
        #expect(stats.counter("drop_no_destination") >= 1)
    }
}
