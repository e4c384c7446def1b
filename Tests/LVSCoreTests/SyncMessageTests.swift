import LVSCore
import Testing

/// The IPVS sync message, version 1, against bytes worked out by hand from the kernel's
/// `struct ip_vs_sync_mesg` and `struct ip_vs_sync_v4` (net/netfilter/ipvs/ip_vs_sync.c), and
/// against datagrams a broken or hostile sender could make.
@Suite struct SyncMessageTests {
    /// TCP 192.0.2.10:40000 -> 10.0.0.100:80 on real server 10.0.0.11:80, ESTABLISHED, DR.
    static let established = SyncConnection(
        transport: 6, flags: 0x0083, state: 1, clientAddress: 0xC000_020A, clientPort: 40000,
        virtualAddress: 0x0A00_0064, virtualPort: 80, destinationAddress: 0x0A00_000B, destinationPort: 80,
        timeoutSeconds: 900)

    /// Header: reserved 0, syncid 7, size 44, one record, version 1, spare 0; then the record:
    /// type 0 (IPv4), protocol 6, version 0 + size 36, flags DROUTE|NOOUTPUT, state 1, cport
    /// 40000, vport 80, dport 80, fwmark 0, timeout 900, caddr, vaddr, daddr.
    static let golden: [UInt8] = [
        0x00, 0x07, 0x00, 0x2C, 0x01, 0x01, 0x00, 0x00,
        0x00, 0x06, 0x00, 0x24, 0x00, 0x00, 0x00, 0x83,
        0x00, 0x01, 0x9C, 0x40, 0x00, 0x50, 0x00, 0x50,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0x84,
        0xC0, 0x00, 0x02, 0x0A, 0x0A, 0x00, 0x00, 0x64, 0x0A, 0x00, 0x00, 0x0B,
    ]

    static func encode(_ records: [SyncConnection], maximumLength: Int = 1472, syncID: UInt8 = 7) -> [[UInt8]] {
        let buffer = UnsafeMutableRawPointer.allocate(byteCount: 65536, alignment: 8)
        defer { buffer.deallocate() }
        var writer = SyncMessageWriter(buffer: buffer, maximumLength: maximumLength, syncID: syncID)
        var out: [[UInt8]] = []
        for r in records where !writer.append(r) {
            out.append(Array(UnsafeRawBufferPointer(start: buffer, count: writer.length)))
            writer.reset()
            writer.append(r)
        }
        if !writer.isEmpty { out.append(Array(UnsafeRawBufferPointer(start: buffer, count: writer.length))) }
        return out
    }

    static func decode(_ bytes: [UInt8], syncID: UInt8 = 0) -> Result<SyncDatagram, SyncMessageError> {
        bytes.withUnsafeBytes { SyncMessageReader.decode($0, syncID: syncID) }
    }

    @Test func encodesTheKernelLayout() {
        #expect(Self.encode([Self.established]) == [Self.golden])
    }

    @Test func decodesTheKernelLayout() {
        #expect(Self.decode(Self.golden) == .success(.connections([Self.established], skipped: 0)))
    }

    @Test func roundTripsATemplateAndAFirewallMark() {
        let template = SyncConnection(transport: 0, flags: 0x1083, state: 0, clientAddress: 0xC000_0200, clientPort: 0,
                                      virtualAddress: 5, virtualPort: 0, destinationAddress: 0x0A00_000C,
                                      destinationPort: 443, firewallMark: 5, timeoutSeconds: 300)
        let messages = Self.encode([template, Self.established])
        #expect(messages.count == 1)
        #expect(Self.decode(messages[0]) == .success(.connections([template, Self.established], skipped: 0)))
    }

    // The kernel's master default: 1472 bytes hold (1472 - 8) / 36 = 40 records.
    @Test func splitsAtTheMaximumLength() {
        let records = (0..<100).map { i -> SyncConnection in
            var r = Self.established
            r.clientPort = UInt16(1000 + i)
            return r
        }
        let messages = Self.encode(records)
        #expect(messages.map(\.count) == [8 + 40 * 36, 8 + 40 * 36, 8 + 20 * 36])
        var decoded: [SyncConnection] = []
        for m in messages {
            guard case .success(.connections(let rs, _)) = Self.decode(m) else {
                Issue.record("message did not decode")
                return
            }
            decoded += rs
        }
        #expect(decoded == records)
        #expect(SyncProtocol.masterMaximumLength(requested: 0) == 1472)
        #expect(SyncProtocol.masterMaximumLength(requested: 70000) == 65507)
        #expect(SyncProtocol.backupMaximumLength(requested: 0, mtu: 9000) == 8972)
        #expect(SyncProtocol.backupMaximumLength(requested: 100, mtu: 1500) == 1024)
    }

