/// One connection (or persistence template) as the IPVS sync protocol carries it: the fields of
/// the kernel's `struct ip_vs_sync_v4`, with addresses and ports as host-order values.
///
/// The numbers are the kernel's, not ours: `flags` are `IP_VS_CONN_F_*` bits and `state` is the
/// kernel's state number (for TCP the `IP_VS_TCP_S_*` numbering `ConnectionState` shares; UDP's
/// single state is 0 on the wire), so a kernel director can be master or backup to lvsd.
@frozen
public struct SyncConnection: Equatable, Sendable {
    public var transport: UInt8
    public var flags: UInt32
    public var state: UInt16
    public var clientAddress: UInt32
    public var virtualAddress: UInt32
    public var destinationAddress: UInt32
    public var clientPort: UInt16
    public var virtualPort: UInt16
    public var destinationPort: UInt16
    public var firewallMark: UInt32
    /// The connection's full timeout in seconds (the kernel sends `cp->timeout / HZ`, not the
    /// time left): the backup arms the entry with it.
    public var timeoutSeconds: UInt32

    public init(transport: UInt8, flags: UInt32, state: UInt16, clientAddress: UInt32, clientPort: UInt16,
                virtualAddress: UInt32, virtualPort: UInt16, destinationAddress: UInt32, destinationPort: UInt16,
                firewallMark: UInt32 = 0, timeoutSeconds: UInt32) {
        self.transport = transport
        self.flags = flags
        self.state = state
        self.clientAddress = clientAddress
        self.virtualAddress = virtualAddress
        self.destinationAddress = destinationAddress
        self.clientPort = clientPort
        self.virtualPort = virtualPort
        self.destinationPort = destinationPort
        self.firewallMark = firewallMark
        self.timeoutSeconds = timeoutSeconds
    }

    public var isTemplate: Bool { flags & SyncProtocol.templateFlag != 0 }
    /// Whether the kernel would count it in InActConn (`IP_VS_CONN_F_INACTIVE`).
    public var isInactive: Bool { flags & SyncProtocol.inactiveFlag != 0 }
}

/// The constants of the kernel's sync protocol (net/netfilter/ipvs/ip_vs_sync.c, version 1).
public enum SyncProtocol {
    public static let defaultGroup = IPv4Address(224, 0, 0, 81)
    public static let defaultPort: UInt16 = 8848
    public static let defaultTTL: UInt8 = 1
    /// `SYNC_PROTO_VER`: the header's version byte.
    public static let version: UInt8 = 1
    /// `struct ip_vs_sync_mesg`: reserved, syncid, size, nr_conns, version, spare.
    public static let headerLength = 8
    /// `struct ip_vs_sync_v4` without options.
    public static let recordLength = 36
    /// IPv4 + UDP headers, which the maximum message length leaves room for.
    public static let ipUDPHeaderLength = 28
    /// A message counts its records in one byte.
    public static let maximumRecords = 255
    /// The record type bit for IPv6 (`STYPE_F_INET6`).
    static let typeIPv6: UInt8 = 1
    static let optionSequence: UInt8 = 1
    static let optionPEData: UInt8 = 2
    static let optionPEName: UInt8 = 3
    /// `IPVS_OPT_F_PARAM`: an option a receiver may skip when it does not know it.
    static let optionSkippable: UInt8 = 0x40

    // `IP_VS_CONN_F_*`
    public static let directRoutingFlags: UInt32 = 0x0003
    public static let noOutputFlag: UInt32 = 0x0080
    public static let inactiveFlag: UInt32 = 0x0100
    public static let templateFlag: UInt32 = 0x1000
    public static let hashedFlag: UInt32 = 0x0040
    /// `IP_VS_CONN_F_BACKUP_MASK`: the flags a backup takes from a message.
    public static let backupMask: UInt32 = 0x0007 | 0x0080 | 0x0100 | 0x0600 | 0x0800 | 0x1000

