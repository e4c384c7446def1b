import Foundation
import Testing

/// End-to-end tests of lvsd in the namespace test bed: real veth links and bridge, real curl,
/// socat and Python servers, real kernel stacks on the client and the real servers.
@Suite("Direct routing through lvsd", .serialized)
struct DirectRoutingTests {
    static let rules = """
        # The seed recipe's rules, as `ipvsadm -S -n` prints them.
        -A -t 10.200.0.100:80 -s rr
        -a -t 10.200.0.100:80 -r 10.200.0.11:80 -g -w 1
        -a -t 10.200.0.100:80 -r 10.200.0.12:80 -g -w 1
        -a -t 10.200.0.100:80 -r 10.200.0.13:80 -g -w 1
        -A -u 10.200.0.100:9000 -s rr
        -a -u 10.200.0.100:9000 -r 10.200.0.11:9000 -g -w 1
        -a -u 10.200.0.100:9000 -r 10.200.0.12:9000 -g -w 1
        -a -u 10.200.0.100:9000 -r 10.200.0.13:9000 -g -w 1

        """

    /// Counters on the director's eth0 ingress, before anything else sees the frame: frames from
    /// the client to the VIP (must be > 0) and replies from the VIP to the client (must be 0 in DR).
    static let directorTap = """
        nft -f - <<'NFT'
        table netdev lvstest {
          counter to_vip {}
          counter replies {}
          chain ingress {
            type filter hook ingress device eth0 priority -500;
            ip daddr 10.200.0.100 ip saddr 10.200.0.10 counter name to_vip
            ip saddr 10.200.0.100 ip daddr 10.200.0.10 counter name replies
          }
        }
        NFT
        """

    static func nftCounter(_ bed: TestBed, _ host: String, family: String, table: String, name: String) throws -> Int {
        let out = try bed.check(host, "nft list counter \(family) \(table) \(name)")
        guard let range = out.range(of: #"packets (\d+)"#, options: .regularExpression) else {
            throw IntegrationError(description: "no packet count in: \(out)")
        }
        return Int(out[range].dropFirst("packets ".count)) ?? -1
    }

    @Test("300 HTTP requests through the VIP: all succeed, rr gives each real server exactly 100, replies bypass the director")
    func roundRobinOverThreeHundredRequests() throws {
        let bed = try TestBed()
        defer { bed.tearDown() }
        try bed.check("director", Self.directorTap)
        let director = try DirectorProcess(bed: bed, rules: Self.rules)
        defer { director.stop() }

        let out = try bed.check("client", """
            for i in $(seq 300); do curl -s --max-time 3 http://10.200.0.100/ || echo failed; done
            """, timeout: 240)
        var answers: [String: Int] = [:]
        for line in out.split(separator: "\n") { answers[String(line), default: 0] += 1 }
        #expect(answers == ["rs1": 100, "rs2": 100, "rs3": 100], "answers per real server: \(answers)")

        // Direct return: the director's link saw the requests but never a reply.
        let toVIP = try Self.nftCounter(bed, "director", family: "netdev", table: "lvstest", name: "to_vip")
        let replies = try Self.nftCounter(bed, "director", family: "netdev", table: "lvstest", name: "replies")
        #expect(toVIP >= 300 * 4, "client->VIP frames seen by the director: \(toVIP)")
        #expect(replies == 0, "VIP->client frames on the director's link: \(replies)")

        // The director's kernel never answered for the VIP (no RST, no ICMP).
        let rsts = try bed.check("director", "nstat -az TcpOutRsts | awk '/TcpOutRsts/ {print $2}'")
        #expect(rsts.trimmingCharacters(in: .whitespacesAndNewlines) == "0", "director kernel sent RSTs: \(rsts)")

        #expect(director.stop() == 0, "lvsd exit status; log:\n\(director.log)")
        let stats = try director.stats()
        #expect(stats.connectionsPerServer(port: 80) == ["10.200.0.11": 100, "10.200.0.12": 100, "10.200.0.13": 100])
        #expect(stats.counter("arp_replies_sent") >= 1)
        #expect(stats.counter("transmit_errors") == 0)
    }

    @Test("wrr 3:2:1 over 600 sequential connections gives exactly 300/200/100")
    func weightedRoundRobinOverSixHundredConnections() throws {
        let bed = try TestBed()
        defer { bed.tearDown() }
        let director = try DirectorProcess(bed: bed, rules: """
            -A -t 10.200.0.100:80 -s wrr
            -a -t 10.200.0.100:80 -r 10.200.0.11:80 -g -w 3
            -a -t 10.200.0.100:80 -r 10.200.0.12:80 -g -w 2
            -a -t 10.200.0.100:80 -r 10.200.0.13:80 -g -w 1

            """)
        defer { director.stop() }
        let out = try bed.check("client", """
            for i in $(seq 600); do curl -s --max-time 3 http://10.200.0.100/ || echo failed; done
            """, timeout: 300)
        var answers: [String: Int] = [:]
        for line in out.split(separator: "\n") { answers[String(line), default: 0] += 1 }
        #expect(answers == ["rs1": 300, "rs2": 200, "rs3": 100], "answers per real server: \(answers)")
    }

