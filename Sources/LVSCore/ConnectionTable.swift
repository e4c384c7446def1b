/// The key IPVS files a connection under: (protocol, client IP, client port, VIP, VIP port).
/// The real server is not part of it.
@frozen
public struct ConnectionKey: Equatable, Sendable {
    public var clientAddress: UInt32
    public var virtualAddress: UInt32
    public var clientPort: UInt16
    public var virtualPort: UInt16
    public var transport: UInt8

    public init(transport: UInt8, clientAddress: UInt32, clientPort: UInt16, virtualAddress: UInt32, virtualPort: UInt16) {
        self.clientAddress = clientAddress
        self.virtualAddress = virtualAddress
        self.clientPort = clientPort
        self.virtualPort = virtualPort
        self.transport = transport
    }
}

/// One slot of the connection table: 32 bytes, so two share a cache line.
///
/// The key comes first, so that bytes 0-15 read as two words are a `PackedKey`: a probe
/// compares a slot with two 64-bit loads. VIP before client because then, on a little-endian
/// machine, the frame's source and destination addresses loaded as one big-endian 64-bit word
/// are the first word already (and its ports, as one 32-bit word, the low half of the second).
@frozen
public struct ConnectionEntry: Sendable {
    public var virtualAddress: UInt32
    public var clientAddress: UInt32
    public var virtualPort: UInt16
    public var clientPort: UInt16
    public var transport: UInt8
    public var stateRaw: UInt8
    /// Bit 0: slot in use. Bit 1: a persistence template. Bit 2: controlled by a template.
    public var flags: UInt8
    public var reserved: UInt8
    /// The destination's slot in the engine's destination array.
    public var destinationSlot: Int32
    /// The service's index in the engine.
    public var serviceIndex: UInt16
    /// For a template: how many live connections it controls (the kernel's `n_control`),
    /// saturating at 65535.
    public var controlledCount: UInt16
    /// Monotonic nanoseconds after which the entry is dead.
    public var expiresAt: UInt64

    public var isOccupied: Bool { flags & 1 != 0 }

    public static let templateFlag: UInt8 = 2
    public static let controlledFlag: UInt8 = 4

    /// A persistence template (`IP_VS_CONN_F_TEMPLATE`): remembers a client network's server.
    public var isTemplate: Bool { flags & Self.templateFlag != 0 }

    /// A connection created through a template, which must be told when it goes away.
    public var isControlled: Bool { flags & Self.controlledFlag != 0 }

    public var state: ConnectionState { ConnectionState(rawValue: stateRaw) ?? .close }

    public func matches(_ k: ConnectionKey) -> Bool {
        clientAddress == k.clientAddress && virtualAddress == k.virtualAddress
            && clientPort == k.clientPort && virtualPort == k.virtualPort && transport == k.transport
    }

    public var key: ConnectionKey {
        ConnectionKey(transport: transport, clientAddress: clientAddress, clientPort: clientPort,
                      virtualAddress: virtualAddress, virtualPort: virtualPort)
    }

    public static let empty = ConnectionEntry(
        virtualAddress: 0, clientAddress: 0, virtualPort: 0, clientPort: 0, transport: 0, stateRaw: 0,
        flags: 0, reserved: 0, destinationSlot: -1, serviceIndex: 0, controlledCount: 0, expiresAt: 0)
}

/// A connection key as the first 16 bytes of its `ConnectionEntry` hold it, read as two native
/// words: a probe compares a slot with two 64-bit loads and one mask instead of five fields
/// and the "in use" flag, and the hash mixes two words instead of five fields.
///
/// `rest` has the "in use" flag set, and `comparedBits` keeps the key bytes and that flag of a
/// slot's second word (state, the other flags and the reserved byte vary): an empty slot can
/// never match, so a hit needs no separate occupancy test.
struct PackedKey: Equatable {
    /// Bytes 0-7: the VIP, then the client address.
    var addresses: UInt64
    /// Bytes 8-15: VIP port, client port, transport, state (masked off), flags (bit 0 set),
    /// reserved (masked off).
    var rest: UInt64

    #if _endian(little)
    static let inUse: UInt64 = 1 << 48
    static let comparedBits: UInt64 = 0x0001_00FF_FFFF_FFFF
    #else
    static let inUse: UInt64 = 1 << 8
    static let comparedBits: UInt64 = 0xFFFF_FFFF_FF00_0100
    #endif

