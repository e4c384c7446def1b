/// The batch entry point: the frames of one ring turn in one call, which is how the worker
/// runs the engine. For the usual packet (an ACK of an established TCP connection, a datagram
/// of a UDP one, whose key sits in its home slot) it does what the hit path does
/// (`ForwardingEngine+HitPath.swift`), with the work that does not depend on the packet done
/// once per run of such packets instead of once per packet:
/// - the loop over them (`forwardUsualRun`) is a leaf function: the engine's and the table's
///   fields (director MAC word, MTU, table base, mask and hash seed, the server array) are
///   loaded once, and no call clobbers them; the values that depend on the protocol (the two
///   expiry instants from the call's one clock reading among them) and the TCP length floors
///   sit in a block in its frame (`RunConstants`), read as instruction operands;
/// - the four data-plane counters of a forwarded packet (received and forwarded, frames and
///   bytes) become a byte sum the run returns and a frame count derived at the end, added
///   once a call; the service's packets and bytes are not counted at all (they are derived
///   from its servers' counters when read, see `serviceStats`);
/// - the run's verdicts are written by the caller in one fill;
/// - the frame checks test several header fields per load (`BatchFrameWords`), and the slot's
///   second word is compared unmasked: key, usual state, flags and reserved byte at once.
///
/// Anything else (other layouts, damaged frames, SYNs, FINs and RSTs, state changes,
/// template-controlled entries, keys displaced from their home slot, expired entries,
/// unavailable or unresolved servers, TTL ≤ 1, frames above the MTU) goes, untouched, to
/// `process`, the single-frame path, so it behaves exactly as before. The only difference a
/// caller sees is that the four data-plane counters of the usual packets are added at the end
/// of the call, which nobody can observe in between: the engine belongs to the worker thread.
/// `HitPathTests` runs the same random mix through batches and through the general path.
extension ForwardingEngine {
    /// Processes `count` frames with one clock reading `now`, writing each frame's verdict at
    /// the same index of `verdicts`, and returns how many it processed: all of them, or fewer
    /// when a frame's verdict is `.transmitGenerated` (it is the last one processed), because
    /// the engine has one buffer for a generated frame and the caller must send it before the
    /// next frame may write another. The caller then calls again with the rest.
    public func processBatch(_ frames: UnsafePointer<FrameBytes>, count: Int,
                             verdicts: UnsafeMutablePointer<Verdict>, now: UInt64) -> Int {
        var forwardedBytes: UInt64 = 0
        // The expiry a usual packet sets, per protocol, from the call's one clock reading.
        // Computed here and passed in, so that the loop stores one of two values it holds
        // rather than adding the clock to one of two timeouts per packet (LLVM folds the add
        // back into the loop when it sees both sides).
        let expiries = UsualExpiries(established: now &+ timeoutNanos[Int(ConnectionState.established.rawValue)],
                                     udp: now &+ timeoutNanos[Int(ConnectionState.udp.rawValue)])
        var handedOn = 0
        var i = 0
        let last = frames + count
        while i < count {
            let run = forwardUsualRun(from: frames + i, to: last, now: now, expiries: expiries)
            let end = run.stop - frames
            forwardedBytes &+= run.bytes
            // The run's verdicts in one fill rather than one store per frame in its loop, whose
            // registers are all spoken for.
            (verdicts + i).initialize(repeating: .transmit, count: end &- i)
            i = end
            guard i < count else { break }
            // Not the usual packet: the single-frame path decides, from the untouched frame.
            let verdict = process(frames[i], now: now)
            verdicts[i] = verdict
            handedOn &+= 1
            i &+= 1
            if verdict == .transmitGenerated { break }
        }
        let forwarded = UInt64(truncatingIfNeeded: i &- handedOn)
        counterSlots[DataPlaneCounter.receivedFrames.rawValue] &+= forwarded
        counterSlots[DataPlaneCounter.forwardedFrames.rawValue] &+= forwarded
        counterSlots[DataPlaneCounter.receivedBytes.rawValue] &+= forwardedBytes
        counterSlots[DataPlaneCounter.forwardedBytes.rawValue] &+= forwardedBytes
        return i
    }

