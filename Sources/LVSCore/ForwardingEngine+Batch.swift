/// The batch entry point: the frames of one ring turn in one call, which is how the worker
/// runs the engine. For the usual packet (an ACK of an established TCP connection, a datagram
/// of a UDP one, whose key sits in its home slot) it does what the hit path does
/// (`ForwardingEngine+HitPath.swift`), with the work that does not depend on the packet done
/// once per run of such packets instead of once per packet:
/// - the loop over them (`forwardUsualRun`) is a leaf function: the engine's and the table's
///   fields (director MAC words, MTU, table base, mask and hash seeds, the server array) are
///   loaded once, and no call clobbers them; the two expiry instants a usual packet sets come
///   in computed from the call's one clock reading;
/// - the four data-plane counters of a forwarded packet (received and forwarded, frames and
///   bytes) become a byte sum over each run (its own loop) and a frame count derived at the
///   end, added once a call; the service's packets and bytes are not counted at all (they are
///   derived from its servers' counters when read, see `serviceStats`);
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
        while i < count {
            let end = forwardUsualRun(frames, from: i, count: count, now: now, expiries: expiries)
            // The run's frame bytes in a loop of their own, which LLVM unrolls: summed in the
            // run's loop, the sum took a register it had none left for (a spill and a reload
            // a frame).
            var k = i
            while k < end {
                forwardedBytes &+= UInt64(truncatingIfNeeded: frames[k].count)
                k &+= 1
            }
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

    /// Forwards frames from index `start` on for as long as each is the usual packet, and
    /// returns the index of the first that is not (or `count`): the frames before it are to be
    /// transmitted. The caller writes their verdicts, counts them
    /// and their bytes, and does everything else.
    ///
    /// A leaf function on purpose: with no call in the loop, the engine's fields it loads
    /// first can stay in the registers a call would clobber; the caller's loop, which does
    /// call out for the other frames, runs once per unusual frame instead of once per frame.
    @inline(never)
    func forwardUsualRun(_ frames: UnsafePointer<FrameBytes>, from start: Int, count: Int, now: UInt64,
                         expiries: UsualExpiries) -> Int {
        let establishedExpiry = expiries.established, udpExpiry = expiries.udp
        let entries = UnsafeRawPointer(connections.entries)
        let mask = connections.mask
        let addressSeed = connections.addressSeed, restSeed = connections.restSeed
        let macWord = directorMACWord, macMask = macMaskWord
        let macHead = directorMACHead, macTail = directorMACTail
        let mtu = self.mtu
        let destinations = UnsafeMutableRawPointer(self.destinations)
        // One pointer walks the frames (no separate index to step); `i` is its index.
        var f = frames + start
        let end = frames + count
        var i: Int { f - frames }
        while f < end {
            let frame = f.pointee
            let b = frame.base
            // Layout checks: the same as `findEstablished`'s, several header fields a compare.
            guard frame.count >= 54,
                  b.loadUnaligned(as: UInt64.self) & macMask == macWord,
                  b.loadUnaligned(fromByteOffset: 12, as: UInt16.self) == BatchFrameWords.etherTypeIPv4,
                  b.load(fromByteOffset: 14, as: UInt8.self) == 0x45
            else { return i }
            let w20 = b.loadUnaligned(fromByteOffset: 20, as: UInt32.self)
            guard w20 & BatchFrameWords.ttlAboveOne != 0 else { return i }
            // The header checksum this early (the count ≥ 54 check covers its 20 bytes): none of
            // the protocol's constants is live across it yet, so nothing spills, and the total
            // length below comes from its first load.
            guard InternetChecksum.isValidOptionlessIPv4Header(b + Wire.ethernetHeaderLength) else { return i }
            let fragmentAndProtocol = w20 & BatchFrameWords.fragmentProtocolMask
            let totalLength = Int(UInt16(bigEndian: b.loadUnaligned(fromByteOffset: 16, as: UInt16.self)))
            guard totalLength &+ Wire.ethernetHeaderLength <= frame.count, totalLength <= mtu else { return i }
            // Per protocol: the transport, the state a connection of the usual packet is in
            // (established for an ACK, udp for a datagram), and the expiry its packet sets.
            let transportBits: UInt64
            let usualState: UInt8
            let expiry: UInt64
            if fragmentAndProtocol == BatchFrameWords.tcpUnfragmented {
                // Data offset of 5 words or more, inside the packet; flags exactly ACK among
                // SYN, FIN, RST and ACK (the others may change the state).
                let dataOffset = Int(b.load(fromByteOffset: 46, as: UInt8.self) &>> 4) &* 4
                guard dataOffset >= Wire.tcpMinimumHeaderLength, dataOffset &+ 20 <= totalLength,
                      Int(b.load(fromByteOffset: 47, as: UInt8.self)) & TCPStateMachine.hitPathFlagMask
                        == Int(Wire.tcpACK)
                else { return i }
                transportBits = BatchFrameWords.transportBits(.tcp)
                usualState = ConnectionState.established.rawValue
                expiry = establishedExpiry
            } else {
                guard fragmentAndProtocol == BatchFrameWords.udpUnfragmented, totalLength >= 28 else { return i }
                transportBits = BatchFrameWords.transportBits(.udp)
                usualState = ConnectionState.udp.rawValue
                expiry = udpExpiry
            }
            // The packed key straight from the frame (see `PackedKey`), its home slot, and the
            // table's keyed hash with the seeds in registers.
            // The transport and "in use" bits of the key's second word as one constant of the
            // protocol's (`PackedKey.init` ORs them in one by one).
            var key = PackedKey(transport: 0, clientAddress: frame.u32(26), clientPort: frame.u16(34),
                                virtualAddress: frame.u32(30), virtualPort: frame.u16(36))
            key.rest = key.rest & ~PackedKey.inUse | transportBits
            let hash = ((key.addresses ^ addressSeed) &* (key.rest ^ restSeed)).byteSwapped
            let e = entries + (Int(truncatingIfNeeded: hash) & mask) &* MemoryLayout<ConnectionEntry>.stride
            // The key in its home slot, in the usual state, with no flag but "in use" and a zero
            // reserved byte: one compare of the slot's second word, unmasked (a key further
            // along its probe run takes the single-frame path, which walks the run). Then alive.
            guard e.load(as: UInt64.self) == key.addresses,
                  e.load(fromByteOffset: 8, as: UInt64.self) == key.rest | PackedKey.stateBits(usualState),
                  e.load(fromByteOffset: 24, as: UInt64.self) > now
            else { return i }
            let entry = UnsafeMutableRawPointer(mutating: e).assumingMemoryBound(to: ConnectionEntry.self)
            // A server that is available and resolved.
            let d = (destinations + Int(entry.pointee.destinationSlot) &* MemoryLayout<Destination>.stride)
                .assumingMemoryBound(to: Destination.self)
            let serverWord = d.pointee.forwardingMACWord
            guard serverWord != 0 else { return i }
            // Forwarded: from here on it writes, as `completeForwarding` does.
            entry.pointee.expiresAt = expiry
            // The server's counters; its service's totals are derived from them when read
            // (`serviceStats`).
            d.pointee.stats.inPackets &+= 1
            b.storeBytes(of: serverWord | macHead, as: UInt64.self)
            b.storeBytes(of: macTail, toByteOffset: 8, as: UInt32.self)
            DirectRoutingTransmitter.decrementTTL(frame)
            let ipLength = UInt64(truncatingIfNeeded: totalLength)
            d.pointee.stats.inBytes &+= ipLength
            f += 1
        }
        return i
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
    /// the transport and "in use".
    @inline(__always) static func transportBits(_ transport: TransportProtocol) -> UInt64 {
        PackedKey(transport: transport.rawValue, clientAddress: 0, clientPort: 0, virtualAddress: 0, virtualPort: 0).rest
    }
    /// A TTL above 1 is one with a bit other than the lowest set.
    @inline(__always) static var ttlAboveOne: UInt32 { UInt32(0x0000_FE00).bigEndian }
}