    @inline(__always)
    init(transport: UInt8, clientAddress: UInt32, clientPort: UInt16, virtualAddress: UInt32, virtualPort: UInt16) {
        #if _endian(little)
        addresses = UInt64(virtualAddress) | UInt64(clientAddress) &<< 32
        rest = UInt64(virtualPort) | UInt64(clientPort) &<< 16 | UInt64(transport) &<< 32 | Self.inUse
        #else
        addresses = UInt64(virtualAddress) &<< 32 | UInt64(clientAddress)
        rest = UInt64(virtualPort) &<< 48 | UInt64(clientPort) &<< 32 | UInt64(transport) &<< 24 | Self.inUse
        #endif
    }

    /// `state` where an entry's second word holds it (byte 13), for comparing that word
    /// unmasked: key, state, flags and reserved byte at once.
    @inline(__always)
    static func stateBits(_ state: UInt8) -> UInt64 {
        #if _endian(little)
        UInt64(state) &<< 40
        #else
        UInt64(state) &<< 16
        #endif
    }

    @inline(__always)
    init(_ k: ConnectionKey) {
        self.init(transport: k.transport, clientAddress: k.clientAddress, clientPort: k.clientPort,
                  virtualAddress: k.virtualAddress, virtualPort: k.virtualPort)
    }

    /// Whether the entry at `slot` is in use and holds this key.
    @inline(__always)
    func matches(_ slot: UnsafeRawPointer) -> Bool {
        slot.load(as: UInt64.self) == addresses
            && slot.load(fromByteOffset: 8, as: UInt64.self) & Self.comparedBits == rest
    }
}

/// A fixed-size open-addressing hash table of connections (linear probing, backward-shift
/// deletion, so no tombstones). All memory is allocated once, at start: inserting never
/// allocates, and a full neighbourhood makes `insert` fail instead of growing, so the caller
/// can fall back to stateless hashing without touching established flows.
///
/// It is a class with `let` storage so the hot path pays no exclusivity checks; it belongs to
/// exactly one worker thread and is not Sendable.
public final class ConnectionTable {
    let entries: UnsafeMutablePointer<ConnectionEntry>
    let mask: Int
    /// The hash's two secret words, derived from the seed (see `hash`).
    let addressSeed: UInt64
    let restSeed: UInt64
    /// Longest probe sequence tried before the table reports itself full around a key.
    public let maxProbes: Int
    public private(set) var count = 0
    var sweepCursor = 0

    /// - Parameters:
    ///   - capacity: rounded up to a power of two (at least 64).
    ///   - seed: keys the hash, so that clients cannot aim flows at one bucket.
    public init(capacity: Int, seed: UInt64, maxProbes: Int = 64) {
        var size = 64
        while size < capacity { size <<= 1 }
        entries = .allocate(capacity: size)
        entries.initialize(repeating: .empty, count: size)
        mask = size - 1
        // Two splitmix64 outputs, so that nearby seeds (or 0) still give unrelated words.
        var state = seed
        addressSeed = Self.splitmix64(&state)
        restSeed = Self.splitmix64(&state)
        self.maxProbes = min(maxProbes, size)
    }

    deinit {
        entries.deinitialize(count: mask + 1)
        entries.deallocate()
    }

    public var capacity: Int { mask + 1 }

    static func splitmix64(_ state: inout UInt64) -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A 64-bit keyed hash of the 5-tuple; its low bits (`& (capacity - 1)`) are the key's home
    /// slot.
    public func hash(_ k: ConnectionKey) -> UInt64 { hash(PackedKey(k)) }

    /// The key's two words, each xored with a secret word, multiplied (one `imul`; the
    /// splitmix64 finaliser this replaces took two multiplies and three xor-shifts). The high
    /// bits of a product depend on all the bits of both factors, so its bytes are swapped to
    /// bring the top ones down to where the slot mask takes them (one `bswap`; a rotate by a
    /// stored amount would tie up `cl`). Without the seed a client cannot predict which flows
    /// share a home slot.
    @inline(__always)
    func hash(_ k: PackedKey) -> UInt64 {
        ((k.addresses ^ addressSeed) &* (k.rest ^ restSeed)).byteSwapped
    }

    /// The slot holding `key`, or -1. Expired entries are still returned: the caller decides
    /// what expiry means (it must release the entry's counters before reuse).
    public func find(_ key: ConnectionKey) -> Int {
        guard let e = lookup(PackedKey(key)) else { return -1 }
        return e - entries
    }