    /// Forwards frames from `start` on for as long as each is the usual packet, and returns
    /// where it stopped (the first frame that is not, or `end`) and the forwarded frames' bytes:
    /// the frames before `stop` are to be transmitted. The caller writes their verdicts, counts
    /// them and does everything else.
    ///
    /// A leaf function on purpose: with no call in the loop, the engine's fields it loads
    /// first can stay in the registers a call would clobber; the caller's loop, which does
    /// call out for the other frames, runs once per unusual frame instead of once per frame.
    /// The values that depend on the protocol and the TCP length floors sit in a block in the
    /// function's own frame (`RunConstants`), read by an index: an operand of the instruction
    /// that uses them, in no register. It walks pointers and returns one (no index from the
    /// array's start held), so the byte sum has a register.
    @inline(never)
    func forwardUsualRun(from start: UnsafePointer<FrameBytes>, to end: UnsafePointer<FrameBytes>, now: UInt64,
                         expiries: UsualExpiries) -> (stop: UnsafePointer<FrameBytes>, bytes: UInt64) {
        let entries = UnsafeRawPointer(connections.entries)
        let mask = connections.mask
        let addressSeed = connections.addressSeed
        let macWord = BatchFrameWords.destinationMAC(directorMACWord)
        let macHead = directorMACHead, macTail = directorMACTail
        let mtu = self.mtu
        let destinations = UnsafeMutableRawPointer(self.destinations)
        var constants = RunConstants(restSeed: connections.restSeed, expiries: expiries)
        return withUnsafeBytes(of: &constants) { constants in
            var f = start
            var bytes: UInt64 = 0
            while f < end {
                let frame = f.pointee
                let b = frame.base
                // Layout checks: the same as `findEstablished`'s, several header fields a compare
                // (the destination MAC: the first word's first six bytes, the other two shifted out,
                // one value less to hold than a mask).
                guard frame.count >= 54,
                      BatchFrameWords.destinationMAC(b.loadUnaligned(as: UInt64.self)) == macWord,
                      b.loadUnaligned(fromByteOffset: 12, as: UInt16.self) == BatchFrameWords.etherTypeIPv4,
                      b.load(fromByteOffset: 14, as: UInt8.self) == 0x45
                else { return (f, bytes) }
                let w20 = b.loadUnaligned(fromByteOffset: 20, as: UInt32.self)
                guard w20 & BatchFrameWords.ttlAboveOne != 0 else { return (f, bytes) }
                // The header checksum this early (the count ≥ 54 check covers its 20 bytes): none
                // of the protocol's values is live across it yet, so nothing spills, and the total
                // length below comes from its first load.
                guard InternetChecksum.isValidOptionlessIPv4Header(b + Wire.ethernetHeaderLength) else {
                    return (f, bytes)
                }
                let fragmentAndProtocol = w20 & BatchFrameWords.fragmentProtocolMask
                let totalLength = Int(UInt16(bigEndian: b.loadUnaligned(fromByteOffset: 16, as: UInt16.self)))
                guard totalLength &+ Wire.ethernetHeaderLength <= frame.count, totalLength <= mtu else {
                    return (f, bytes)
                }
                // Per protocol: where its values sit in `constants` (`RunConstants`).
                let protocolValues: Int
                if fragmentAndProtocol == BatchFrameWords.tcpUnfragmented {
                    // Data offset of 5 words or more, inside the packet (the offset, the byte's high
                    // nibble, indexes the length floor); flags exactly ACK among SYN, FIN, RST and
                    // ACK (the others may change the state).
                    let floor = Int(b.load(fromByteOffset: 46, as: UInt8.self) &>> 4) &* 2
                    guard UInt16(truncatingIfNeeded: totalLength)
                            > constants.load(fromByteOffset: RunConstants.floorsOffset &+ floor, as: UInt16.self),
                          Int(b.load(fromByteOffset: 47, as: UInt8.self)) & TCPStateMachine.hitPathFlagMask
                            == Int(Wire.tcpACK)
                    else { return (f, bytes) }
                    protocolValues = RunConstants.tcpOffset
                } else {
                    guard fragmentAndProtocol == BatchFrameWords.udpUnfragmented, totalLength >= 28 else {
                        return (f, bytes)
                    }
                    protocolValues = RunConstants.udpOffset
                }
                // The packed key straight from the frame (see `PackedKey`) without its transport
                // and "in use" bits, which the protocol's values add: its home slot by the table's
                // keyed hash, and the slot's second word it must equal.
                let key = PackedKey(transport: 0, clientAddress: frame.u32(26), clientPort: frame.u16(34),
                                    virtualAddress: frame.u32(30), virtualPort: frame.u16(36))
                let ports = key.rest & ~PackedKey.inUse
                let rest = ports ^ constants.load(fromByteOffset: protocolValues &+ RunConstants.hashRest,
                                                  as: UInt64.self)
                let hash = ((key.addresses ^ addressSeed) &* rest).byteSwapped
                let e = entries + (Int(truncatingIfNeeded: hash) & mask) &* MemoryLayout<ConnectionEntry>.stride
                // The key in its home slot, in the usual state, with no flag but "in use" and a zero
                // reserved byte: one compare of the slot's second word, unmasked (a key further
                // along its probe run takes the single-frame path, which walks the run). Then alive.
                guard e.load(as: UInt64.self) == key.addresses,
                      e.load(fromByteOffset: 8, as: UInt64.self)
                        == ports ^ constants.load(fromByteOffset: protocolValues &+ RunConstants.slotRest,
                                                  as: UInt64.self),
                      e.load(fromByteOffset: 24, as: UInt64.self) > now
                else { return (f, bytes) }
                let entry = UnsafeMutableRawPointer(mutating: e).assumingMemoryBound(to: ConnectionEntry.self)
                // A server that is available and resolved.
                let d = (destinations + Int(entry.pointee.destinationSlot) &* MemoryLayout<Destination>.stride)
                    .assumingMemoryBound(to: Destination.self)
                let serverWord = d.pointee.forwardingMACWord
                guard serverWord != 0 else { return (f, bytes) }
                // Forwarded: from here on it writes, as `completeForwarding` does.
                entry.pointee.expiresAt = constants.load(fromByteOffset: protocolValues &+ RunConstants.expiry,
                                                         as: UInt64.self)
                // The server's counters; its service's totals are derived from them when read
                // (`serviceStats`).
                d.pointee.stats.inPackets &+= 1
                b.storeBytes(of: serverWord | macHead, as: UInt64.self)
                b.storeBytes(of: macTail, toByteOffset: 8, as: UInt32.self)
                DirectRoutingTransmitter.decrementTTL(frame)
                let ipLength = UInt64(truncatingIfNeeded: totalLength)
                d.pointee.stats.inBytes &+= ipLength
                // The length read again from the descriptor (an add from memory) rather than held
                // from the first read, which would keep a register through the lookup.
                bytes &+= UInt64(truncatingIfNeeded: f.pointee.count)
                f += 1
            }
            return (f, bytes)
        }
    }
}

