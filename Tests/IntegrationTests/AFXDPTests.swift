import Foundation
import Testing

/// lvsd with `--backend af_xdp` in the namespace test bed: the XDP program on the director's
/// veth redirects VIP frames to an AF_XDP socket, everything else goes to the kernel (and ARP
/// to lvsd's ARP socket). docs/DATAPLANE.md, "AF_XDP".
@Suite("AF_XDP backend", .serialized)
struct AFXDPTests {
    static let wrrRules = """
        -A -t 10.200.0.100:80 -s wrr
        -a -t 10.200.0.100:80 -r 10.200.0.11:80 -g -w 3
        -a -t 10.200.0.100:80 -r 10.200.0.12:80 -g -w 2
        -a -t 10.200.0.100:80 -r 10.200.0.13:80 -g -w 1

        """

    static func answers(_ out: String) -> [String: Int] {
        var answers: [String: Int] = [:]
        for line in out.split(separator: "\n") { answers[String(line), default: 0] += 1 }
        return answers
    }

    @Test("wrr 3:2:1 over 600 connections through AF_XDP gives 300/200/100; ARP and the director's own traffic still work; kill -9 leaves no XDP program")
    func forwardsThroughAFXDP() throws {
        let bed = try TestBed()
        defer { bed.tearDown() }
        let director = try DirectorProcess(bed: bed, rules: Self.wrrRules, extraArguments: ["--backend", "af_xdp"])
        defer { director.stop() }
        #expect(director.log.contains("lvsd: backend: AF_XDP ("), "log:\n\(director.log)")
        #expect(!director.log.contains("AF_XDP unavailable"), "log:\n\(director.log)")
        let link = try bed.check("director", "ip -d link show eth0")
        #expect(link.contains("prog/xdp") && link.contains("lvsd_xdp"), "no XDP program on eth0:\n\(link)")

        let out = try bed.check("client", """
            for i in $(seq 600); do curl -s --max-time 3 http://10.200.0.100/ || echo failed; done
            """, timeout: 300)
        #expect(Self.answers(out) == ["rs1": 300, "rs2": 200, "rs3": 100], "answers per real server: \(Self.answers(out))")

        // lvsd's ARP socket answered for the VIP (the XDP program passes ARP to the kernel).
        let neighbour = try bed.check("client", "ip neigh show 10.200.0.100")
        #expect(neighbour.contains("02:00:0a:c8:00:02"), "client's neighbour entry for the VIP: \(neighbour)")
        // The director's own traffic (what a health check does) is not taken by the program.
        let own = try bed.check("director", "curl -s --max-time 3 http://10.200.0.11/")
        #expect(own.trimmingCharacters(in: .whitespacesAndNewlines) == "rs1", "director -> rs1: \(own)")
        let ping = try bed.check("director", "ping -c 2 -W 2 10.200.0.12 >/dev/null && echo ok")
        #expect(ping.contains("ok"))

        usleep(1_200_000)  // the stats file is written once a second
        let stats = try director.stats()
        #expect(stats.object["backend"] as? String == "af_xdp")
        #expect(stats.counter("forwarded_frames") >= 600 * 4)
        #expect(stats.counter("transmit_errors") == 0)
        // AF_XDP descriptors carry no receive time: the member is there, as null.
        #expect(stats.object.keys.contains("ring_wait_us") && stats.object["ring_wait_us"] is NSNull,
                "ring_wait_us: \(String(describing: stats.object["ring_wait_us"]))")