    /// The kernel's default maximum message length for a master: it sizes for a 1500-byte MTU
    /// whatever the interface's (`start_sync_thread`), less the IPv4 and UDP headers.
    public static let defaultMasterMaximumLength = 1500 - ipUDPHeaderLength

    /// The length a master fills its messages to: `requested` (0: the default), clamped as the
    /// kernel clamps `--sync-maxlen` (1 ... 65507).
    public static func masterMaximumLength(requested: Int) -> Int {
        requested == 0 ? defaultMasterMaximumLength : min(max(requested, 1), 65535 - ipUDPHeaderLength)
    }

    /// The receive buffer a backup uses: the interface MTU (at least 1500) less the headers,
    /// or `requested` clamped to 1024 ... 65507.
    public static func backupMaximumLength(requested: Int, mtu: Int) -> Int {
        requested == 0 ? min(max(mtu, 1500), 65535) - ipUDPHeaderLength
            : min(max(requested, 1024), 65535 - ipUDPHeaderLength)
    }
}

/// Builds version 1 sync messages in a caller's buffer, record by record, as the kernel's
/// master does: the 8-byte header, then 36-byte IPv4 records until the next one would pass
/// `maximumLength` or the count byte is full. Writes nothing but the buffer, so the sync
/// thread can reuse one buffer for every datagram.
public struct SyncMessageWriter {
    public let buffer: UnsafeMutableRawPointer
    public let maximumLength: Int
    public let syncID: UInt8
    public private(set) var length: Int
    public private(set) var count = 0

    /// - Parameter buffer: at least `maximumLength` bytes (and at least one header and record).
    public init(buffer: UnsafeMutableRawPointer, maximumLength: Int, syncID: UInt8) {
        self.buffer = buffer
        // A message always has room for one record, as the kernel sizes a buffer to the
        // larger of maxlen and one record.
        self.maximumLength = max(maximumLength, SyncProtocol.headerLength + SyncProtocol.recordLength)
        self.syncID = syncID
        length = SyncProtocol.headerLength
        writeHeader()
    }

    public var isEmpty: Bool { count == 0 }

    /// Whether one more record fits.
    public var hasRoom: Bool {
        count < SyncProtocol.maximumRecords && length + SyncProtocol.recordLength <= maximumLength
    }

    /// Appends `c`; false (and nothing written) when the message is full.
    @discardableResult
    public mutating func append(_ c: SyncConnection) -> Bool {
        guard hasRoom else { return false }
        let p = buffer + length
        p.storeBytes(of: 0, as: UInt8.self)  // type: IPv4
        p.storeBytes(of: c.transport, toByteOffset: 1, as: UInt8.self)
        // Version 0 in the top 4 bits, the record's size in the rest.
        p.storeBytes(of: UInt16(SyncProtocol.recordLength).bigEndian, toByteOffset: 2, as: UInt16.self)
        p.storeBytes(of: (c.flags & ~SyncProtocol.hashedFlag).bigEndian, toByteOffset: 4, as: UInt32.self)
        p.storeBytes(of: c.state.bigEndian, toByteOffset: 8, as: UInt16.self)
        p.storeBytes(of: c.clientPort.bigEndian, toByteOffset: 10, as: UInt16.self)
        p.storeBytes(of: c.virtualPort.bigEndian, toByteOffset: 12, as: UInt16.self)
        p.storeBytes(of: c.destinationPort.bigEndian, toByteOffset: 14, as: UInt16.self)
        p.storeBytes(of: c.firewallMark.bigEndian, toByteOffset: 16, as: UInt32.self)
        p.storeBytes(of: c.timeoutSeconds.bigEndian, toByteOffset: 20, as: UInt32.self)
        p.storeBytes(of: c.clientAddress.bigEndian, toByteOffset: 24, as: UInt32.self)
        p.storeBytes(of: c.virtualAddress.bigEndian, toByteOffset: 28, as: UInt32.self)
        p.storeBytes(of: c.destinationAddress.bigEndian, toByteOffset: 32, as: UInt32.self)
        length += SyncProtocol.recordLength
        count += 1
        writeHeader()
        return true
    }