/// What `forwardUsualRun` reads by an index rather than holds in registers, built once a
/// call in its frame: per protocol (TCP's block, then UDP's), the key's second word's
/// transport and "in use" bits XORed with the table's seed for that word (the bits are
/// disjoint from the ports', so the XOR with the ports both adds them and applies the seed),
/// those bits with the usual state's (what the slot's second word holds, less the ports), and
/// the expiry its packet sets; then the TCP length floors (`BatchFrameWords.tcpLengthFloors`).
struct RunConstants {
    var tcpHashRest: UInt64, tcpSlotRest: UInt64, tcpExpiry: UInt64
    var udpHashRest: UInt64, udpSlotRest: UInt64, udpExpiry: UInt64
    var floors: (UInt64, UInt64, UInt64, UInt64)

    /// Byte offsets: of a protocol's block, and of each value in a block.
    static var tcpOffset: Int { 0 }
    static var udpOffset: Int { 24 }
    static var hashRest: Int { 0 }
    static var slotRest: Int { 8 }
    static var expiry: Int { 16 }
    static var floorsOffset: Int { 48 }

    @inline(__always)
    init(restSeed: UInt64, expiries: UsualExpiries) {
        let tcp = BatchFrameWords.transportBits(.tcp), udp = BatchFrameWords.transportBits(.udp)
        tcpHashRest = tcp ^ restSeed
        tcpSlotRest = tcp | PackedKey.stateBits(ConnectionState.established.rawValue)
        tcpExpiry = expiries.established
        udpHashRest = udp ^ restSeed
        udpSlotRest = udp | PackedKey.stateBits(ConnectionState.udp.rawValue)
        udpExpiry = expiries.udp
        floors = BatchFrameWords.tcpLengthFloors
    }
}

