/// The keywords keepalived knows in each block, so that a keyword lvsd does not use is told
/// apart from a misspelt one (which gets a warning and a "did you mean").
enum KeepalivedKeywords {
    /// `lvs_sched` names keepalived accepts (its list; IPVS's `none` is not among them).
    static let schedulers: [String] = ["rr", "wrr", "lc", "wlc", "lblc", "sh", "mh", "dh", "fo", "ovf", "lblcr", "sed", "nq", "twos"]

    static let topLevel: Set<String> = [
        "global_defs", "virtual_server_group", "virtual_server", "vrrp_instance", "vrrp_sync_group", "vrrp_script",
        "vrrp_track_process", "vrrp_track_file", "track_file", "track_process", "garp_group", "bfd_instance",
        "linkbeat_interfaces", "interface_up_down_delays", "static_track_group", "static_ipaddress", "static_routes",
        "static_rules", "SSL", "net_namespace", "net_namespace_ipvs", "namespace_with_ipsets", "instance", "use_pid_dir",
        "linkbeat_use_polling", "child_wait_time", "include_check",
    ]

    /// Top-level blocks read for their structure only: VRRP companions of `vrrp_instance`,
    /// trackers, BFD.
    static let silentTopLevel: Set<String> = [
        "vrrp_sync_group", "vrrp_script", "vrrp_track_process", "vrrp_track_file", "track_file", "track_process",
        "garp_group", "bfd_instance", "linkbeat_interfaces", "interface_up_down_delays", "static_track_group",
        "namespace_with_ipsets", "instance", "use_pid_dir", "linkbeat_use_polling", "child_wait_time", "include_check",
    ]

    static let globalDefs: Set<String> = [
        "router_id", "lvs_id", "lvs_timeouts", "lvs_sync_daemon", "lvs_flush", "lvs_flush_on_stop",
        "notification_email", "notification_email_from", "smtp_server", "smtp_helo_name", "smtp_connect_timeout",
        "smtp_alert", "smtp_alert_vrrp", "smtp_alert_checker", "checker_log_all_failures", "no_email_faults",
        "default_interface", "tmp_config_directory", "config_save_dir", "process_names", "process_name",
        "vrrp_process_name", "checker_process_name", "bfd_process_name", "use_symlink_paths", "set_supplementary_groups",
        "startup_script", "startup_script_timeout", "shutdown_script", "shutdown_script_timeout", "max_auto_priority",
        "min_auto_priority_delay", "dynamic_interfaces", "disable_local_igmp", "rs_init_notifies", "no_checker_emails",
        "umask", "log_unknown_vrids", "vmac_prefix", "vmac_addr_prefix", "random_seed", "reload_check_config",
        "include_check", "reload_time_file", "reload_repeat", "reload_file", "data_use_instance", "script_user",
        "enable_script_security", "notify_fifo", "notify_fifo_script", "fifo_write_vrrp_states_on_reload",
        "net_namespace", "net_namespace_ipvs", "namespace_with_ipsets", "instance", "use_pid_dir",
        "linkbeat_use_polling", "child_wait_time", "v3_checksum_as_v2", "nftables", "nftables_priority",
        "nftables_counters", "nftables_ifindex", "nftables_ipvs", "nftables_ipvs_priority", "nftables_ipvs_start_fwmark",
        "process_monitor_rcv_bufs", "process_monitor_rcv_bufs_force", "state_directory", "json_version",
        "enable_dbus", "dbus_service_name", "dbus_no_interface_name", "snmp_socket", "enable_snmp_vrrp",
        "enable_snmp_keepalived", "enable_snmp_checker", "enable_snmp_rfc", "enable_snmp_rfcv2", "enable_snmp_rfcv3",
        "enable_traps", "snmp_vs_stats_update_interval", "snmp_rs_stats_update_interval", "vrrp_strict",
        "vrrp_mcast_group4", "vrrp_mcast_group6", "vrrp_garp_master_delay", "vrrp_garp_master_repeat",
        "vrrp_garp_lower_prio_delay", "vrrp_garp_lower_prio_repeat", "vrrp_garp_master_refresh",
        "vrrp_garp_master_refresh_repeat", "vrrp_garp_interval", "vrrp_gna_interval", "vrrp_min_garp",
        "vrrp_lower_prio_no_advert", "vrrp_higher_prio_send_advert", "vrrp_version", "vrrp_iptables", "vrrp_ipsets",
        "vrrp_check_unicast_src", "vrrp_skip_check_adv_addr", "vrrp_priority", "checker_priority", "bfd_priority",
        "vrrp_no_swap", "checker_no_swap", "bfd_no_swap", "vrrp_rt_priority", "checker_rt_priority", "bfd_rt_priority",
        "vrrp_cpu_affinity", "checker_cpu_affinity", "bfd_cpu_affinity", "vrrp_rlimit_rttime", "checker_rlimit_rttime",
        "bfd_rlimit_rttime", "vrrp_notify_fifo", "vrrp_notify_fifo_script", "lvs_notify_fifo", "lvs_notify_fifo_script",
        "vrrp_netlink_cmd_rcv_bufs", "vrrp_netlink_cmd_rcv_bufs_force", "vrrp_netlink_monitor_rcv_bufs",
        "vrrp_netlink_monitor_rcv_bufs_force", "lvs_netlink_cmd_rcv_bufs", "lvs_netlink_cmd_rcv_bufs_force",
        "lvs_netlink_monitor_rcv_bufs", "lvs_netlink_monitor_rcv_bufs_force", "vrrp_rx_bufs_policy",
        "vrrp_rx_bufs_multiplier", "vrrp_startup_delay", "vrrp_delay_after_boot", "vrrp_garp_extra_if",
        "vrrp_down_timer_adverts", "vrrp_notify_priority_changes", "vrrp_track_process",
    ]

