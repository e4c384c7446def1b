/// The hit path: a packet of a connection the table already holds, which almost every frame
/// is. `process` tries it first; the general path (`processGeneral`) takes everything else.
///
/// It does what the general path does for such a packet in about a quarter of the
/// instructions (BENCHMARKS.md, "Core"), because it reads only the fields it needs, at fixed
/// offsets, and decides with a few wide compares:
/// - no `ParsedFrame`: the frame must have the one layout almost all traffic has (Ethernet
///   without VLAN tag, IPv4 without options, not a fragment, TCP or UDP);
/// - the header checksum as three loads and a divisibility test
///   (`InternetChecksum.isValidOptionlessIPv4Header`);
/// - the key built from two big-endian loads, hashed with one multiply and compared with two
///   64-bit loads (`PackedKey`);
/// - an ACK on an established connection, or a datagram of a UDP one, told by one 32-bit
///   compare of the entry (its state then stays); other segments look their next state up in
///   a table (`TCPStateMachine.hitPathTransitions`);
/// - the director's MAC compared and written as precomputed words.
///
/// It is cut in two functions, and the rare cases are further functions again, so that the
/// register allocator sees small pieces: the first half (checks and lookup, inlined into
/// `process`) ends in a jump to the second (the entry's checks and the writes), and nothing
/// the first held has to survive the jump. Measured: 6 instructions a packet fewer than one
/// function, which kept copying its arguments to other registers and back for the general
/// path it might still have to call.
///
/// Everything it does not handle goes to the general path untouched: frames with another
/// layout, malformed ones (which the general path counts by reason), SYNs (which may reopen a
/// connection), unknown flows, expired entries, unavailable or unresolved servers, TTL ≤ 1,
/// frames above the MTU, and states that a TCP entry should never hold. So every check comes
/// before the first write; after the last one the packet is forwarded. `HitPathTests` runs a
/// long random mix of frames through both paths and compares everything they change.
extension ForwardingEngine {
    /// Where the hit path's first half found a frame's connection.
    enum HitPathLookup {
        /// The entry holding the frame's key (alive or not: the second half looks), and the
        /// frame's IPv4 total length.
        case found(UnsafeMutablePointer<ConnectionEntry>, totalLength: Int)
        /// Not for the hit path: the general path takes the frame.
        case declined
        /// The key's home slot holds another connection: the key may be further along its
        /// probe run, which `forwardDisplaced` walks.
        case displaced
    }

    /// The native word whose memory bytes are `mac`'s six, then two zero bytes.
    static func frameWord(_ mac: MACAddress) -> UInt64 { (mac.value << 16).bigEndian }

    /// The native word of an entry's bytes 12-15 (transport, state, flags, reserved) for a
    /// connection in `state` with no flag but "in use": one compare tells the common case.
    static func usualTail(transport: UInt8, state: UInt8) -> UInt32 {
        (UInt32(transport) << 24 | UInt32(state) << 16 | 1 << 8).bigEndian
    }

    /// The hit path again for a key that was not in its home slot, walking the probe run this
    /// time. Out of line, so that the loop's registers do not burden the common case (at the
    /// engine's load factors most keys are in their home slot); the price is validating the
    /// frame twice for the others.
    @inline(never)
    func forwardDisplaced(_ frame: FrameBytes, now: UInt64) -> Verdict {
        guard case .found(let e, let totalLength) = findEstablished(frame, probing: true) else {
            return processGeneral(frame, now: now, isSuperFrame: false)
        }
        return forwardEstablished(frame, now: now, entry: e, totalLength: totalLength)
    }

