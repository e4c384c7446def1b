import LVSConfig
import LVSCore

/// Turns the `vrrp_instance` blocks keepalived.conf's reader kept into
/// `VRRPInstanceConfiguration`s: keepalived's keywords and defaults, an error with file and
/// line for what cannot be run (no interface, a bad router id, priority, interval or address),
/// a warning for what lvsd reads but does not do (authentication, VMACs, track scripts, ...).
public enum VRRPConfigurationReader {
    public struct Result: Sendable, Equatable {
        public var instances: [VRRPInstanceConfiguration]
        public var warnings: [ConfigurationWarning]
    }

    /// Settings read without effect: keepalived tuning that does not change the protocol lvsd
    /// speaks or what it owns.
    static let quietlyAccepted: Set<String> = [
        "smtp_alert", "accept", "no_accept", "dont_track_primary", "debug", "notify_deleted",
        "skip_check_adv_addr", "strict_mode", "check_unicast_src", "garp_master_refresh",
        "garp_master_refresh_repeat", "garp_lower_prio_delay", "garp_lower_prio_repeat", "lower_prio_no_advert",
        "higher_prio_send_advert", "kernel_rx_buf_size", "notify_priority_changes", "promote_secondaries",
    ]

    /// Reads every block; `blocks` come from `KeepalivedConfiguration.vrrpInstances`.
    public static func read(_ blocks: [VRRPInstanceBlock]) throws(ConfigurationError) -> Result {
        var result = Result(instances: [], warnings: [])
        for block in blocks {
            let instance = try read(block, warnings: &result.warnings)
            if let other = result.instances.first(where: { $0.interface == instance.interface
                && $0.virtualRouterID == instance.virtualRouterID }) {
                throw ConfigurationError(file: block.file, line: block.line,
                                         message: "vrrp_instance \(block.name): virtual_router_id \(instance.virtualRouterID) on \(instance.interface) is already used by vrrp_instance \(other.name); each instance on an interface needs its own id")
            }
            result.instances.append(instance)
        }
        return result
    }

    static func read(_ block: VRRPInstanceBlock, warnings: inout [ConfigurationWarning]) throws(ConfigurationError) -> VRRPInstanceConfiguration {
        var interface: String?
        var routerID: UInt8?
        var instance = VRRPInstanceConfiguration(name: block.name, interface: "", virtualRouterID: 0,
                                                 file: block.file, line: block.line)
        var warnedAuthentication = false
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
                guard let cs = Self.centiseconds(try single()), cs >= 1, cs <= 4095 else {
                    throw fail("advert_int must be seconds between 0.01 and 40.95 (VRRPv3 carries centiseconds), e.g. 1 or 0.5")
                }
                instance.advertIntervalCentiseconds = cs
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
                guard try single() == "3" else {
                    throw fail("lvsd speaks VRRP version 3 only (RFC 5798); set `version 3` here and `vrrp_version 3` in the peer's global_defs")
                }
            case let k where k.hasPrefix("authentication"):
                if !warnedAuthentication {
                    warn("authentication is not part of VRRPv3; ignored")
                    warnedAuthentication = true
                }
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
        return instance
    }

    /// keepalived's advert_int: seconds, possibly with a fraction, to centiseconds.
    static func centiseconds(_ text: String) -> UInt16? {
        let parts = text.split(separator: ".", maxSplits: 1, omittingEmptySubsequences: false)
        guard let whole = UInt32(parts[0].isEmpty ? "0" : parts[0]), whole <= 41 else { return nil }
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