    @Test("20 MB download and 20 MB upload through the VIP arrive intact, with veth offloads at their defaults")
    func bulkTransfersSurviveOffloads() throws {
        let bed = try TestBed()
        defer { bed.tearDown() }
        // The point of this test is the offload path: TSO super-frames and partial checksums
        // from the client. Make sure they are really on.
        let features = try bed.check("client", "ethtool -k eth0")
        #expect(features.contains("tcp-segmentation-offload: on"), "client TSO is not at its default (on)")
        #expect(features.contains("tx-checksumming: on"), "client tx checksum offload is not at its default (on)")

        let director = try DirectorProcess(bed: bed, rules: Self.rules)
        defer { director.stop() }

        try bed.checkBulkTransfersThroughVIP(bytes: 20_000_000, scratch: director.directory, timeout: 60)

        director.stop()
        let stats = try director.stats()
        // TSO super-frames larger than a ring slot took the oversize path and were forwarded whole.
        #expect(stats.counter("oversize_frames") > 0)
        #expect(stats.counter("transmit_errors") == 0)
    }

    @Test("A UDP datagram to VIP:9000 reaches a real server and its reply reaches the client")
    func udpRequestAndReply() throws {
        let bed = try TestBed()
        defer { bed.tearDown() }
        let director = try DirectorProcess(bed: bed, rules: Self.rules)
        defer { director.stop() }
        let reply = try bed.check("client", "echo hello-udp | socat -t 2 - UDP4:10.200.0.100:9000", timeout: 20)
        #expect(reply.hasPrefix("rs") && reply.contains("hello-udp"), "UDP reply: \(reply)")
        director.stop()
        let udp = try director.stats().connectionsPerServer(port: 9000, protocol: "UDP")
        #expect(udp.values.reduce(0, +) == 1, "UDP connections: \(udp)")
    }

    @Test("The client's neighbour entry for the VIP is the director's MAC; no real server answers ARP for it")
    func onlyTheDirectorAnswersARP() throws {
        let bed = try TestBed()
        defer { bed.tearDown() }
        for rs in TestBed.realServers.keys.sorted() {
            try bed.check(rs, """
                nft add table arp lvstest && \
                nft add chain arp lvstest out '{ type filter hook output priority 0; }' && \
                nft add rule arp lvstest out arp operation reply arp saddr ip 10.200.0.100 counter name vip_replies 2>/dev/null || \
                { nft add counter arp lvstest vip_replies && nft add rule arp lvstest out arp operation reply arp saddr ip 10.200.0.100 counter name vip_replies; }
                """)
        }
        let director = try DirectorProcess(bed: bed, rules: Self.rules)
        defer { director.stop() }
        // Ask three times from a clean neighbour cache.
        for _ in 0..<3 {
            try bed.check("client", "ip neigh flush dev eth0 && curl -s --max-time 3 -o /dev/null http://10.200.0.100/")
        }
        let neighbour = try bed.check("client", "ip neigh show 10.200.0.100 dev eth0")
        #expect(neighbour.contains("lladdr \(TestBed.directorMAC)"), "client neighbour entry for the VIP: \(neighbour)")
        for rs in TestBed.realServers.keys.sorted() {
            let answered = try Self.nftCounter(bed, rs, family: "arp", table: "lvstest", name: "vip_replies")
            #expect(answered == 0, "\(rs) answered ARP for the VIP \(answered) times")
        }
        director.stop()
        let stats = try director.stats()
        #expect(stats.counter("arp_replies_sent") >= 3)
        #expect(stats.counter("vip_conflicts") == 0)
    }

    @Test("Malformed frames to the director are counted and dropped; forwarding goes on")
    func malformedFramesAreCountedAndDropped() throws {
        let bed = try TestBed()
        defer { bed.tearDown() }
        let director = try DirectorProcess(bed: bed, rules: Self.rules)
        defer { director.stop() }
        // Raw frames to the director's MAC from the client, each broken in one way.
        let script = """
            import socket, struct
            def csum(b):
                s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
                while s >> 16: s = (s & 0xffff) + (s >> 16)
                return (~s) & 0xffff
            def ip(total, ihl=5, proto=6, fix=True, ver=4):
                h = bytearray(struct.pack('!BBHHHBBH4s4s', (ver << 4) | ihl, 0, total, 1, 0x4000, 64, proto, 0,
                              socket.inet_aton('10.200.0.10'), socket.inet_aton('10.200.0.100')))
                if fix: h[10:12] = struct.pack('!H', csum(bytes(h)))
                return bytes(h)
            eth = bytes.fromhex('02000ac80002' '02000ac8000a' '0800')
            tcp_bad_offset = struct.pack('!HHIIBBHHH', 40000, 80, 1, 0, 2 << 4, 0x02, 1024, 0, 0)
            frames = [
                eth + ip(1000) + bytes(26),                 # total length beyond the frame
                eth + ip(40, fix=False) + bytes(20),        # bad header checksum
                eth + ip(40, ver=6) + bytes(20),            # IPv4 ethertype, version 6
                eth + ip(40, ihl=3) + bytes(20),            # IHL below 5
                eth + ip(40) + tcp_bad_offset,              # TCP data offset 2
            ]
            s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
            s.bind(('eth0', 0))
            for f in frames:
                s.send(f)
            """
        let file = director.directory.appendingPathComponent("malformed.py").path
        try script.write(toFile: file, atomically: true, encoding: .utf8)
        try bed.check("client", "python3 \(file)")
        let body = try bed.check("client", "curl -s --max-time 3 http://10.200.0.100/")
        #expect(body.hasPrefix("rs"), "forwarding after malformed frames: \(body)")
        #expect(director.stop() == 0, "lvsd must survive malformed frames; log:\n\(director.log)")
        let stats = try director.stats()
        for name in ["malformed_bad_ip_total_length", "malformed_bad_ip_header_checksum", "malformed_bad_ip_version",
                     "malformed_bad_ip_header_length", "malformed_bad_tcp_data_offset"] {
            #expect(stats.counter(name) >= 1, "\(name) = \(stats.counter(name))")
        }
    }
}
