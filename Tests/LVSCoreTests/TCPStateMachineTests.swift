import Testing
import LVSCore

@Suite struct TCPStateMachineTests {
    /// The INPUT_ONLY table of IPVS-SEMANTICS.md §3.4, typed in from the document.
    /// Columns in the kernel's state order: NONE ES SS SR FW TW CL CW LA LI SA.
    static let columns = "NO ES SS SR FW TW CL CW LA LI SA"
    static let table: [(event: String, flags: UInt8, row: String)] = [
        ("syn", Wire.tcpSYN, "SR ES ES SR SR SR SR SR SR SR SR"),
        ("fin", Wire.tcpFIN, "CL FW SS TW FW TW CL CW LA LI TW"),
        ("ack", Wire.tcpACK, "ES ES SS ES FW TW CL CW CL LI ES"),
        ("rst", Wire.tcpRST, "CL CL CL SR CL CL CL CL LA LI CL"),
    ]

    static func state(_ abbreviation: some StringProtocol) -> ConnectionState {
        switch abbreviation {
        case "NO": .none
        case "ES": .established
        case "SS": .synSent
        case "SR": .synReceived
        case "FW": .finWait
        case "TW": .timeWait
        case "CL": .close
        case "CW": .closeWait
        case "LA": .lastAck
        case "LI": .listen
        case "SA": .synAck
        default: fatalError("unknown state \(abbreviation)")
        }
    }

    // All 44 cells: each event from each of the 11 TCP states goes where §3.4 says.
    @Test func everyCellOfTheInputOnlyTable() {
        let from = Self.columns.split(separator: " ").map(Self.state)
        #expect(from.map(\.rawValue) == Array(0...10))   // the table's columns are the raw values
        for (event, flags, row) in Self.table {
            let to = row.split(separator: " ").map(Self.state)
            for (current, expected) in zip(from, to) {
                #expect(TCPStateMachine.next(from: current, tcpFlags: flags) == expected, "\(event) in \(current)")
            }
        }
    }

    // INPUT_ONLY differs from the INPUT table in one famous cell: FIN in ESTABLISHED → FIN_WAIT (not CLOSE_WAIT).
    @Test func finInEstablishedIsFinWait() {
        #expect(TCPStateMachine.next(from: .established, tcpFlags: Wire.tcpFIN | Wire.tcpACK) == .finWait)
    }

    // Priority rst > syn > fin > ack: the combined flags take the row of the strongest flag.
    @Test func flagPriority() {
        for current in ConnectionState.allCases where current != .udp {
            let rstRow = TCPStateMachine.next(from: current, tcpFlags: Wire.tcpRST)
            let synRow = TCPStateMachine.next(from: current, tcpFlags: Wire.tcpSYN)
            let finRow = TCPStateMachine.next(from: current, tcpFlags: Wire.tcpFIN)
            #expect(TCPStateMachine.next(from: current, tcpFlags: Wire.tcpRST | Wire.tcpSYN) == rstRow)
            #expect(TCPStateMachine.next(from: current, tcpFlags: Wire.tcpRST | Wire.tcpACK | Wire.tcpFIN) == rstRow)
            #expect(TCPStateMachine.next(from: current, tcpFlags: Wire.tcpSYN | Wire.tcpFIN) == synRow)
            #expect(TCPStateMachine.next(from: current, tcpFlags: Wire.tcpSYN | Wire.tcpACK) == synRow)
            #expect(TCPStateMachine.next(from: current, tcpFlags: Wire.tcpFIN | Wire.tcpACK) == finRow)
        }
        // Spot checks where the rows differ: RST+SYN in NONE closes (rst row), SYN+FIN in ES stays ES
        // (syn row, where fin would give FW), FIN+ACK in SR is TIME_WAIT (fin row, where ack gives ES).
        #expect(TCPStateMachine.next(from: .none, tcpFlags: Wire.tcpRST | Wire.tcpSYN) == .close)
        #expect(TCPStateMachine.next(from: .established, tcpFlags: Wire.tcpSYN | Wire.tcpFIN) == .established)
        #expect(TCPStateMachine.next(from: .synReceived, tcpFlags: Wire.tcpFIN | Wire.tcpACK) == .timeWait)
    }

