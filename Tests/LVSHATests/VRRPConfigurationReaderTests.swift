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
                version 3
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
        #expect(i.version == .v3)
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
        #expect(r.warnings.map(\.line) == [9, 10])   // version 2 (the default) uses the authentication
        #expect(r.instances.first?.authentication == .password(text: "secret"))
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
        let badInterval = Self.error("vrrp_instance A {\n interface eth0\n virtual_router_id 1\n advert_int 500\n}\n")
        #expect(badInterval?.line == 4)
        let badV3Interval = Self.error("vrrp_instance A {\n interface eth0\n virtual_router_id 1\n advert_int 50\n version 3\n virtual_ipaddress {\n 10.0.0.1\n }\n}\n")
        #expect(badV3Interval?.line == 4)
        #expect(badV3Interval?.message.contains("40.95") == true)
        let badVIP = Self.error("vrrp_instance A {\n interface eth0\n virtual_router_id 1\n virtual_ipaddress {\n fe80::1\n }\n}\n")
        #expect(badVIP?.line == 5)
        let noVIP = Self.error("vrrp_instance A {\n interface eth0\n virtual_router_id 1\n}\n")
        #expect(noVIP?.message.contains("virtual_ipaddress") == true)
        let v4 = Self.error("vrrp_instance A {\n interface eth0\n virtual_router_id 1\n version 4\n}\n")
        #expect(v4?.line == 4)
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

    static func instance(_ body: String, globals: String = "") throws -> (VRRPInstanceConfiguration, [ConfigurationWarning]) {
        let text = (globals.isEmpty ? "" : "global_defs {\n\(globals)\n}\n")
            + "vrrp_instance VI_1 {\n interface eth0\n virtual_router_id 51\n virtual_ipaddress {\n 10.200.0.100\n }\n\(body)\n}\n"
        let file = try KeepalivedConfigReader(resolveHost: { _ in nil }).parse(text, file: "k.conf")
        let r = try VRRPConfigurationReader.read(file)
        return (try #require(r.instances.first), r.warnings)
    }

    @Test("version: 2 by default as keepalived, global_defs vrrp_version for all, an instance's version over it")
    func versionSources() throws {
        #expect(try Self.instance("").0.version == .v2)
        #expect(try Self.instance("", globals: " vrrp_version 3").0.version == .v3)
        #expect(try Self.instance("", globals: " vrrp_version 2").0.version == .v2)
        #expect(try Self.instance(" version 2", globals: " vrrp_version 3").0.version == .v2)
        #expect(try Self.instance(" version 3").0.version == .v3)
        // The global setting is read by the keepalived reader, with its line.
        let file = try KeepalivedConfigReader(resolveHost: { _ in nil }).parse("global_defs {\n router_id a\n vrrp_version 3\n}\n", file: "k.conf")
        #expect(file.vrrpVersion == KeepalivedVRRPVersion(version: 3, file: "k.conf", line: 3))
        #expect(file.warnings.isEmpty)
    }

    @Test("a vrrp_version other than 2 or 3 is an error with file and line")
    func badGlobalVersion() {
        #expect(throws: ConfigurationError.self) {
            _ = try KeepalivedConfigReader(resolveHost: { _ in nil }).parse("global_defs {\n vrrp_version 4\n}\n", file: "k.conf")
        }
        do {
            _ = try KeepalivedConfigReader(resolveHost: { _ in nil }).parse("global_defs {\n vrrp_version 4\n}\n", file: "k.conf")
        } catch {
            #expect(error.file == "k.conf" && error.line == 2)
            #expect(error.message.contains("2 or 3"))
        }
    }

    @Test("v2 advert_int: whole seconds; a fraction is rounded as keepalived does, with a warning naming the line")
    func v2IntervalRounding() throws {
        let (rounded, warnings) = try Self.instance(" advert_int 0.5")
        #expect(rounded.advertIntervalCentiseconds == 100)
        #expect(warnings.map(\.line) == [7])
        #expect(warnings.first?.message.contains("whole seconds") == true)
        #expect(try Self.instance(" advert_int 2.4").0.advertIntervalCentiseconds == 200)
        #expect(try Self.instance(" advert_int 2.5").0.advertIntervalCentiseconds == 300)
        #expect(try Self.instance(" advert_int 0.01").0.advertIntervalCentiseconds == 100)
        #expect(try Self.instance(" advert_int 255").0.advertIntervalCentiseconds == 25500)
        #expect(try Self.instance(" advert_int 3").1.isEmpty)
        // With version 3 the fraction is kept, without a warning.
        let (v3, v3Warnings) = try Self.instance(" advert_int 0.5\n version 3")
        #expect(v3.advertIntervalCentiseconds == 50)
        #expect(v3Warnings.isEmpty)
    }

    @Test("v2 authentication: PASS with auth_pass (truncated to 8 with a warning), AH an error, none without the block")
    func v2Authentication() throws {
        #expect(try Self.instance("").0.authentication == .none)
        let (pass, passWarnings) = try Self.instance(" authentication {\n auth_type PASS\n auth_pass s3cret\n }")
        #expect(pass.authentication == .password(Array("s3cret".utf8) + [0, 0]))
        #expect(passWarnings.isEmpty)
        let (long, longWarnings) = try Self.instance(" authentication {\n auth_type PASS\n auth_pass 0123456789\n }")
        #expect(long.authentication == .password(Array("01234567".utf8)))
        #expect(longWarnings.map(\.line) == [9])
        #expect(longWarnings.first?.message.contains("8") == true)
        let (noPass, noPassWarnings) = try Self.instance(" authentication {\n auth_type PASS\n }")
        #expect(noPass.authentication == .none)
        #expect(noPassWarnings.map(\.line) == [8])
        do {
            _ = try Self.instance(" authentication {\n auth_type AH\n auth_pass x\n }")
            Issue.record("auth_type AH was accepted")
        } catch let error as ConfigurationError {
            #expect(error.line == 8)
            #expect(error.message.contains("not supported, use PASS or none"))
        }
        do {
            _ = try Self.instance(" authentication {\n auth_type MD5\n }")
            Issue.record("auth_type MD5 was accepted")
        } catch let error as ConfigurationError {
            #expect(error.line == 8)
        }
    }

    @Test("v3: authentication (even AH) is ignored with one warning at its first line")
    func v3IgnoresAuthentication() throws {
        let (i, warnings) = try Self.instance(" authentication {\n auth_type AH\n auth_pass x\n }", globals: " vrrp_version 3")
        #expect(i.authentication == .none)
        #expect(warnings.map(\.line) == [11])
        #expect(warnings.first?.message.contains("VRRPv3") == true)
    }

    @Test("strict mode (global vrrp_strict or the instance's strict_mode) ignores authentication, as keepalived, and is kept for the receive checks")
    func strictModeIgnoresAuthentication() throws {
        let auth = " authentication {\n auth_type PASS\n auth_pass s3cret\n }"
        let (global, globalWarnings) = try Self.instance(auth, globals: " vrrp_strict")
        #expect(global.authentication == .none)
        #expect(global.strict)
        #expect(globalWarnings.map(\.line) == [11])
        #expect(globalWarnings.first?.message.contains("strict") == true)
        let (instance, _) = try Self.instance(" strict_mode\n" + auth)
        #expect(instance.authentication == .none)
        #expect(instance.strict)
        let (off, offWarnings) = try Self.instance(" strict_mode off\n" + auth, globals: " vrrp_strict")
        #expect(off.authentication == .password(text: "s3cret"))
        #expect(!off.strict)
        #expect(offWarnings.isEmpty)
    }
}