    /// The hit path's first half: checks that `frame` has the one layout the hit path takes,
    /// and finds its connection. Without `probing`, only the key's home slot is looked at.
    /// It writes nothing. Inlined into `process`, which then jumps to the second half.
    ///
    /// Byte offsets are those of an option-less IPv4 header after a 14-byte Ethernet header:
    /// 14 version and header length, 16 total length, 20 flags and fragment offset, 22 TTL,
    /// 23 protocol, 26 source, 30 destination, 34 source port, 36 destination port; TCP's
    /// data offset at 46 and flags at 47.
    @inline(__always)
    func findEstablished(_ frame: FrameBytes, probing: Bool) -> HitPathLookup {
        // The smallest TCP frame of this layout, so every byte read here and in the second
        // half is in the capture (a UDP datagram in a shorter frame, which only an unpadded
        // virtual link delivers, takes the general path).
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
            // The data offset is 5 words or more and inside the packet (so the total length is
            // at least 40).
            let dataOffset = Int(frame.u8(46) >> 4) &* 4
            guard dataOffset >= Wire.tcpMinimumHeaderLength, dataOffset &+ 20 <= totalLength else { return .declined }
            return findEstablished(frame, transport: TransportProtocol.tcp.rawValue, totalLength: totalLength,
                                   probing: probing)
        case TransportProtocol.udp.rawValue:
            guard totalLength >= 28 else { return .declined }
            return findEstablished(frame, transport: TransportProtocol.udp.rawValue, totalLength: totalLength,
                                   probing: probing)
        default:
            return .declined
        }
    }

    @inline(__always)
    func findEstablished(_ frame: FrameBytes, transport: UInt8, totalLength: Int, probing: Bool) -> HitPathLookup {
        guard InternetChecksum.isValidOptionlessIPv4Header(frame.base + Wire.ethernetHeaderLength) else {
            return .declined
        }
        let key = PackedKey(transport: transport, clientAddress: frame.u32(26), clientPort: frame.u16(34),
                            virtualAddress: frame.u32(30), virtualPort: frame.u16(36))
        if probing {
            guard let e = connections.lookup(key) else { return .declined }
            return .found(e, totalLength: totalLength)
        }
        let e = connections.homeSlot(key)
        if key.matches(UnsafeRawPointer(e)) { return .found(e, totalLength: totalLength) }
        return e.pointee.isOccupied ? .displaced : .declined
    }

    /// The hit path's second half, for a frame `findEstablished` passed (`totalLength` is its
    /// IPv4 total length) and the entry it found: forwards the packet if its connection is
    /// alive, its server available and resolved, and its state allows it, exactly as `forward`
    /// would; otherwise hands the frame, untouched, to the general path.
    @inline(never)
    func forwardEstablished(_ frame: FrameBytes, now: UInt64, entry e: UnsafeMutablePointer<ConnectionEntry>,
                            totalLength: Int) -> Verdict {
        guard e.pointee.expiresAt > now else { return processGeneral(frame, now: now, isSuperFrame: false) }
        let d = destinations + Int(e.pointee.destinationSlot)
        guard d.pointee.isAvailable, let mac = d.pointee.mac else {
            return processGeneral(frame, now: now, isSuperFrame: false)
        }
        // The common cases, told by one compare of the entry's transport, state, flags and
        // reserved byte: an ACK on an established connection, a datagram of a UDP one. Their
        // state stays.
        let tail = UnsafeRawPointer(e).load(fromByteOffset: 12, as: UInt32.self)
        let established = Self.usualTail(transport: TransportProtocol.tcp.rawValue,
                                         state: ConnectionState.established.rawValue)
        if tail == established && Int(frame.u8(47)) & TCPStateMachine.hitPathFlagMask == Int(Wire.tcpACK) {
            completeForwarding(frame, e, d, mac: mac, state: ConnectionState.established.rawValue,
                               totalLength: totalLength, now: now)
            return .transmit
        }
        if tail == Self.usualTail(transport: TransportProtocol.udp.rawValue, state: ConnectionState.udp.rawValue) {
            completeForwarding(frame, e, d, mac: mac, state: ConnectionState.udp.rawValue,
                               totalLength: totalLength, now: now)
            return .transmit
        }
        return forwardChangingState(frame, now: now, entry: e, mac: mac, totalLength: totalLength)
    }

    /// The rest of the second half: a segment that may change its connection's state, or one
    /// whose entry has a flag set (a connection a template controls). Out of line, to keep its
    /// registers out of the common cases.
    @inline(never)
    func forwardChangingState(_ frame: FrameBytes, now: UInt64, entry e: UnsafeMutablePointer<ConnectionEntry>,
                              mac: MACAddress, totalLength: Int) -> Verdict {
        let d = destinations + Int(e.pointee.destinationSlot)
        let old = e.pointee.stateRaw
        let new: UInt8
        if e.pointee.transport == TransportProtocol.udp.rawValue {
            guard old == ConnectionState.udp.rawValue else {
                return processGeneral(frame, now: now, isSuperFrame: false)
            }
            new = old
        } else {
            // SYNs, and states no TCP entry should hold, are declined here.
            guard old < 16 else { return processGeneral(frame, now: now, isSuperFrame: false) }
            new = tcpTransitions[(Int(frame.u8(47)) & TCPStateMachine.hitPathFlagMask) &<< 4 | Int(old)]
            guard new != TCPStateMachine.hitPathDeclines else {
                return processGeneral(frame, now: now, isSuperFrame: false)
            }
            // That was the last check: from here on the packet is forwarded, as `forward` would.
            if new != old {
                changeState(e, d, from: old, to: new)
                if syncJournal != nil { recordSyncedChange(e, state: new, now: now) }
            }
        }
        completeForwarding(frame, e, d, mac: mac, state: new, totalLength: totalLength, now: now)
        return .transmit
    }

    /// What forwarding a packet of a live connection in (new) state `state` writes: the
    /// entry's timer, the counters, the frame's DR rewrite.
    @inline(__always)
    func completeForwarding(_ frame: FrameBytes, _ e: UnsafeMutablePointer<ConnectionEntry>,
                            _ d: UnsafeMutablePointer<Destination>, mac: MACAddress, state: UInt8, totalLength: Int,
                            now: UInt64) {
        e.pointee.expiresAt = now &+ timeoutNanos[Int(state)]
        // The adds of 1 come before the first write to the frame and the adds of a length after
        // it: that write might alias them, so LLVM's SLP vectoriser can no longer pack a
        // packets/bytes pair into one 128-bit add, which takes twice the instructions of two
        // adds (it has to build the vector of 1 and the length). The service's totals are
        // derived from its servers' counters (`serviceStats`): nothing to add for it here.
        count(.receivedFrames)
        count(.forwardedFrames)
        d.pointee.stats.inPackets &+= 1
        frame.base.storeBytes(of: Self.frameWord(mac) | directorMACHead, as: UInt64.self)
        frame.base.storeBytes(of: directorMACTail, toByteOffset: 8, as: UInt32.self)
        DirectRoutingTransmitter.decrementTTL(frame)
        let frameLength = UInt64(truncatingIfNeeded: frame.count)
        let ipLength = UInt64(truncatingIfNeeded: totalLength)
        count(.receivedBytes, frameLength)
        count(.forwardedBytes, frameLength)
        d.pointee.stats.inBytes &+= ipLength
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