    // A segment with none of RST/SYN/FIN/ACK (a bare PSH or URG, or nothing) closes the connection.
    @Test func noFlagsCloses() {
        for current in ConnectionState.allCases where current != .udp {
            #expect(TCPStateMachine.next(from: current, tcpFlags: 0) == .close)
            #expect(TCPStateMachine.next(from: current, tcpFlags: 0x08 | 0x20) == .close)
        }
    }

    // The golden DR flow of §3.4: SYN → SR, ACK → ES, data → ES, FIN+ACK → FW, last ACK → FW.
    @Test func goldenDRFlow() {
        var s = ConnectionState.none
        var trace: [ConnectionState] = []
        for flags in [Wire.tcpSYN, Wire.tcpACK, Wire.tcpACK | 0x08, Wire.tcpFIN | Wire.tcpACK, Wire.tcpACK] {
            s = TCPStateMachine.next(from: s, tcpFlags: flags)
            trace.append(s)
        }
        #expect(trace == [.synReceived, .established, .established, .finWait, .finWait])
        #expect(TCPStateMachine.next(from: .finWait, tcpFlags: Wire.tcpSYN) == .synReceived)
    }

    // Active states are ESTABLISHED, SYN_SENT, SYN_RECV and SYNACK (tcp_state_active_table); UDP is never active.
    @Test func activeStates() {
        let active = ConnectionState.allCases.filter(\.isActive)
        #expect(Set(active) == [.established, .synSent, .synReceived, .synAck])
    }

    // ipvsadm -Lnc names.
    @Test func stateNames() {
        #expect(ConnectionState.allCases.map(\.description) == [
            "NONE", "ESTABLISHED", "SYN_SENT", "SYN_RECV", "FIN_WAIT", "TIME_WAIT", "CLOSE", "CLOSE_WAIT",
            "LAST_ACK", "LISTEN", "SYNACK", "UDP",
        ])
    }
}

@Suite struct ConnectionTimeoutsTests {
    // §3.5 defaults, in seconds: NONE 2, ES 900, SS 120, SR 60, FW 120, TW 120, CL 10, CW 60,
    // LA 30, LI 120, SA 120, UDP 300.
    @Test func defaults() {
        let t = ConnectionTimeouts()
        let expected: [(ConnectionState, UInt32)] = [
            (.none, 2), (.established, 900), (.synSent, 120), (.synReceived, 60), (.finWait, 120),
            (.timeWait, 120), (.close, 10), (.closeWait, 60), (.lastAck, 30), (.listen, 120), (.synAck, 120),
            (.udp, 300),
        ]
        for (state, seconds) in expected { #expect(t[state] == seconds, "\(state)") }
    }

    // `--set tcp tcpfin udp` changes only ESTABLISHED, FIN_WAIT and UDP; 0 leaves a value alone.
    @Test func setChangesThreeEntriesAndZeroKeeps() {
        var t = ConnectionTimeouts()
        t.set(tcp: 3600, tcpFin: 30, udp: 20)
        #expect(t[.established] == 3600)
        #expect(t[.finWait] == 30)
        #expect(t[.udp] == 20)
        #expect(t[.synReceived] == 60)
        #expect(t[.timeWait] == 120)
        t.set(tcp: 0, tcpFin: 45, udp: 0)
        #expect(t[.established] == 3600)
        #expect(t[.finWait] == 45)
        #expect(t[.udp] == 20)
        var u = ConnectionTimeouts()
        u.set(tcp: 0, tcpFin: 0, udp: 0)
        #expect(u == ConnectionTimeouts())
    }
}
