import Testing
import LVSCore

@Suite struct InternetChecksumTests {
    // RFC 1071 §3 example: words 0001 f203 f4f5 f6f7 sum to 2ddf0, which folds to ddf2;
    // the checksum is its complement, 220d.
    @Test func rfc1071Example() {
        var bytes: [UInt8] = [0x00, 0x01, 0xF2, 0x03, 0xF4, 0xF5, 0xF6, 0xF7]
        withFrame(&bytes) { f in
            let wide = InternetChecksum.sum(f, offset: 0, count: 8)
            #expect(InternetChecksum.fold(wide) == 0xDDF2)
            #expect(InternetChecksum.checksum(f, offset: 0, count: 8) == 0x220D)
        }
    }

    // An odd trailing byte counts as the high byte of a word padded with zero (RFC 1071 §4.1):
    // 0x0102 + 0x0300 = 0x0402.
    @Test func oddLengthPadsWithZero() {
        var bytes: [UInt8] = [0x01, 0x02, 0x03]
        withFrame(&bytes) { f in
            #expect(InternetChecksum.fold(InternetChecksum.sum(f, offset: 0, count: 3)) == 0x0402)
        }
    }

    // Carries wrap around: 0xFFFF + 0x0001 = 0x1_0000 folds to 0x0001; eight 0xFF bytes fold to 0xFFFF.
    @Test func endAroundCarry() {
        var bytes: [UInt8] = [0xFF, 0xFF, 0x00, 0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]
        withFrame(&bytes) { f in
            #expect(InternetChecksum.fold(InternetChecksum.sum(f, offset: 0, count: 4)) == 0x0001)
            #expect(InternetChecksum.fold(InternetChecksum.sum(f, offset: 4, count: 8)) == 0xFFFF)
        }
        #expect(InternetChecksum.fold(0xFFFF_FFFF_FFFF_FFFF) == 0xFFFF)
    }

    // The 8-bytes-at-a-time loop agrees with the word-by-word reference for every length and
    // alignment (offset 0...7, length 0...100) of random data.
    @Test func sumMatchesReferenceForAllLengthsAndOffsets() {
        var rng = SplitMix64(seed: 71)
        let data = (0..<128).map { _ in UInt8.random(in: 0...255, using: &rng) }
        var bytes = data
        withFrame(&bytes) { f in
            for offset in 0..<8 {
                for count in 0...100 {
                    let got = InternetChecksum.fold(InternetChecksum.sum(f, offset: offset, count: count))
                    let ref = ReferenceChecksum.foldedSum(data[offset..<offset + count])
                    #expect(got == ref, "offset \(offset) count \(count)")
                }
            }
        }
    }

    // RFC 1624 eqn. 3 on the TTL/protocol word gives the same header checksum as recomputing
    // the header from scratch, for 5 000 random headers and TTLs (including TTL 1 → 0 and 0 → 255).
    @Test func incrementalUpdateEqualsRecomputation() {
        var rng = SplitMix64(seed: 1624)
        for _ in 0..<5_000 {
            var header = (0..<20).map { _ in UInt8.random(in: 0...255, using: &rng) }
            header[10] = 0
            header[11] = 0
            let oldChecksum = ReferenceChecksum.checksum(header)
            let oldWord = FrameBuilder.get16(header, 8)
            header[8] = UInt8.random(in: 0...255, using: &rng)   // the new TTL
            let newWord = FrameBuilder.get16(header, 8)
            let expected = ReferenceChecksum.checksum(header)    // field still zero: from scratch
            let got = InternetChecksum.updated(oldChecksum, oldWord: oldWord, newWord: newWord)
            #expect(got == expected)
            if got != expected { break }
        }
    }