    @Test func filtersBySyncID() {
        #expect(Self.decode(Self.golden, syncID: 9) == .success(.otherSyncID))
        #expect(Self.decode(Self.golden, syncID: 7) == .success(.connections([Self.established], skipped: 0)))
    }

    // A record with options (the sequence option NAT sends, 26 bytes) and padding: the reader
    // steps over them to the next 32-bit aligned record.
    @Test func skipsOptionsAndPadding() {
        var record = Array(Self.golden[8...])
        // The sequence option (24 bytes), then an unknown option marked skippable (0x40 | 5).
        record += [1, 24] + [UInt8](repeating: 0xEE, count: 24) + [0x45, 1, 0xFF]
        record[3] = UInt8(record.count)
        let padded = record + [UInt8](repeating: 0, count: (4 - record.count % 4) % 4)
        var message: [UInt8] = [0, 7, 0, 0, 2, 1, 0, 0] + padded + Array(Self.golden[8...])
        message[3] = UInt8(message.count)
        #expect(Self.decode(message) == .success(.connections([Self.established, Self.established], skipped: 0)))
    }

    @Test func dropsMalformedDatagrams() {
        var short = Self.golden
        short.removeLast()
        #expect(Self.decode(short) == .failure(.sizeMismatch))
        #expect(Self.decode([0, 7]) == .failure(.tooShort))
        #expect(Self.decode([]) == .failure(.tooShort))
        var version0 = Self.golden
        version0[5] = 0
        #expect(Self.decode(version0) == .failure(.unsupportedVersion))
        var tooMany = Self.golden
        tooMany[4] = 2
        #expect(Self.decode(tooMany) == .failure(.badRecord))
        var recordVersion = Self.golden
        recordVersion[10] = 0x10
        #expect(Self.decode(recordVersion) == .failure(.badRecord))
        var recordTooLong = Self.golden
        recordTooLong[11] = 40
        #expect(Self.decode(recordTooLong) == .failure(.badRecord))
        var badOption = Self.golden + [1, 0, 0, 0]
        badOption[3] = UInt8(badOption.count)
        badOption[11] = 40
        #expect(Self.decode(badOption) == .failure(.badOption))
    }

    // Random bytes and random corruptions of a good message never trap.
    @Test func survivesGarbage() {
        var rng = SplitMix64(seed: 42)
        let good = Self.encode((0..<5).map { i in
            var r = Self.established
            r.clientPort = UInt16(i)
            return r
        })[0]
        for round in 0..<5000 {
            var bytes: [UInt8]
            if round % 2 == 0 {
                bytes = (0..<Int(rng.next() % 300)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            } else {
                bytes = good
                for _ in 0..<Int(1 + rng.next() % 4) {
                    bytes[Int(rng.next() % UInt64(bytes.count))] = UInt8(truncatingIfNeeded: rng.next())
                }
                if rng.next() % 3 == 0 { bytes.removeLast(Int(rng.next() % UInt64(bytes.count))) }
            }
            _ = Self.decode(bytes)
        }
    }

    @Test func controlMessagesRoundTripAndLookBogusToAKernel() {
        let request = SyncControlMessage(kind: .tableRequest, syncID: 3, requestID: 0xDEAD_BEEF)
        let end = SyncControlMessage(kind: .tableEnd, syncID: 3, requestID: 0xDEAD_BEEF, count: 1234)
        #expect(request.bytes.withUnsafeBytes { SyncControlMessage.decode($0) } == request)
        #expect(Self.decode(end.bytes) == .success(.control(end)))
        // A kernel backup compares the header's size (bytes 2-3) with the datagram length
        // first: 0 never matches, so it drops the message unread.
        #expect(request.bytes[2] == 0 && request.bytes[3] == 0)
        #expect(request.bytes.count == 20)
    }
}
