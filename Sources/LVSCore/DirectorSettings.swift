/// The IPVS sysctls that change forwarding decisions (IPVS-SEMANTICS.md §3.8-§3.10), with the
/// kernel's defaults, plus the `ipvsadm --set` timeouts.
public struct DirectorSettings: Sendable, Equatable {
    /// `conn_reuse_mode` (default 1): a SYN on a connection in TIME_WAIT or CLOSE starts a new
    /// connection; with bit 2 set, also one in FIN_WAIT (DR's usual end state).
    public var connectionReuseMode: UInt8 = 1
    /// `expire_nodest_conn` (default off): packets of a connection whose real server was
    /// removed expire it and are scheduled afresh, instead of being dropped; a SYN on a
    /// connection whose server has weight 0 is rescheduled.
    public var expireNoDestinationConnections = false
    /// `expire_quiescent_template` (default off): a persistence template whose server has
    /// weight 0 is no longer honoured.
    public var expireQuiescentTemplates = false
    /// `sloppy_tcp` (default off): any TCP segment without a connection may create one, not
    /// only a SYN (a director taking over flows it has not seen).
    public var sloppyTCP = false
    public var timeouts = ConnectionTimeouts()

    public init() {}
}
