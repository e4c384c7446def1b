/// The hit path: a packet of a connection the table already holds, the packet almost every
/// frame is. `process` tries it first, and the general path (`processGeneral`) handles the
/// rest.
///
/// It does what the general path does for such a packet, in about a fifth of the instructions
/// (BENCHMARKS.md, "Core"), because it reads only the fields it needs, at fixed offsets, and
/// checks them in a few wide compares:
/// - no `ParsedFrame`: the frame must have the one layout almost all traffic has (Ethernet
///   without VLAN tag, IPv4 without options, not a fragment, TCP or UDP);
/// - the header checksum as three loads and a divisibility test
///   (`InternetChecksum.isValidOptionlessIPv4Header`);
/// - the key built from two big-endian loads and found with two 64-bit compares (`PackedKey`);
/// - the state kept as its raw value (a shift in a constant, `TCPStateMachine.nextRaw`);
/// - the director's MAC compared and written as precomputed words.
///
/// Everything it does not handle goes to the general path untouched: frames with another
/// layout, malformed ones (which the general path counts by reason), SYNs (which may reopen a
/// connection), expired entries, unavailable or unresolved servers, TTL ≤ 1, frames above the
/// MTU, and states that a TCP entry should never hold. So every check below must come before
/// the first write; after the last one the packet is forwarded.
extension ForwardingEngine {
    /// What the hit path did with a frame.
    enum HitPathOutcome {
        /// Forwarded: the frame is rewritten and counted.
        case forwarded
        /// Not for the hit path: nothing changed, the general path takes the frame.
        case declined
        /// The key's home slot holds another connection: the key may be further along its
        /// probe run. Nothing changed; `forwardDisplaced` looks again with the probe loop.
        case displaced
    }

    /// The native word whose memory bytes are `mac`'s six, then two zero bytes.
    static func frameWord(_ mac: MACAddress) -> UInt64 { (mac.value << 16).bigEndian }

    /// The hit path again for a key that was not in its home slot, walking the probe run this
    /// time. Out of line, so that the loop's registers do not burden the common case (at the
    /// engine's load factors most keys are in their home slot); the price is validating the
    /// frame twice for the others.
    @inline(never)
    func forwardDisplaced(_ frame: FrameBytes, now: UInt64) -> Verdict {
        if forwardEstablished(frame, now: now, probing: true) == .forwarded { return .transmit }
        return processGeneral(frame, now: now, isSuperFrame: false)
    }

    /// Forwards `frame` if it is a packet of a known, live connection that needs nothing but
    /// the DR rewrite; otherwise changes nothing. Without `probing`, only the key's home slot
    /// is looked at.
    ///
    /// Byte offsets are those of an option-less IPv4 header after a 14-byte Ethernet header:
    /// 14 version and header length, 16 total length, 20 flags and fragment offset, 22 TTL,
    /// 23 protocol, 26 source, 30 destination, 34 source port, 36 destination port; TCP's
    /// data offset at 46 and flags at 47.
    @inline(__always)
    func forwardEstablished(_ frame: FrameBytes, now: UInt64, probing: Bool) -> HitPathOutcome {
        // The smallest TCP frame of this layout, so every byte read below is in the capture (a
        // UDP datagram in a shorter frame, which only an unpadded virtual link delivers, takes
        // the general path).
        guard frame.count >= 54,
              frame.base.loadUnaligned(as: UInt64.self) & macMaskWord == directorMACWord,
              frame.u16(12) == Wire.etherTypeIPv4,
              frame.u8(14) == 0x45,
              // Neither more-fragments nor an offset (DF and the reserved bit do not matter).
              frame.u16(20) & 0x3FFF == 0,
              frame.u8(22) > 1
        else { return .declined }
        let totalLength = Int(frame.u16(16))
        guard Wire.ethernetHeaderLength &+ totalLength <= frame.count, totalLength <= mtu else { return .declined }
        // One copy of the rest per protocol, so that the protocol is a constant in each.
        switch frame.u8(23) {
        case TransportProtocol.tcp.rawValue:
            return forwardEstablished(frame, totalLength: totalLength, transport: TransportProtocol.tcp.rawValue,
                                      now: now, probing: probing)
        case TransportProtocol.udp.rawValue:
            return forwardEstablished(frame, totalLength: totalLength, transport: TransportProtocol.udp.rawValue,
                                      now: now, probing: probing)
        default:
            return .declined
        }
    }