    // Decrementing TTL by one (the DR case) for every TTL 2...255 over a fixed real header.
    @Test func incrementalTTLDecrementForEveryTTL() {
        for ttl in 2...255 {
            var frame = TestNetwork.tcp(flags: Wire.tcpSYN, ttl: UInt8(ttl))
            let old = FrameBuilder.get16(frame, 24)
            let oldWord = FrameBuilder.get16(frame, 22)
            frame[22] -= 1
            FrameBuilder.fixIPv4Checksum(&frame)
            #expect(InternetChecksum.updated(old, oldWord: oldWord, newWord: FrameBuilder.get16(frame, 22))
                    == FrameBuilder.get16(frame, 24), "ttl \(ttl)")
        }
    }

    /// Puts the folded pseudo-header sum in the checksum field, as a stack using CHECKSUM_PARTIAL
    /// does (`~csum_tcpudp_magic(...)`), and returns the finished frame from `completePartial`.
    func completed(_ frame: [UInt8], protocolNumber: UInt8, fieldOffset: Int) -> [UInt8] {
        var partial = frame
        let l4 = 34
        let segmentLength = partial.count - l4
        let pseudo = ReferenceChecksum.pseudoHeader(source: TestNetwork.client, destination: TestNetwork.vip,
                                                    protocolNumber: protocolNumber, length: segmentLength)
        FrameBuilder.put16(&partial, l4 + fieldOffset, ReferenceChecksum.foldedSum(pseudo))
        let end = partial.count
        withFrame(&partial) { f in
            InternetChecksum.completePartial(f, start: l4, end: end, fieldOffset: fieldOffset,
                                             isUDP: protocolNumber == 17)
        }
        return partial
    }

    // TCP: completing the partial checksum equals the checksum of pseudo header + segment from
    // scratch (FrameBuilder computes that one with the reference loop).
    @Test func completePartialTCP() {
        for payloadLength in [0, 1, 2, 7, 100, 1001] {
            let payload = (0..<payloadLength).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
            let frame = TestNetwork.tcp(flags: Wire.tcpACK | 0x08, payload: payload)
            let done = completed(frame, protocolNumber: 6, fieldOffset: 16)
            #expect(done == frame, "payload \(payloadLength)")
        }
    }

    // UDP likewise, plus RFC 768: a computed 0 is sent as 0xFFFF.
    @Test func completePartialUDP() {
        for payloadLength in [0, 1, 3, 64, 513] {
            let payload = (0..<payloadLength).map { UInt8(truncatingIfNeeded: $0 &* 13 &+ 5) }
            let frame = TestNetwork.udp(payload: payload)
            #expect(completed(frame, protocolNumber: 17, fieldOffset: 6) == frame, "payload \(payloadLength)")
        }
        // Choose the last payload word so that the full sum folds to 0xFFFF, i.e. checksum 0.
        var frame = TestNetwork.udp(payload: [0x12, 0x34, 0, 0])
        FrameBuilder.put16(&frame, 40, 0)
        let segment = Array(frame[34...])
        let pseudo = ReferenceChecksum.pseudoHeader(source: TestNetwork.client, destination: TestNetwork.vip,
                                                    protocolNumber: 17, length: segment.count)
        let partialSum = ReferenceChecksum.foldedSum(pseudo + segment)
        FrameBuilder.put16(&frame, frame.count - 2, 0xFFFF - partialSum)
        #expect(ReferenceChecksum.checksum(pseudo + Array(frame[34...])) == 0)
        let done = completed(frame, protocolNumber: 17, fieldOffset: 6)
        #expect(FrameBuilder.get16(done, 40) == 0xFFFF)
    }

    // A field that does not fit between start and end is left alone rather than written out of range.
    @Test func completePartialRejectsBadBounds() {
        var bytes = [UInt8](repeating: 0x11, count: 10)
        withFrame(&bytes) { f in
            InternetChecksum.completePartial(f, start: 4, end: 10, fieldOffset: 5, isUDP: false)
            InternetChecksum.completePartial(f, start: 0, end: 11, fieldOffset: 0, isUDP: false)
            InternetChecksum.completePartial(f, start: -1, end: 10, fieldOffset: 0, isUDP: false)
        }
        #expect(bytes == [UInt8](repeating: 0x11, count: 10))
    }
}
