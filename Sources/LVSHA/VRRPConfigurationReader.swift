import LVSConfig
import LVSCore

/// Turns the `vrrp_instance` blocks keepalived.conf's reader kept into
/// `VRRPInstanceConfiguration`s: keepalived's keywords and defaults, an error with file and
/// line for what cannot be run (no interface, a bad router id, priority, interval or address),
/// a warning for what lvsd reads but does not do (VMACs, track scripts, ...). The version is
/// keepalived's: `version` in the block, else `vrrp_version` in global_defs, else 2.
public enum VRRPConfigurationReader {
    public struct Result: Sendable, Equatable {
        public var instances: [VRRPInstanceConfiguration]
        public var warnings: [ConfigurationWarning]
    }

    /// Settings read without effect: keepalived tuning that does not change the protocol lvsd
    /// speaks or what it owns.
    static let quietlyAccepted: Set<String> = [
        "smtp_alert", "accept", "no_accept", "dont_track_primary", "debug", "notify_deleted",
        "skip_check_adv_addr", "check_unicast_src", "garp_master_refresh",
        "garp_master_refresh_repeat", "garp_lower_prio_delay", "garp_lower_prio_repeat", "lower_prio_no_advert",
        "higher_prio_send_advert", "kernel_rx_buf_size", "notify_priority_changes", "promote_secondaries",
    ]

    /// Reads the vrrp_instance blocks of a keepalived.conf, with its global `vrrp_version`.
    public static func read(_ configuration: KeepalivedConfiguration) throws(ConfigurationError) -> Result {
        try read(configuration.vrrpInstances, globalVersion: configuration.vrrpVersion, strict: configuration.vrrpStrict)
    }

    /// Reads every block; `blocks` come from `KeepalivedConfiguration.vrrpInstances`,
    /// `globalVersion` from its `vrrpVersion` (nil: keepalived's default, 2), `strict` from
    /// its `vrrpStrict` (an instance's `strict_mode` overrides it).
    public static func read(_ blocks: [VRRPInstanceBlock], globalVersion: KeepalivedVRRPVersion? = nil,
                            strict: Bool = false) throws(ConfigurationError) -> Result {
        var result = Result(instances: [], warnings: [])
        let defaultVersion: VRRPVersion = globalVersion?.version == 3 ? .v3 : .v2
        for block in blocks {
            let instance = try read(block, defaultVersion: defaultVersion, strict: strict, warnings: &result.warnings)
            if let other = result.instances.first(where: { $0.interface == instance.interface
                && $0.virtualRouterID == instance.virtualRouterID }) {
                throw ConfigurationError(file: block.file, line: block.line,
                                         message: "vrrp_instance \(block.name): virtual_router_id \(instance.virtualRouterID) on \(instance.interface) is already used by vrrp_instance \(other.name); each instance on an interface needs its own id")
            }
            result.instances.append(instance)
        }
        return result
    }