    /// Prefixes of the many VRRP, SNMP and process-tuning settings of global_defs: keepalived
    /// grows them from release to release, and none changes what lvsd forwards.
    static let globalDefsPrefixes = ["vrrp_", "checker_", "bfd_", "snmp_", "enable_snmp", "nftables", "dbus_"]

    static let virtualServer: Set<String> = [
        "lvs_sched", "lb_algo", "flag-1", "flag-2", "flag-3", "sh-port", "sh-fallback", "mh-port", "mh-fallback",
        "ops", "hashed", "lvs_method", "lb_kind", "persistence_engine", "persistence_timeout",
        "persistence_granularity", "protocol", "ha_suspend", "smtp_alert", "virtualhost", "snmp_name", "alpha",
        "omega", "quorum", "hysteresis", "quorum_up", "quorum_down", "ip_family", "sorry_server",
        "sorry_server_inhibit", "sorry_server_lvs_method", "connect_timeout", "retry", "delay_before_retry",
        "warmup", "delay_loop", "inhibit_on_failure", "real_server", "weight", "rise", "probe_via_vip",
    ]

    static let realServer: Set<String> = Set([
        "weight", "lvs_method", "notify_up", "notify_down", "uthreshold", "lthreshold", "smtp_alert", "virtualhost",
        "snmp_name", "alpha", "connect_timeout", "retry", "delay_before_retry", "warmup", "delay_loop",
        "inhibit_on_failure", "rise", "probe_via_vip",
    ]).union(checkers)

    static let checkers: Set<String> = [
        "TCP_CHECK", "HTTP_GET", "SSL_GET", "MISC_CHECK", "UDP_CHECK", "DNS_CHECK", "PING_CHECK", "SMTP_CHECK",
        "BFD_CHECK", "FILE_CHECK",
    ]

    /// The options every checker except MISC_CHECK has (keepalived.conf(5) "generic connection
    /// options"), plus lvsd's `probe_via_vip`.
    static let connectionOptions: Set<String> = ["connect_ip", "connect_port", "bindto", "bind_if", "bind_port", "fwmark"]
    static let timingOptions: Set<String> = [
        "alpha", "connect_timeout", "retry", "nb_get_retry", "delay_before_retry", "warmup", "delay_loop",
        "log_all_failures", "probe_via_vip",
    ]

    static func checker(_ name: String) -> Set<String> {
        switch name {
        case "MISC_CHECK": timingOptions.union(["misc_path", "misc_timeout", "misc_dynamic", "user"])
        case "HTTP_GET": connectionOptions.union(timingOptions).union(["url", "virtualhost", "http_protocol", "fast_recovery"])
        case "SSL_GET":
            connectionOptions.union(timingOptions).union(["url", "virtualhost", "http_protocol", "fast_recovery", "enable_sni"])
        case "UDP_CHECK": connectionOptions.union(timingOptions).union(["payload", "require_reply", "min_reply_length", "max_reply_length"])
        case "DNS_CHECK": connectionOptions.union(timingOptions).union(["type", "name"])
        default: connectionOptions.union(timingOptions)
        }
    }

    static let url: Set<String> = [
        "path", "digest", "status_code", "virtualhost", "regex", "regex_no_match", "regex_options", "regex_stack",
        "regex_min_offset", "regex_max_offset", "tls_compliant",
    ]

    /// Keywords whose statement opens a block, in any context.
    static let opensBlock: Set<String> = checkers.union([
        "real_server", "url", "virtual_server", "virtual_server_group", "global_defs", "vrrp_instance",
    ])

    /// The known keyword closest to `word` (at most two edits away), for "did you mean".
    static func suggestion(for word: String, in known: Set<String>) -> String? {
        let limit = word.count <= 4 ? 1 : 2
        let scored = known.map { ($0, KeepalivedValues.editDistance(word.lowercased(), $0.lowercased())) }
            .filter { $0.1 <= limit }
        return scored.min { $0.1 != $1.1 ? $0.1 < $1.1 : $0.0 < $1.0 }?.0
    }
}
