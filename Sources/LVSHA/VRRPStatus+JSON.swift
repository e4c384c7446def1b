import LVSCore

extension VRRPStatus {
    /// The stats file's `"vrrp"` member: what keepalived's `--json` stats dump gives per
    /// instance (state, adverts in and out, priority-0 adverts, times it became master) and the
    /// dropped adverts by reason (and the adverts accepted with another address list than
    /// `virtual_ipaddress`), so a monitoring system can alert on a director stuck in
    /// BACKUP or FAULT, or on adverts failing their checks, without parsing the log.
    public func json(instance: String) -> String {
        JSONText.object([
            ("instance", JSONText.string(instance)),
            ("state", JSONText.string(state.rawValue)),
            ("advertisements_sent", "\(advertisementsSent)"),
            ("advertisements_received", "\(advertisementsReceived)"),
            ("priority_zero_received", "\(priorityZeroReceived)"),
            ("became_master", "\(becameMaster)"),
            ("address_list_mismatch_accepted", "\(addressListMismatchAccepted)"),
            ("dropped", JSONText.object(VRRPDropReason.allCases.map { ($0.rawValue, "\(dropped[$0] ?? 0)") })),
        ])
    }
}