    static func read(_ block: VRRPInstanceBlock, defaultVersion: VRRPVersion, strict globalStrict: Bool,
                     warnings: inout [ConfigurationWarning]) throws(ConfigurationError) -> VRRPInstanceConfiguration {
        var interface: String?
        var routerID: UInt8?
        var instance = VRRPInstanceConfiguration(name: block.name, interface: "", virtualRouterID: 0,
                                                 file: block.file, line: block.line)
        // Settled after the block, once the version is known (`version` may come last).
        var version: VRRPVersion?
        var advertInterval: (centiseconds: UInt16, text: String, line: Int)?
        var authType: (value: String, line: Int)?
        var authPass: (value: String, line: Int)?
        var firstAuthenticationLine: Int?
        var strict = globalStrict
        for (index, setting) in block.settings.enumerated() {
            let line = block.line(ofSetting: index)
            func fail(_ message: String) -> ConfigurationError {
                ConfigurationError(file: block.file, line: line, message: "vrrp_instance \(block.name): \(message)")
            }
            func warn(_ message: String) {
                warnings.append(ConfigurationWarning(file: block.file, line: line, message: "vrrp_instance \(block.name): \(message)"))
            }
            func single() throws(ConfigurationError) -> String {
                guard setting.values.count == 1 else { throw fail("\(setting.keyword) takes one value") }
                return setting.values[0]
            }
            func address(_ text: String) throws(ConfigurationError) -> IPv4Address {
                let bare = text.split(separator: "/", maxSplits: 1).first.map(String.init) ?? text
                guard let a = IPv4Address(bare) else {
                    throw fail("\(setting.keyword): '\(text)' is not an IPv4 address (lvsd's VRRP is IPv4 only)")
                }
                return a
            }
            switch setting.keyword {
            case "interface":
                interface = try single()
            case "virtual_router_id":
                guard let v = UInt8(try single()), v >= 1 else { throw fail("virtual_router_id must be 1 to 255") }
                routerID = v
            case "priority":
                guard let v = UInt8(try single()), v >= 1 else {
                    throw fail("priority must be 1 to 255 (255: the address owner; 0 is reserved for a master that stops)")
                }
                instance.priority = v
            case "advert_int":
                let text = try single()
                guard let cs = Self.centiseconds(text), cs >= 1 else {
                    throw fail("advert_int must be seconds: whole seconds 1 to 255 with VRRP version 2 (the default), 0.01 to 40.95 with version 3")
                }
                advertInterval = (cs, text, line)
            case "state":
                guard let s = VRRPInstanceConfiguration.InitialState(rawValue: try single().uppercased()) else {
                    throw fail("state must be MASTER or BACKUP")
                }
                instance.initialState = s
            case "nopreempt":
                instance.preempt = false
            case "preempt":
                instance.preempt = true
            case "preempt_delay":
                guard let v = UInt32(try single()), v <= 1000 else { throw fail("preempt_delay must be 0 to 1000 seconds") }
                instance.preemptDelaySeconds = v
            case "virtual_ipaddress":
                guard let first = setting.values.first else { continue }
                let vip = try address(first)
                if !instance.virtualAddresses.contains(vip) { instance.virtualAddresses.append(vip) }
                if setting.values.count > 1 {
                    warn("virtual_ipaddress \(first): only the address is used (lvsd answers ARP for it itself; dev, label, scope are not applied)")
                }
            case "virtual_ipaddress_excluded":
                guard let first = setting.values.first else { continue }
                let vip = try address(first)
                if !instance.virtualAddresses.contains(vip) { instance.virtualAddresses.append(vip) }
            case "unicast_src_ip":
                instance.unicastSource = try address(try single())
            case "unicast_peer":
                guard let first = setting.values.first else { continue }
                instance.unicastPeers.append(try address(first))
            case "track_interface":
                guard let first = setting.values.first else { continue }
                if setting.values.count > 1 { warn("track_interface \(first): weights are not supported; a down interface means FAULT") }
                instance.trackInterfaces.append(first)
            case "notify_master", "notify_backup", "notify_fault", "notify_stop", "notify":
                let command = setting.values.flatMap { $0.split(separator: " ").map(String.init) }
                guard !command.isEmpty else { throw fail("\(setting.keyword) needs a script path") }
                switch setting.keyword {
                case "notify_master": instance.notify.master = command
                case "notify_backup": instance.notify.backup = command
                case "notify_fault": instance.notify.fault = command
                case "notify_stop": instance.notify.stop = command
                default: instance.notify.any = command
                }
            case "garp_master_delay":
                guard let v = UInt32(try single()), v <= 3600 else { throw fail("garp_master_delay must be 0 to 3600 seconds") }
                instance.garpMasterDelaySeconds = v
            case "garp_master_repeat":
                guard let v = Int(try single()), v >= 1, v <= 100 else { throw fail("garp_master_repeat must be 1 to 100") }
                instance.garpMasterRepeat = v
            case "version":
                guard let v = UInt8(try single()).flatMap(VRRPVersion.init(rawValue:)) else {
                    throw fail("version must be 2 (RFC 3768, keepalived's default) or 3 (RFC 5798), the same as the peer's")
                }
                version = v
            case "strict_mode":
                // keepalived: no value or on/true/yes turns it on, off/false/no off.
                let value = setting.values.first?.lowercased()
                switch value {
                case nil, "on", "true", "yes": strict = true
                case "off", "false", "no": strict = false
                default: throw fail("strict_mode takes on or off (or no value: on)")
                }
            case "authentication.auth_type":
                firstAuthenticationLine = firstAuthenticationLine ?? line
                authType = (try single(), line)
            case "authentication.auth_pass":
                firstAuthenticationLine = firstAuthenticationLine ?? line
                guard let first = setting.values.first else { throw fail("auth_pass needs a password") }
                authPass = (first, line)
            case let k where k.hasPrefix("authentication"):
                firstAuthenticationLine = firstAuthenticationLine ?? line
                if k != "authentication" { warn("\(k) is not an authentication setting (auth_type, auth_pass); ignored") }
            case "lvs_sync_daemon_interface":
                warn("lvs_sync_daemon_interface is not read here; connection sync is configured separately")
            case "use_vmac", "vmac_xmit_base":
                warn("\(setting.keyword) is not supported: lvsd owns the VIP with its own MAC; ignored")
            case "mcast_src_ip":
                warn("mcast_src_ip is not supported: adverts leave from \(interface ?? "the interface")'s primary address; ignored")
            case let k where k.hasPrefix("track_script") || k.hasPrefix("track_process") || k.hasPrefix("track_file")
                || k.hasPrefix("track_bfd") || k.hasPrefix("track_src_ip") || k.hasPrefix("virtual_routes")
                || k.hasPrefix("virtual_rules"):
                warn("\(k) is not supported by lvsd's VRRP; ignored")
            case let k where quietlyAccepted.contains(k):
                break
            default:
                warn("unknown keyword '\(setting.keyword)'; ignored")
            }
        }
        func fail(_ message: String) -> ConfigurationError {
            ConfigurationError(file: block.file, line: block.line, message: "vrrp_instance \(block.name): \(message)")
        }
        func warn(_ line: Int, _ message: String) {
            warnings.append(ConfigurationWarning(file: block.file, line: line, message: "vrrp_instance \(block.name): \(message)"))
        }
        instance.version = version ?? defaultVersion
        if let advertInterval {
            switch Self.interval(advertInterval.centiseconds, text: advertInterval.text, version: instance.version) {
            case .failure(let error):
                throw ConfigurationError(file: block.file, line: advertInterval.line, message: "vrrp_instance \(block.name): \(error.message)")
            case .success(let (centiseconds, warning)):
                instance.advertIntervalCentiseconds = centiseconds
                if let warning { warn(advertInterval.line, warning) }
            }
        }
        switch instance.version {
        case _ where strict && firstAuthenticationLine != nil:
            warn(firstAuthenticationLine ?? block.line, "authentication is ignored in strict mode (vrrp_strict / strict_mode), as keepalived ignores it")
        case .v3:
            if let firstAuthenticationLine {
                warn(firstAuthenticationLine, "authentication is not part of VRRPv3; ignored")
            }
        case .v2:
            if let authType {
                switch authType.value {
                case "PASS":
                    if let authPass {
                        if authPass.value.utf8.count > VRRPAuthentication.dataLength {
                            warn(authPass.line, "auth_pass is longer than \(VRRPAuthentication.dataLength) characters; only the first \(VRRPAuthentication.dataLength) are used (as keepalived truncates it)")
                        }
                        instance.authentication = .password(text: authPass.value)
                    } else {
                        warn(authType.line, "auth_type PASS without auth_pass: no authentication is used (as keepalived); add auth_pass")
                    }
                case "AH":
                    throw ConfigurationError(file: block.file, line: authType.line,
                                             message: "vrrp_instance \(block.name): auth_type AH (IPsec AH) is not supported, use PASS or none (leave the authentication block out) on both directors")
                default:
                    throw ConfigurationError(file: block.file, line: authType.line,
                                             message: "vrrp_instance \(block.name): auth_type '\(authType.value)' is not known: use PASS (with auth_pass) or none (leave the authentication block out)")
                }
            } else if let authPass {
                warn(authPass.line, "auth_pass without auth_type PASS: no authentication is used (as keepalived); add `auth_type PASS`")
            }
        }
        guard let interface else { throw fail("no interface: add `interface NAME` (the interface lvsd runs on)") }
        guard let routerID else { throw fail("no virtual_router_id: add `virtual_router_id N` (1 to 255, the same on both directors)") }
        guard !instance.virtualAddresses.isEmpty else { throw fail("no virtual_ipaddress block: list the VIPs this instance owns") }
        if instance.unicastSource != nil && instance.unicastPeers.isEmpty {
            throw fail("unicast_src_ip without unicast_peer: list the peers, or drop unicast_src_ip for multicast")
        }
        if !instance.preempt && instance.initialState == .master {
            warnings.append(ConfigurationWarning(file: block.file, line: block.line,
                                                 message: "vrrp_instance \(block.name): nopreempt with state MASTER: keepalived only honours nopreempt with state BACKUP; starting as BACKUP"))
            instance.initialState = .backup
        }
        instance.interface = interface
        instance.virtualRouterID = routerID
        instance.strict = strict
        return instance
    }