/// The expiry instants `forwardUsualRun` sets: an established TCP connection's, a UDP one's.
struct UsualExpiries {
    var established: UInt64
    var udp: UInt64
}

/// Header words of the usual frame as the batch loop compares them: native-order loads of the
/// frame's bytes, tested against constants built from their network-order values, so that one
/// compare covers several fields.
enum BatchFrameWords {
    /// Bytes 12-13: the EtherType, IPv4.
    @inline(__always) static var etherTypeIPv4: UInt16 { Wire.etherTypeIPv4.bigEndian }
    /// Bytes 20-23: flags and fragment offset, TTL, protocol. Neither more-fragments nor an
    /// offset (DF and the reserved bit do not matter), and the protocol.
    @inline(__always) static var fragmentProtocolMask: UInt32 { UInt32(0x3FFF_00FF).bigEndian }
    @inline(__always) static var tcpUnfragmented: UInt32 { UInt32(UInt32(TransportProtocol.tcp.rawValue)).bigEndian }
    @inline(__always) static var udpUnfragmented: UInt32 { UInt32(UInt32(TransportProtocol.udp.rawValue)).bigEndian }
    /// The bits of a key's second word (`PackedKey.rest`) that depend only on the transport:
    /// the transport and "in use" (disjoint from the ports').
    @inline(__always) static func transportBits(_ transport: TransportProtocol) -> UInt64 {
        PackedKey(transport: transport.rawValue, clientAddress: 0, clientPort: 0, virtualAddress: 0, virtualPort: 0).rest
    }
    /// Per TCP data offset (0-15 words), the total length a usual packet's must be above: its
    /// IP header and TCP header take 20 + 4 × offset bytes; an offset below 5 words is damaged,
    /// and its floor, 0xFFFF, no length is above. 16 UInt16s in four words, as
    /// `forwardUsualRun` loads them (`offset × 2` bytes in). One load-and-compare instead of
    /// the offset's two tests.
    static var tcpLengthFloors: (UInt64, UInt64, UInt64, UInt64) {
        var words: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        withUnsafeMutableBytes(of: &words) { table in
            for offset in 0..<16 {
                let floor = offset >= 5 ? UInt16(20 &+ 4 &* offset &- 1) : UInt16.max
                table.storeBytes(of: floor, toByteOffset: offset &* 2, as: UInt16.self)
            }
        }
        return words
    }
    /// The first six bytes of a frame's first word (its destination MAC), the other two shifted
    /// out.
    @inline(__always) static func destinationMAC(_ word: UInt64) -> UInt64 {
        #if _endian(little)
        word &<< 16
        #else
        word &>> 16
        #endif
    }
    /// A TTL above 1 is one with a bit other than the lowest set.
    @inline(__always) static var ttlAboveOne: UInt32 { UInt32(0x0000_FE00).bigEndian }
}