    /// Starts the next message in the same buffer.
    public mutating func reset() {
        length = SyncProtocol.headerLength
        count = 0
        writeHeader()
    }

    func writeHeader() {
        buffer.storeBytes(of: 0, as: UInt8.self)
        buffer.storeBytes(of: syncID, toByteOffset: 1, as: UInt8.self)
        buffer.storeBytes(of: UInt16(truncatingIfNeeded: length).bigEndian, toByteOffset: 2, as: UInt16.self)
        buffer.storeBytes(of: UInt8(truncatingIfNeeded: count), toByteOffset: 4, as: UInt8.self)
        buffer.storeBytes(of: SyncProtocol.version, toByteOffset: 5, as: UInt8.self)
        buffer.storeBytes(of: 0, toByteOffset: 6, as: UInt16.self)
    }
}

/// Why a received datagram was dropped whole, as the kernel's backup drops it.
public enum SyncMessageError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Shorter than a header.
    case tooShort
    /// The header's size is not the datagram's length.
    case sizeMismatch
    /// A version 0 message (or another version): lvsd speaks version 1 only.
    case unsupportedVersion
    /// A record runs past the end, has a size below its fixed part, or a version of its own.
    case badRecord
    /// A record's options do not parse.
    case badOption

    public var description: String {
        switch self {
        case .tooShort: "shorter than the 8-byte header"
        case .sizeMismatch: "header size differs from the datagram length"
        case .unsupportedVersion: "not a version 1 message"
        case .badRecord: "a connection record is truncated or of an unknown version"
        case .badOption: "a connection record's options are malformed"
        }
    }
}

/// What a received datagram holds.
public enum SyncDatagram: Equatable, Sendable {
    /// Connection records (`skipped`: IPv6 records and ones with an unknown mandatory option,
    /// which the kernel skips too).
    case connections([SyncConnection], skipped: Int)
    /// A message for another sync ID: ignored.
    case otherSyncID
    /// One of lvsd's own full-table messages.
    case control(SyncControlMessage)
}

/// Decodes one received datagram, tolerating anything: a malformed one is an error value,
/// never a trap, and nothing is read outside `bytes`.
public enum SyncMessageReader {
    /// - Parameter syncID: the backup's sync ID; 0 takes messages of every ID.
    public static func decode(_ bytes: UnsafeRawBufferPointer, syncID: UInt8) -> Result<SyncDatagram, SyncMessageError> {
        if let control = SyncControlMessage.decode(bytes) {
            return .success(.control(control))
        }
        guard let base = bytes.baseAddress, bytes.count >= 4 else { return .failure(.tooShort) }
        func u8(_ o: Int) -> UInt8 { base.load(fromByteOffset: o, as: UInt8.self) }
        func u16(_ o: Int) -> UInt16 { UInt16(bigEndian: base.loadUnaligned(fromByteOffset: o, as: UInt16.self)) }
        func u32(_ o: Int) -> UInt32 { UInt32(bigEndian: base.loadUnaligned(fromByteOffset: o, as: UInt32.self)) }
        guard Int(u16(2)) == bytes.count else { return .failure(.sizeMismatch) }
        if syncID != 0 && u8(1) != syncID { return .success(.otherSyncID) }
        guard bytes.count >= SyncProtocol.headerLength, u8(0) == 0, u8(5) == SyncProtocol.version, u16(6) == 0 else {
            return .failure(.unsupportedVersion)
        }
        let end = bytes.count
        let declared = Int(u8(4))
        var records: [SyncConnection] = []
        records.reserveCapacity(declared)
        var skipped = 0
        var next = SyncProtocol.headerLength
        for _ in 0..<declared {
            let p = next
            guard p + SyncProtocol.recordLength <= end else { return .failure(.badRecord) }
            let verSize = u16(p + 2)
            let size = Int(verSize & 0x0FFF)
            guard verSize >> 12 == 0, p + size <= end else { return .failure(.badRecord) }
            let recordEnd = p + size
            let type = u8(p)
            let fixed = type & SyncProtocol.typeIPv6 != 0 ? 72 : SyncProtocol.recordLength
            guard type & ~SyncProtocol.typeIPv6 == 0, size >= fixed else { return .failure(.badRecord) }
            // Options: type, length, data; a zero length or one past the record is malformed.
            var o = p + fixed
            var usable = type == 0
            while o < recordEnd {
                guard o + 2 <= recordEnd else { return .failure(.badOption) }
                let optionType = u8(o)
                let optionLength = Int(u8(o + 1))
                guard optionLength > 0, o + 2 + optionLength <= recordEnd else { return .failure(.badOption) }
                switch optionType & ~SyncProtocol.optionSkippable {
                case SyncProtocol.optionSequence, SyncProtocol.optionPEData, SyncProtocol.optionPEName:
                    // Sequence adjustments are NAT's business and persistence engines (SIP) are
                    // not implemented: the connection itself is still good.
                    break
                default:
                    if optionType & SyncProtocol.optionSkippable == 0 { usable = false }
                }
                o += 2 + optionLength
            }
            if usable {
                records.append(SyncConnection(
                    transport: u8(p + 1), flags: u32(p + 4), state: u16(p + 8),
                    clientAddress: u32(p + 24), clientPort: u16(p + 10),
                    virtualAddress: u32(p + 28), virtualPort: u16(p + 12),
                    destinationAddress: u32(p + 32), destinationPort: u16(p + 14),
                    firewallMark: u32(p + 16), timeoutSeconds: u32(p + 20)))
            } else {
                skipped += 1
            }
            // Records start 32-bit aligned.
            next = p + ((size + 3) & ~3)
        }
        return .success(.connections(records, skipped: skipped))
    }
}