    /// The advert_int an instance of `version` runs with, or why it cannot run (`.failure`).
    /// v3 carries 0.01 to 40.95 s; v2 whole seconds up to 255, and a fraction is rounded to
    /// the nearest second (at least 1) with a warning (`warning`), as keepalived does, so
    /// both ends of a pair agree on the interval.
    static func interval(_ centiseconds: UInt16, text: String, version: VRRPVersion)
        -> Swift.Result<(centiseconds: UInt16, warning: String?), IntervalError> {
        switch version {
        case .v3:
            guard centiseconds <= 4095 else {
                return .failure(IntervalError(message: "advert_int must be seconds between 0.01 and 40.95 with VRRP version 3 (it carries centiseconds), e.g. 1 or 0.5"))
            }
            return .success((centiseconds, nil))
        case .v2:
            let seconds = min(255, max(1, (Int(centiseconds) + 50) / 100))
            let warning: String? = Int(centiseconds) == seconds * 100 ? nil
                : "advert_int \(text): VRRP version 2 carries whole seconds (1 to 255); using \(seconds) s, as keepalived rounds it (set `version 3` on both directors for a fraction)"
            return .success((UInt16(seconds * 100), warning))
        }
    }

    struct IntervalError: Error {
        var message: String
    }

    /// keepalived's advert_int: seconds (up to 255), possibly with a fraction, to centiseconds.
    static func centiseconds(_ text: String) -> UInt16? {
        let parts = text.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard let whole = UInt32(parts[0].isEmpty ? "0" : parts[0]), whole <= 255 else { return nil }
        var fraction: UInt32 = 0
        if parts.count == 2 {
            let digits = parts[1]
            guard !digits.isEmpty, digits.count <= 2, let f = UInt32(digits) else { return nil }
            fraction = digits.count == 1 ? f * 10 : f
        }
        let total = whole * 100 + fraction
        return total <= UInt32(UInt16.max) ? UInt16(total) : nil
    }
}
