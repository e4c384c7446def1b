import Testing
import LVSCore
import LVSConfig

/// global_defs, the VRRP blocks kept for high availability, and the other top-level blocks.
@Suite struct KeepalivedGlobalsTests {
    typealias K = Keepalived

    @Test func globalDefinitionsKeepWhatAppliesAndNameTypos() throws {
        let config = try K.parse("""
            global_defs {
                notification_email {
                    admin@example.com
                    "Ops <ops@example.com>"
                }
                notification_email_from lvs@example.com
                smtp_server 127.0.0.1
                smtp_connect_timeout 30
                router_id LVS_DEVEL
                vrrp_skip_check_adv_addr
                vrrp_garp_interval 0
                vrrp_gna_interval 0
                enable_script_security
                script_user keepalived_script
                lvs_timeouts tcp 7200 udp 60
                lvs_sync_daemon eth0 VI_1 id 5
                lvs_flush
                roter_id typo
            }
            """)
        #expect(config.routerID == "LVS_DEVEL")
        #expect(config.lvsTimeouts == TimeoutSetting(tcp: 7200, tcpFin: 0, udp: 60))
        var sync = SyncDaemonOptions(role: .backup)
        sync.interface = "eth0"
        sync.syncID = 5
        #expect(config.syncDaemon == KeepalivedSyncDaemon(options: sync, vrrpInstance: "VI_1"))
        #expect(config.warnings == [
            K.warning(18, "unknown keyword 'roter_id' in global_defs (did you mean 'router_id'?); ignored"),
        ])
        #expect(config.vrrpVersion == nil)   // none given: keepalived's default (2) applies
    }

    @Test("global_defs vrrp_version: kept with its line; another value than 2 or 3 is an error there")
    func vrrpVersion() throws {
        let config = try K.parse("global_defs {\n    router_id a\n    vrrp_version 3\n}\n")
        #expect(config.vrrpVersion?.version == 3)
        #expect(config.vrrpVersion?.line == 3)
        #expect(config.warnings.isEmpty)
        #expect(try K.parse("global_defs {\n vrrp_version 2\n}\n").vrrpVersion?.version == 2)
        for bad in ["vrrp_version 1", "vrrp_version three", "vrrp_version"] {
            #expect(throws: ConfigurationError.self, "\(bad)") { try K.parse("global_defs {\n \(bad)\n}\n") }
        }
    }

    @Test func syncDaemonTakesEveryOption() throws {
        let config = try K.parse("global_defs {\n  lvs_sync_daemon eth1 VI_2 id 7 maxlen 1400 port 8849 ttl 2 group 10.200.0.3\n}")
        var sync = SyncDaemonOptions(role: .backup)
        sync.interface = "eth1"
        sync.syncID = 7
        sync.maximumLength = 1400
        sync.port = 8849
        sync.ttl = 2
        sync.group = IPv4Address(10, 200, 0, 3)
        #expect(config.syncDaemon == KeepalivedSyncDaemon(options: sync, vrrpInstance: "VI_2"))
        #expect(config.warnings.isEmpty)
    }

    @Test func badSyncDaemonIsIgnoredWhole() throws {
        let config = try K.parse("global_defs {\n  lvs_sync_daemon eth0 VI_1 id 300\n  lvs_sync_daemon\n}")
        #expect(config.syncDaemon == nil)
        #expect(config.warnings == [
            K.warning(2, "lvs_sync_daemon: id '300': expected 0-255; ignored"),
            K.warning(3, "lvs_sync_daemon needs an interface (lvs_sync_daemon INTERFACE VRRP_INSTANCE [id N] [maxlen N] [port N] [ttl N] [group IP]); ignored"),
        ])
    }

    @Test func badTimeoutsAreIgnored() throws {
        let config = try K.parse("global_defs {\n  lvs_timeouts tcp\n  lvs_timeouts fin 3\n}")
        #expect(config.lvsTimeouts == nil)
        #expect(config.warnings == [
            K.warning(2, "lvs_timeouts: 'tcp' needs a number of seconds; ignored"),
            K.warning(3, "lvs_timeouts: unknown timeout 'fin' (tcp, tcpfin or udp); ignored"),
        ])
    }

    @Test func vrrpInstancesAreKeptWithTheirSettingsInOrder() throws {
        let config = try K.parse("""
            vrrp_script chk_lvsd {
                script "/usr/bin/pgrep lvsd"
                interval 2
            }
            vrrp_sync_group VG1 {
                group {
                    VI_1
                }
            }
            vrrp_instance VI_1 {
                state MASTER
                interface eth0
                virtual_router_id 51
                priority 100
                advert_int 1
                authentication {
                    auth_type PASS
                    auth_pass 1111
                }
                virtual_ipaddress {
                    10.0.0.100/24 dev eth0 label eth0:1
                    10.0.0.101
                }
                track_script {
                    chk_lvsd
                }
            }
            """)
        #expect(config.warnings == [])
        #expect(config.vrrpInstances == [VRRPInstanceBlock(name: "VI_1", settings: [
            ("state", ["MASTER"]), ("interface", ["eth0"]), ("virtual_router_id", ["51"]), ("priority", ["100"]),
            ("advert_int", ["1"]), ("authentication.auth_type", ["PASS"]), ("authentication.auth_pass", ["1111"]),
            ("virtual_ipaddress", ["10.0.0.100/24", "dev", "eth0", "label", "eth0:1"]), ("virtual_ipaddress", ["10.0.0.101"]),
            ("track_script", ["chk_lvsd"]),
        ], file: K.file, line: 10)])
    }

    @Test func otherTopLevelBlocks() throws {
        let config = try K.parse("""
            static_ipaddress {
                10.0.0.100/32 dev lo
            }
            SSL {
                ca /etc/ssl/ca.pem
            }
            net_namespace lvs
            @backup router_id backup
            $PORT=80
            virtual_servr 10.0.0.100 80 {
            }
            """)
        #expect(config.warnings == [
            K.warning(1, "static_ipaddress is not applied by lvsd: keepalived adds these to the host when it starts; configure them on the host (ip address/route/rule) if lvsd replaces keepalived"),
            K.warning(5, "ca in SSL: lvsd does not verify the real servers' certificates (keepalived does not either); ignored"),
            K.warning(7, "net_namespace is not supported: lvsd runs in the network namespace it is started in; ignored"),
            K.warning(8, "conditional configuration ('@backup') is not supported: lvsd has no config id (keepalived -i); this line is ignored"),
            K.warning(9, "parameter definitions ('$PORT=80') are not supported; the line is ignored and the parameter is not substituted"),
            K.warning(10, "unknown keyword 'virtual_servr' in the top level (did you mean 'virtual_server'?); ignored with its block"),
        ])
    }

    @Test func vrrpInstanceNeedsAName() {
        #expect(K.failure("vrrp_instance {\n}") == ConfigurationError(file: K.file, line: 1, message: "vrrp_instance needs one name: vrrp_instance NAME {"))
    }

    @Test func anEmptyConfigurationIsEmpty() throws {
        #expect(try K.parse("") == KeepalivedConfiguration())
        #expect(try K.parse("! nothing but comments\n# here\n\n") == KeepalivedConfiguration())
    }
}