/// lvsd's own messages on the sync port, for the full-table pull (not part of the kernel's
/// protocol). Their header's size field is 0, never the datagram's length, so a kernel backup
/// drops them as "bogus message size" before it looks further, and the magic keeps them apart
/// from any real message.
///
/// Layout (20 bytes): 0, sync ID, size 0 (2 bytes), "SLVS", kind, version 1, 0 (2 bytes),
/// request ID (4 bytes), record count (4 bytes).
public struct SyncControlMessage: Equatable, Sendable {
    public enum Kind: UInt8, Sendable {
        /// A backup asks the master for every entry.
        case tableRequest = 1
        /// The master has sent every entry for the request: `count` records.
        case tableEnd = 2
    }

    public var kind: Kind
    public var syncID: UInt8
    public var requestID: UInt32
    public var count: UInt32

    public static let length = 20
    static let magic: UInt32 = 0x534C_5653  // "SLVS"

    public init(kind: Kind, syncID: UInt8, requestID: UInt32, count: UInt32 = 0) {
        self.kind = kind
        self.syncID = syncID
        self.requestID = requestID
        self.count = count
    }

    public var bytes: [UInt8] {
        func word(_ v: UInt32) -> [UInt8] {
            [UInt8(truncatingIfNeeded: v >> 24), UInt8(truncatingIfNeeded: v >> 16),
             UInt8(truncatingIfNeeded: v >> 8), UInt8(truncatingIfNeeded: v)]
        }
        return [0, syncID, 0, 0] + word(Self.magic) + [kind.rawValue, 1, 0, 0] + word(requestID) + word(count)
    }

    /// The control message in `bytes`, or nil when it is not one.
    public static func decode(_ bytes: UnsafeRawBufferPointer) -> SyncControlMessage? {
        guard bytes.count == length, let base = bytes.baseAddress else { return nil }
        func u32(_ o: Int) -> UInt32 { UInt32(bigEndian: base.loadUnaligned(fromByteOffset: o, as: UInt32.self)) }
        guard bytes[0] == 0, bytes[2] == 0, bytes[3] == 0, u32(4) == magic, bytes[9] == 1,
              let kind = Kind(rawValue: bytes[8]) else { return nil }
        return SyncControlMessage(kind: kind, syncID: bytes[1], requestID: u32(12), count: u32(16))
    }
}
