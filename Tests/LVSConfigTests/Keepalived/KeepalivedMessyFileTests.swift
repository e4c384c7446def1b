import Testing
import LVSCore
import LVSConfig

/// keepalived.conf files as they are found on real directors: tabs, comments in other
/// languages, `80{`, typos, obsolete keywords, lowercase `dr`, NAT and method-less services,
/// CRLF line ends and no final newline. Every service, check and warning is asserted.
@Suite struct KeepalivedMessyFileTests {
    typealias K = Keepalived

    static let text = """
        ! Configuration File for keepalived

        global_defs {
        \tnotification_email {
        \t\tacassen@firewall.loc
        \t}
        \trouter_id LVS_DEVEL   # 负载均衡器标识
        }

        vrrp_instance VI_1 {
        \tstate MASTER
        \tinterface eth0
        \tvirtual_router_id 51
        \tpriority 100
        \tadvert_int 1
        \tauthentication {
        \t\tauth_type PASS
        \t\tauth_pass 1111
        \t}
        \tvirtual_ipaddress {
        \t\t10.0.0.100
        \t}
        }

        virtual_server 10.0.0.100 80 {   #设置虚拟服务器
        \tdelay_loop 6\t\t# 健康检查间隔
        \tlb_algo rr
        \tlb_kind DR
        \tnat_mask 255.255.255.0
        \tpersistence_timeout 50
        \tprotocol TCP

        \treal_server 10.0.0.11 80 {
        \t\tweigth 3\t\t## 权重
        \t\tTCP_CHECK {
        \t\t\tconnect_timeout 3
        \t\t\tnb_get_retry 3
        \t\t\tdelay_before_retry 3
        \t\t\tconnect_port 80
        \t\t}
        \t}
        \treal_server 10.0.0.12 80{
        \t\tweight 1
        \t\tHTTP_GET {
        \t\t\turl {
        \t\t\t  path /test/jsp/2.jsp
        \t\t\t  digest c2b63159e701960a9eef44a302b56074
        \t\t\t}
        \t\t\tconnect_timeout 3
        \t\t\tnb_get_retry 3
        \t\t\tdelay_before_retry 3
        \t\t}
        \t}
        }

        virtual_server 10.0.0.100 1521 {
        \tlb_algo wrr
        \tlb_kind dr\t\t! lowercase: keepalived does not know it
        \tprotocol TCP
        \tsorry_server 10.0.0.99 1521
        \treal_server 10.0.0.11 1522 {
        \t\tweight 1
        \t}
        }

        virtual_server 10.0.0.100 50051 {
        \tlb_algo rr
        \tlb_kind NAT
        \tprotocol TCP
        \treal_server 192.168.1.5 50051{
        \t\tweight 1
        \t}
        }

        virtual_server 10.0.0.100 3306 {
        \tdelay_loop 2
        \tlb_algo rr
        \tprotocol TCP
        \treal_server 10.0.0.13 3306 {
        \t\tweight 3
        \t\tnotify_down /etc/keepalived/bin/mysql.sh
        \t\tTCP_CHECK {
        \t\t\tconnect_timeout 3
        \t\t}
        \t}
        }
        """

    static let expectedWarnings = [
        K.warning(29, "nat_mask is obsolete (keepalived no longer reads it, and it has no meaning for direct routing); ignored"),
        K.warning(34, "unknown keyword 'weigth' in real_server (did you mean 'weight'?); ignored"),
        K.warning(37, "nb_get_retry is deprecated; keepalived reads it as 'retry', and so does lvsd: write retry 3"),
        K.warning(50, "nb_get_retry is deprecated; keepalived reads it as 'retry', and so does lvsd: write retry 3"),
        K.warning(58, "unknown routing method 'dr' for the virtual server: keepalived reads NAT, DR or TUN, case-sensitively (write 'DR'); this line is ignored, as keepalived ignores it"),
        K.warning(56, "virtual_server 10.0.0.100 1521 has no valid lb_kind ('lb_kind dr' at line 58 is ignored), so keepalived forwards it by NAT, its default; SwiftLVS forwards by direct routing only, so this virtual server is skipped: write 'lb_kind DR'"),
        K.warning(68, "virtual_server 10.0.0.100 50051 forwards by NAT (lb_kind NAT); SwiftLVS forwards by direct routing only, so this virtual server is skipped"),
        K.warning(75, "virtual_server 10.0.0.100 3306 has no lb_kind (or lvs_method), so keepalived forwards it by NAT, its default; SwiftLVS forwards by direct routing only, so this virtual server is skipped: add 'lb_kind DR' to it"),
    ]

    func expectTheWholeReading(_ config: KeepalivedConfiguration, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(config.warnings == Self.expectedWarnings, sourceLocation: sourceLocation)
        #expect(config.routerID == "LVS_DEVEL", sourceLocation: sourceLocation)
        #expect(config.director == DirectorConfiguration(services: [
            VirtualServiceConfig(key: K.tcp(100, 80), scheduler: "rr", persistence: Persistence(timeout: 50),
                                 realServers: [K.server(11, 80), K.server(12, 80)]),
        ]), sourceLocation: sourceLocation)

        var tcp = K.checker(.tcp, delayLoop: 6)
        tcp.connectTimeout = 3
        tcp.retry = 3
        tcp.delayBeforeRetry = 3
        tcp.connectPort = 80
        var http = K.checker(.http(HTTPCheck(urls: [
            HTTPCheck.URL(path: "/test/jsp/2.jsp", digest: "c2b63159e701960a9eef44a302b56074"),
        ])), delayLoop: 6)
        http.connectTimeout = 3
        http.retry = 3
        var service = ServiceHealth(key: K.tcp(100, 80))
        service.delayLoop = 6
        service.realServers = [K.realServer(11, 80, checkers: [tcp]), K.realServer(12, 80, checkers: [http])]
        #expect(config.health == HealthConfiguration(services: [service]), sourceLocation: sourceLocation)

        #expect(config.vrrpInstances == [VRRPInstanceBlock(name: "VI_1", settings: [
            ("state", ["MASTER"]), ("interface", ["eth0"]), ("virtual_router_id", ["51"]), ("priority", ["100"]),
            ("advert_int", ["1"]), ("authentication.auth_type", ["PASS"]), ("authentication.auth_pass", ["1111"]),
            ("virtual_ipaddress", ["10.0.0.100"]),
        ], file: K.file, line: 10)], sourceLocation: sourceLocation)
    }

    @Test func theMessyFileReadsAsKeepalivedReadsIt() throws {
        #expect(!Self.text.hasSuffix("\n"))
        expectTheWholeReading(try K.parse(Self.text))
    }

    @Test func crlfLineEndsChangeNothing() throws {
        let crlf = Self.text.split(separator: "\n", omittingEmptySubsequences: false).joined(separator: "\r\n")
        #expect(crlf.utf8.count == Self.text.utf8.count + 85)
        expectTheWholeReading(try K.parse(crlf))
    }

    @Test func theSameFileLoadedFromDiskWithAFinalNewline() throws {
        let file = TemporaryFile(Self.text + "\n")
        let config = try K.reader.load(path: file.path)
        #expect(config.warnings.map(\.file) == Array(repeating: file.path, count: Self.expectedWarnings.count))
        #expect(config.warnings.map(\.line) == Self.expectedWarnings.map(\.line))
        #expect(config.director.services.map(\.key) == [K.tcp(100, 80)])
    }
}
