extension ForwardingEngine {
    /// The `ipvsadm --timeout` triple: ESTABLISHED, FIN_WAIT and UDP, in seconds.
    public var timeouts: TimeoutSetting {
        TimeoutSetting(tcp: settings.timeouts[.established], tcpFin: settings.timeouts[.finWait],
                       udp: settings.timeouts[.udp])
    }

    /// `ipvsadm --set tcp tcpfin udp`: a 0 leaves that timeout as it is. As in the kernel, an
    /// entry keeps the expiry it has; the new value applies from its next state transition or
    /// packet on. ipvsadm itself refuses values above 31 days before they get here.
    public func setTimeouts(_ t: TimeoutSetting) {
        settings.timeouts.set(tcp: t.tcp, tcpFin: t.tcpFin, udp: t.udp)
        for state in [ConnectionState.established, .finWait, .udp] {
            timeoutNanos[Int(state.rawValue)] = UInt64(settings.timeouts[state]) * 1_000_000_000
        }
    }
}
