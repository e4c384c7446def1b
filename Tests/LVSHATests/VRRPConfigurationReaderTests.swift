import Testing
import LVSConfig
import LVSCore
@testable import LVSHA

/// keepalived.conf's vrrp_instance blocks into VRRPInstanceConfiguration: keepalived's
/// defaults and keywords, errors with file and line, warnings for what lvsd does not do.
@Suite struct VRRPConfigurationReaderTests {
    static func read(_ text: String) throws(ConfigurationError) -> VRRPConfigurationReader.Result {
        let file = try KeepalivedConfigReader(resolveHost: { _ in nil }).parse(text, file: "k.conf")
        return try VRRPConfigurationReader.read(file.vrrpInstances)
    }

    static func error(_ text: String) -> ConfigurationError? {
        do {
            _ = try read(text)
            return nil
        } catch {
            return error
        }
    }

    @Test func defaultsAreKeepalived() throws {
        let r = try Self.read("""
            vrrp_instance VI_1 {
                interface eth0
                virtual_router_id 51
                virtual_ipaddress {
                    10.200.0.100/24 dev eth0
                }
            }
            """)
        let i = try #require(r.instances.first)
        #expect(i.name == "VI_1")
        #expect(i.priority == 100)
        #expect(i.advertIntervalCentiseconds == 100)
        #expect(i.preempt)
        #expect(i.preemptDelaySeconds == 0)
        #expect(i.initialState == .backup)
        #expect(i.garpMasterRepeat == 5)
        #expect(i.garpMasterDelaySeconds == 5)
        #expect(i.virtualAddresses == [IPv4Address(10, 200, 0, 100)])
        #expect(i.unicastPeers.isEmpty)
        #expect(r.warnings.map(\.line) == [5])   // "dev eth0" is not applied
    }

    @Test func everyKeywordIsRead() throws {
        let r = try Self.read("""
            vrrp_instance VI_2 {
                state MASTER
                interface eth0
                virtual_router_id 7
                priority 150
                advert_int 0.5
                preempt_delay 30
                unicast_src_ip 10.200.0.2
                unicast_peer {
                    10.200.0.3
                }
                track_interface {
                    eth1
                }
                garp_master_delay 2
                garp_master_repeat 3
                notify_master "/usr/local/bin/became master"
                notify_backup /bin/b
                notify_fault /bin/f
                notify_stop /bin/s
                notify /bin/n
                virtual_ipaddress {
                    10.200.0.100
                    10.200.0.101
                }
            }
            """)
        let i = try #require(r.instances.first)
        #expect(i.initialState == .master)
        #expect(i.virtualRouterID == 7)
        #expect(i.priority == 150)
        #expect(i.advertIntervalCentiseconds == 50)
        #expect(i.preemptDelaySeconds == 30)
        #expect(i.unicastSource == IPv4Address(10, 200, 0, 2))
        #expect(i.unicastPeers == [IPv4Address(10, 200, 0, 3)])
        #expect(i.trackInterfaces == ["eth1"])
        #expect(i.garpMasterDelaySeconds == 2)
        #expect(i.garpMasterRepeat == 3)
        #expect(i.notify.master == ["/usr/local/bin/became", "master"])
        #expect(i.notify.backup == ["/bin/b"])
        #expect(i.notify.fault == ["/bin/f"])
        #expect(i.notify.stop == ["/bin/s"])
        #expect(i.notify.any == ["/bin/n"])
        #expect(i.virtualAddresses.count == 2)
        #expect(r.warnings.isEmpty)
    }

    @Test func nopreemptAndUnsupportedKeywordsWarn() throws {
        let r = try Self.read("""
            vrrp_instance VI_1 {
                interface eth0
                virtual_router_id 51
                nopreempt
                authentication {
                    auth_type PASS
                    auth_pass secret
                }
                use_vmac
                frobnicate 1
                virtual_ipaddress {
                    10.200.0.100
                }
            }
            """)
        #expect(r.instances.first?.preempt == false)
        #expect(r.warnings.map(\.line) == [6, 9, 10])   // authentication: its first setting
    }

    @Test func errorsNameFileAndLine() {
        let missingInterface = Self.error("vrrp_instance A {\n virtual_router_id 1\n virtual_ipaddress {\n 10.0.0.1\n }\n}\n")
        #expect(missingInterface?.line == 1)
        #expect(missingInterface?.file == "k.conf")
        #expect(missingInterface?.message.contains("interface") == true)
        let badID = Self.error("vrrp_instance A {\n interface eth0\n virtual_router_id 0\n}\n")
        #expect(badID?.line == 3)
        let badPriority = Self.error("vrrp_instance A {\n interface eth0\n virtual_router_id 1\n priority 300\n}\n")
        #expect(badPriority?.line == 4)
        let badInterval = Self.error("vrrp_instance A {\n interface eth0\n virtual_router_id 1\n advert_int 50\n}\n")
        #expect(badInterval?.line == 4)
        let badVIP = Self.error("vrrp_instance A {\n interface eth0\n virtual_router_id 1\n virtual_ipaddress {\n fe80::1\n }\n}\n")
        #expect(badVIP?.line == 5)
        let noVIP = Self.error("vrrp_instance A {\n interface eth0\n virtual_router_id 1\n}\n")
        #expect(noVIP?.message.contains("virtual_ipaddress") == true)
        let v2 = Self.error("vrrp_instance A {\n interface eth0\n virtual_router_id 1\n version 2\n}\n")
        #expect(v2?.line == 4)
        let duplicate = Self.error("""
            vrrp_instance A {
             interface eth0
             virtual_router_id 1
             virtual_ipaddress {
             10.0.0.1
             }
            }
            vrrp_instance B {
             interface eth0
             virtual_router_id 1
             virtual_ipaddress {
             10.0.0.2
             }
            }
            """)
        #expect(duplicate?.line == 8)
    }

    @Test func advertIntervalText() {
        #expect(VRRPConfigurationReader.centiseconds("1") == 100)
        #expect(VRRPConfigurationReader.centiseconds("0.5") == 50)
        #expect(VRRPConfigurationReader.centiseconds("2.25") == 225)
        #expect(VRRPConfigurationReader.centiseconds("1.234") == nil)
        #expect(VRRPConfigurationReader.centiseconds("x") == nil)
    }
}