        // The program is attached through a BPF link owned by lvsd: a crash detaches it.
        director.kill9()
        var after = try bed.check("director", "ip -d link show eth0")
        for _ in 0..<20 where after.contains("prog/xdp") {
            usleep(100_000)
            after = try bed.check("director", "ip -d link show eth0")
        }
        #expect(!after.contains("prog/xdp"), "XDP program still attached after kill -9:\n\(after)")
    }

    @Test("a VIP added with lvsadm reaches the XDP program's map: forwarded through AF_XDP; bulk transfers with offloads on arrive intact")
    func tableChangesAndBulk() throws {
        let bed = try TestBed()
        defer { bed.tearDown() }
        let director = try DirectorProcess(bed: bed, rules: nil, extraArguments: ["--backend", "af_xdp"])
        defer { director.stop() }
        #expect(director.log.contains("lvsd: backend: AF_XDP ("), "log:\n\(director.log)")
        try director.lvsadm(["-A", "-t", "10.200.0.100:80", "-s", "rr"])
        for rs in ["10.200.0.11", "10.200.0.12", "10.200.0.13"] {
            try director.lvsadm(["-a", "-t", "10.200.0.100:80", "-r", "\(rs):80", "-g", "-w", "1"])
        }
        let out = try bed.check("client", """
            for i in $(seq 30); do curl -s --max-time 3 http://10.200.0.100/ || echo failed; done
            """, timeout: 120)
        #expect(Self.answers(out) == ["rs1": 10, "rs2": 10, "rs3": 10], "answers per real server: \(Self.answers(out))")

        // The client's checksum offload and TSO are on (veth defaults): PartialChecksum completes
        // what AF_XDP cannot be told is partial.
        let features = try bed.check("client", "ethtool -k eth0")
        #expect(features.contains("tx-checksumming: on"), "client tx checksum offload is not at its default (on)")
        try bed.checkBulkTransfersThroughVIP(bytes: 5_000_000, scratch: director.directory, timeout: 30)
    }

    @Test("--xdp-mode generic: attached in skb mode, 60 connections forwarded 30/20/10")
    func genericMode() throws {
        let bed = try TestBed()
        defer { bed.tearDown() }
        let director = try DirectorProcess(bed: bed, rules: Self.wrrRules,
                                           extraArguments: ["--backend", "af_xdp", "--xdp-mode", "generic"])
        defer { director.stop() }
        #expect(director.log.contains("lvsd: backend: AF_XDP (generic mode, copy, queue 0)"), "log:\n\(director.log)")
        let link = try bed.check("director", "ip -d link show eth0")
        #expect(link.contains("xdpgeneric"), "not attached in generic mode:\n\(link)")
        let out = try bed.check("client", """
            for i in $(seq 60); do curl -s --max-time 3 http://10.200.0.100/ || echo failed; done
            """, timeout: 120)
        #expect(Self.answers(out) == ["rs1": 30, "rs2": 20, "rs3": 10], "answers per real server: \(Self.answers(out))")
    }

    @Test("native XDP refused (veth MTU 9000): one log line naming the interface, step and errno, then AF_PACKET forwards")
    func fallsBackToAFPacket() throws {
        let bed = try TestBed()
        defer { bed.tearDown() }
        // veth's native XDP needs a page-sized frame: a peer MTU of 9000 makes it refuse (ERANGE).
        try bed.check("sw", "ip link set p-dir mtu 9000")
        try bed.check("director", "ip link set eth0 mtu 9000")
        let director = try DirectorProcess(bed: bed, rules: Self.wrrRules,
                                           extraArguments: ["--backend", "af_xdp", "--xdp-mode", "native"])
        defer { director.stop() }
        #expect(director.log.contains("lvsd: warning: AF_XDP unavailable on eth0 (attach in native mode: ERANGE); forwarding with AF_PACKET"),
                "log:\n\(director.log)")
        #expect(director.log.contains("lvsd: backend: AF_PACKET"), "log:\n\(director.log)")
        let link = try bed.check("director", "ip -d link show eth0")
        #expect(!link.contains("prog/xdp"), "a program is attached after the fallback:\n\(link)")
        let out = try bed.check("client", """
            for i in $(seq 60); do curl -s --max-time 3 http://10.200.0.100/ || echo failed; done
            """, timeout: 120)
        #expect(Self.answers(out) == ["rs1": 30, "rs2": 20, "rs3": 10], "answers per real server: \(Self.answers(out))")
        usleep(1_200_000)
        #expect(try director.stats().object["backend"] as? String == "af_packet")
    }

    @Test("more workers than receive queues: the fallback line says so, and AF_PACKET forwards")
    func moreWorkersThanQueues() throws {
        let bed = try TestBed()
        defer { bed.tearDown() }
        let director = try DirectorProcess(bed: bed, rules: Self.wrrRules,
                                           extraArguments: ["--backend", "af_xdp", "--workers", "2"])
        defer { director.stop() }
        #expect(director.log.contains("AF_XDP unavailable on eth0 (2 workers but 1 receive queue"), "log:\n\(director.log)")
        let out = try bed.check("client", """
            for i in $(seq 12); do curl -s --max-time 3 http://10.200.0.100/ || echo failed; done
            """, timeout: 60)
        #expect(!out.contains("failed"), "answers: \(out)")
    }
}