    /// The slot where `key` is when it is not displaced by a collision.
    @inline(__always)
    func homeSlot(_ key: PackedKey) -> UnsafeMutablePointer<ConnectionEntry> {
        entries + (Int(truncatingIfNeeded: hash(key)) & mask)
    }

    /// `find` for the packet path: the entry itself, or nil. With `maxProbes` below 1 nothing
    /// was ever inserted, so the home slot, which is always compared, cannot match either.
    @inline(__always)
    func lookup(_ key: PackedKey) -> UnsafeMutablePointer<ConnectionEntry>? {
        var i = Int(truncatingIfNeeded: hash(key)) & mask
        var probes = 1
        while true {
            let e = entries + i
            if key.matches(UnsafeRawPointer(e)) { return e }
            // The slot compared was empty: the key would be there. Or the run is too long.
            if !e.pointee.isOccupied || probes >= maxProbes { return nil }
            i = (i &+ 1) & mask
            probes &+= 1
        }
    }

    /// Direct access to a slot returned by `find` or `insert`.

    public func entry(_ slot: Int) -> UnsafeMutablePointer<ConnectionEntry> { entries + slot }

    /// Claims a free slot for `key` (which must not be present) and returns it, or -1 when all
    /// `maxProbes` slots of its neighbourhood are in use.

    public func insert(_ key: ConnectionKey) -> Int {
        var i = Int(truncatingIfNeeded: hash(PackedKey(key))) & mask
        var probes = 0
        while probes < maxProbes {
            if !entries[i].isOccupied {
                var e = ConnectionEntry.empty
                e.clientAddress = key.clientAddress
                e.virtualAddress = key.virtualAddress
                e.clientPort = key.clientPort
                e.virtualPort = key.virtualPort
                e.transport = key.transport
                e.flags = 1
                entries[i] = e
                count += 1
                return i
            }
            i = (i &+ 1) & mask
            probes &+= 1
        }
        return -1
    }

    /// Frees `slot`, shifting later members of its probe run back so that lookups never stop
    /// early at a hole (Knuth's algorithm R for linear probing).
    public func remove(_ slot: Int) {
        var hole = slot
        var i = (slot + 1) & mask
        // `i != slot` bounds the walk when every slot is occupied (a tiny or adversarially
        // filled table): after one lap there is nothing left to shift.
        while entries[i].isOccupied && i != slot {
            let home = Int(truncatingIfNeeded: hash(entries[i].key)) & mask
            // Move entry i into the hole if its home is not cyclically within (hole, i].
            let distanceToHome = (i - home) & mask
            let distanceToHole = (i - hole) & mask
            if distanceToHome >= distanceToHole {
                entries[hole] = entries[i]
                hole = i
            }
            i = (i + 1) & mask
        }
        entries[hole] = .empty
        count -= 1
    }

    /// Visits up to `budget` slots from where the last sweep stopped and hands every expired
    /// entry to `expire` before removing it. Called from the worker's idle tick, so expiry costs
    /// a bounded slice of time and needs no timer per connection.
    public func sweep(now: UInt64, budget: Int, expire: (ConnectionEntry) -> Void) {
        sweep(now: now, budget: budget) { (entry: UnsafeMutablePointer<ConnectionEntry>) -> Bool in
            expire(entry.pointee)
            return true
        }
    }

    /// Like `sweep(now:budget:expire:)`, but `shouldRemove` may keep an expired entry (after
    /// re-arming it, as the kernel re-arms a template that still controls connections).
    public func sweep(now: UInt64, budget: Int, shouldRemove: (UnsafeMutablePointer<ConnectionEntry>) -> Bool) {
        var visited = 0
        while visited < budget {
            let e = entries + sweepCursor
            if e.pointee.isOccupied && e.pointee.expiresAt <= now && shouldRemove(e) {
                remove(sweepCursor)
                // A later entry may have shifted into this slot: look at it again.
            } else {
                sweepCursor = (sweepCursor + 1) & mask
            }
            visited += 1
        }
    }

    /// Calls `body` for every live entry (for listings; not for the packet path).
    public func forEach(_ body: (ConnectionEntry) -> Void) {
        for i in 0...mask where entries[i].isOccupied { body(entries[i]) }
    }

    /// Hands every occupied slot to `body` for rewriting in place (the engine renumbers
    /// services and detaches templates when its configuration changes). `body` must not insert
    /// or remove entries, and must leave the key alone: both would move entries under the walk.
    func forEachEntry(_ body: (UnsafeMutablePointer<ConnectionEntry>) -> Void) {
        for i in 0...mask where entries[i].isOccupied { body(entries + i) }
    }
}