    @inline(__always)
    func forwardEstablished(_ frame: FrameBytes, totalLength: Int, transport: UInt8, now: UInt64,
                            probing: Bool) -> HitPathOutcome {
        let isTCP = transport == TransportProtocol.tcp.rawValue
        var tcpFlags: UInt8 = 0
        if isTCP {
            // The data offset is 5 words or more and inside the packet (so the total length is
            // at least 40).
            let dataOffset = Int(frame.u8(46) >> 4) &* 4
            guard dataOffset >= Wire.tcpMinimumHeaderLength, dataOffset &+ 20 <= totalLength else { return .declined }
            tcpFlags = frame.u8(47)
        } else {
            guard totalLength >= 28 else { return .declined }
        }
        guard InternetChecksum.isValidOptionlessIPv4Header(frame.base + Wire.ethernetHeaderLength) else {
            return .declined
        }

        let key = PackedKey(transport: transport, clientAddress: frame.u32(26), clientPort: frame.u16(34),
                            virtualAddress: frame.u32(30), virtualPort: frame.u16(36))
        // A connection in its usual state (TCP: established; UDP: its one state) with no flag but
        // "in use" matches its key and that state in one compare of each word ("steady").
        let usualState = isTCP ? ConnectionState.established.rawValue : ConnectionState.udp.rawValue
        let e: UnsafeMutablePointer<ConnectionEntry>
        let steady: Bool
        if probing {
            guard let found = connections.lookup(key) else { return .declined }
            e = found
            steady = key.matches(UnsafeRawPointer(e), inState: usualState)
        } else {
            e = connections.homeSlot(key)
            steady = key.matches(UnsafeRawPointer(e), inState: usualState)
            if !steady, !key.matches(UnsafeRawPointer(e)) { return e.pointee.isOccupied ? .displaced : .declined }
        }
        guard e.pointee.expiresAt > now else { return .declined }
        let d = destinations + Int(e.pointee.destinationSlot)
        guard d.pointee.isAvailable, let mac = d.pointee.mac else { return .declined }
        let new: UInt8
        if steady && (!isTCP || Int(tcpFlags) & TCPStateMachine.hitPathFlagMask == Int(Wire.tcpACK)) {
            // The common case: an ACK on an established connection, a datagram of a UDP one.
            new = usualState
        } else {
            let old = e.pointee.stateRaw
            if !isTCP {
                guard old == ConnectionState.udp.rawValue else { return .declined }
                new = old
            } else {
                // SYNs, and states no TCP entry should hold, are declined here.
                guard old < 16 else { return .declined }
                new = tcpTransitions[(Int(tcpFlags) & TCPStateMachine.hitPathFlagMask) &<< 4 | Int(old)]
                guard new != TCPStateMachine.hitPathDeclines else { return .declined }
                // That was the last check: from here on the packet is forwarded, as `forward` would.
                if new != old { changeState(e, d, from: old, to: new) }
            }
        }
        e.pointee.expiresAt = now &+ timeoutNanos[Int(new)]

        // Counters and the DR rewrite. The adds of 1 come before the first write to the frame
        // and the adds of a length after it: that write might alias them, so LLVM's SLP
        // vectoriser can no longer pack a packets/bytes pair into one 128-bit add, which takes
        // twice the instructions of two adds (it has to build the vector of 1 and the length).
        let service = serviceStats + Int(e.pointee.serviceIndex)
        count(.receivedFrames)
        count(.forwardedFrames)
        d.pointee.stats.inPackets &+= 1
        service.pointee.inPackets &+= 1
        frame.base.storeBytes(of: Self.frameWord(mac) | directorMACHead, as: UInt64.self)
        frame.base.storeBytes(of: directorMACTail, toByteOffset: 8, as: UInt32.self)
        DirectRoutingTransmitter.decrementTTL(frame)
        let frameLength = UInt64(truncatingIfNeeded: frame.count)
        let ipLength = UInt64(truncatingIfNeeded: totalLength)
        count(.receivedBytes, frameLength)
        count(.forwardedBytes, frameLength)
        d.pointee.stats.inBytes &+= ipLength
        service.pointee.inBytes &+= ipLength
        return .forwarded
    }

    /// `transition`'s bookkeeping for a state change, on raw values: a connection that becomes
    /// active or inactive moves between its server's two counts.
    @inline(__always)
    func changeState(_ e: UnsafeMutablePointer<ConnectionEntry>, _ d: UnsafeMutablePointer<Destination>,
                     from old: UInt8, to new: UInt8) {
        e.pointee.stateRaw = new
        let wasActive = TCPStateMachine.activeStateBits &>> old & 1
        let isActive = TCPStateMachine.activeStateBits &>> new & 1
        guard wasActive != isActive else { return }
        if isActive != 0 {
            d.pointee.activeConnections += 1
            d.pointee.inactiveConnections -= 1
        } else {
            d.pointee.activeConnections -= 1
            d.pointee.inactiveConnections += 1
        }
    }
}
