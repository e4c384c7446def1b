/// IPVS connection states (the kernel's `IP_VS_TCP_S_*` numbering) plus UDP's single state.
public enum ConnectionState: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    case none = 0, established, synSent, synReceived, finWait, timeWait, close, closeWait, lastAck, listen, synAck
    /// UDP connections have one state; ipvsadm prints it as `UDP`.
    case udp

    public var description: String {
        switch self {
        case .none: "NONE"
        case .established: "ESTABLISHED"
        case .synSent: "SYN_SENT"
        case .synReceived: "SYN_RECV"
        case .finWait: "FIN_WAIT"
        case .timeWait: "TIME_WAIT"
        case .close: "CLOSE"
        case .closeWait: "CLOSE_WAIT"
        case .lastAck: "LAST_ACK"
        case .listen: "LISTEN"
        case .synAck: "SYNACK"
        case .udp: "UDP"
        }
    }

    /// `tcp_state_active_table`: a connection in these states counts in ActiveConn, the rest in InActConn.
    @inlinable
    public var isActive: Bool {
        switch self {
        case .established, .synSent, .synReceived, .synAck: true
        default: false
        }
    }
}

/// The TCP state machine a DR director runs: the kernel's INPUT_ONLY rows of `tcp_states[]`
/// (IPVS-SEMANTICS.md §3.4), because a DR director sees only client-to-server packets.
public enum TCPStateMachine {
    // The INPUT_ONLY rows, one nibble per current state (NONE in the lowest nibble ... SYNACK),
    // each nibble the next state's raw value (NO=0 ES=1 SS=2 SR=3 FW=4 TW=5 CL=6 CW=7 LA=8
    // LI=9 SA=10). Packed into constants so the per-packet lookup is a shift and a mask, with no
    // global array to initialise or bounds-check. Readable form (TCPStateMachineTests checks
    // every cell against it):
    //
    //     state:  NO  ES  SS  SR  FW  TW  CL  CW  LA  LI  SA
    //     syn     SR  ES  ES  SR  SR  SR  SR  SR  SR  SR  SR
    //     fin     CL  FW  SS  TW  FW  TW  CL  CW  LA  LI  TW
    //     ack     ES  ES  SS  ES  FW  TW  CL  CW  CL  LI  ES
    //     rst     CL  CL  CL  SR  CL  CL  CL  CL  LA  LI  CL

    /// The next state for a client-to-server segment with `flags`. The event is chosen in the
    /// kernel's priority order rst > syn > fin > ack; a segment with none of them closes.
    @inlinable
    public static func next(from state: ConnectionState, tcpFlags flags: UInt8) -> ConnectionState {
        guard state.rawValue < 11 else { return state }
        return ConnectionState(rawValue: nextRaw(from: state.rawValue, tcpFlags: flags)) ?? .close
    }

    /// `next(from:tcpFlags:)` on raw values, for the packet path, which keeps the state as the
    /// entry stores it. `raw` must be below 11 (a TCP state); the result is one too.
    @usableFromInline @inline(__always)
    static func nextRaw(from raw: UInt8, tcpFlags flags: UInt8) -> UInt8 {
        let row: UInt64
        if flags & Wire.tcpRST != 0 {
            row = 0x698_6666_3666
        } else if flags & Wire.tcpSYN != 0 {
            row = 0x333_3333_3113
        } else if flags & Wire.tcpFIN != 0 {
            row = 0x598_7654_5246
        } else if flags & Wire.tcpACK != 0 {
            row = 0x196_7654_1211
        } else {
            return ConnectionState.close.rawValue
        }
        return UInt8(truncatingIfNeeded: (row &>> (UInt64(raw) &* 4)) & 0xF)
    }

    /// `ConnectionState.isActive` as a bit per raw value (ES, SS, SR and SA), so that the
    /// packet path tests a state's activity with a bit test instead of a switch.
    static let activeStateBits: UInt16 = 1 << 1 | 1 << 2 | 1 << 3 | 1 << 10

    /// The hit path's transition table: entry `Int(flags & 0x17) << 4 | raw` is
    /// `nextRaw(from: raw, tcpFlags: flags)`, or `hitPathDeclines` where the hit path must
    /// leave the packet to the general path: a SYN (which may reopen the connection) or a raw
    /// state that is not a TCP one (11 and up). A load from it needs no shift by a variable
    /// amount, which on x86 would tie up `cl` on the packet path.
    static func hitPathTransitions() -> [UInt8] {
        (0..<(hitPathFlagMask + 1) << 4).map { index in
            let flags = UInt8(index >> 4), raw = UInt8(index & 0xF)
            return flags & Wire.tcpSYN != 0 || raw >= 11 ? hitPathDeclines : nextRaw(from: raw, tcpFlags: flags)
        }
    }

    /// The flags the state machine looks at: RST, SYN, FIN and ACK.
    static let hitPathFlagMask = Int(Wire.tcpRST | Wire.tcpSYN | Wire.tcpFIN | Wire.tcpACK)
    static let hitPathDeclines: UInt8 = 0xFF
}

/// Connection timeouts in seconds: the kernel's `tcp_timeouts[]` and `udp_timeouts[]`.
/// `ipvsadm --set tcp tcpfin udp` changes the ESTABLISHED, FIN_WAIT and UDP entries only.
public struct ConnectionTimeouts: Sendable, Equatable {
    public var seconds: [UInt32]

    public init() {
        //          NONE EST  SS   SR  FW   TW   CL  CW  LA  LI   SA   UDP
        seconds = [2, 900, 120, 60, 120, 120, 10, 60, 30, 120, 120, 300]
    }

    public subscript(state: ConnectionState) -> UInt32 {
        get { seconds[Int(state.rawValue)] }
        set { seconds[Int(state.rawValue)] = newValue }
    }

    /// `--set tcp tcpfin udp`: 0 leaves a value unchanged, as the kernel does.
    public mutating func set(tcp: UInt32, tcpFin: UInt32, udp: UInt32) {
        if tcp != 0 { self[.established] = tcp }
        if tcpFin != 0 { self[.finWait] = tcpFin }
        if udp != 0 { self[.udp] = udp }
    }
}
