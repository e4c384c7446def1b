import LVSCore

/// A VRRPv3 advertisement for IPv4 (RFC 5798 §5.2): the wire codec, pure (v2's is
/// `VRRPv2Advertisement`; `VRRPMessage` is either).
///
///     0: version 3 | type 1 (advertisement)   1: virtual router id   2: priority
///     3: count of addresses   4-5: 4 reserved bits | max advert interval (centiseconds)
///     6-7: checksum   8...: the IPv4 addresses
///
/// The checksum covers an IPv4 pseudo-header (source, destination, zero, protocol 112, VRRP
/// length) and then the VRRP message (§5.2.8), unlike VRRPv2's, which covered the message only.
public struct VRRPAdvertisement: Sendable, Equatable {
    public var virtualRouterID: UInt8
    public var priority: UInt8
    /// Centiseconds, 12 bits on the wire.
    public var maxAdvertInterval: UInt16
    public var addresses: [IPv4Address]

    public static let ipProtocol: UInt8 = 112
    public static let requiredTTL: UInt8 = 255
    static let versionAndType: UInt8 = 0x31
    static let headerLength = 8

    public init(virtualRouterID: UInt8, priority: UInt8, maxAdvertInterval: UInt16, addresses: [IPv4Address]) {
        self.virtualRouterID = virtualRouterID
        self.priority = priority
        self.maxAdvertInterval = maxAdvertInterval
        self.addresses = addresses
    }

    /// The VRRP message (what follows the IPv4 header), checksummed for `source` → `destination`.
    public func encode(source: IPv4Address, destination: IPv4Address) -> [UInt8] {
        var bytes: [UInt8] = [Self.versionAndType, virtualRouterID, priority, UInt8(clamping: addresses.count),
                              UInt8(truncatingIfNeeded: (maxAdvertInterval >> 8) & 0x0F),
                              UInt8(truncatingIfNeeded: maxAdvertInterval), 0, 0]
        for a in addresses.prefix(255) {
            bytes += [UInt8(truncatingIfNeeded: a.value >> 24), UInt8(truncatingIfNeeded: a.value >> 16),
                      UInt8(truncatingIfNeeded: a.value >> 8), UInt8(truncatingIfNeeded: a.value)]
        }
        let sum = Self.checksum(bytes, source: source, destination: destination)
        bytes[6] = UInt8(sum >> 8)
        bytes[7] = UInt8(sum & 0xFF)
        return bytes
    }

    /// The one's-complement checksum of the pseudo-header and `message` (whose checksum field
    /// is taken as it is: zero when computing, the sent value when verifying, where a correct
    /// message then sums to zero).
    public static func checksum(_ message: [UInt8], source: IPv4Address, destination: IPv4Address) -> UInt16 {
        let pseudoHeader = UInt64(source.value >> 16) + UInt64(source.value & 0xFFFF)
            + UInt64(destination.value >> 16) + UInt64(destination.value & 0xFFFF)
            + UInt64(ipProtocol) + UInt64(message.count)
        return ~InternetChecksum.fold(InternetChecksum.sum(message, initial: pseudoHeader))
    }
}

/// Why a received VRRP packet was dropped; each has its counter.
public enum VRRPPacketError: String, Error, Sendable, CaseIterable {
    /// Shorter than an IPv4 header plus the VRRP header, or not IPv4 / not protocol 112.
    case truncated = "truncated"
    /// Not the instance's version (a v2 advert to a v3 instance, or the reverse).
    case badVersion = "bad_version"
    case badType = "bad_type"
    /// The address count does not match the length (v2: plus 8 bytes of authentication).
    case badLength = "bad_length"
    case badChecksum = "bad_checksum"
}

/// An advertisement as received, with the IPv4 fields the state machine and filters need.
public struct ReceivedAdvertisement: Sendable, Equatable {
    public var advertisement: VRRPMessage
    public var source: IPv4Address
    public var destination: IPv4Address
    /// The IPv4 TTL it arrived with: 255 unless it crossed a router. Checked by the receive
    /// filter, which knows whether the instance is multicast (TTL 255 required, RFC 5798 /
    /// RFC 3768 §7.1) or unicast (a peer may be routed, so keepalived does not check it).
    public var ttl: UInt8

    /// Decodes a whole IPv4 datagram (as a raw socket delivers it: header included) and checks
    /// it as §7.1 of RFC 5798 (v3) or RFC 3768 (v2) asks, except what only the receiving
    /// instance knows (TTL, router id, interval, authentication, addresses). Another `version` than the
    /// instance's is `.badVersion`, as keepalived drops it.
    public static func decode(_ datagram: [UInt8], version: VRRPVersion = .v3) -> Swift.Result<ReceivedAdvertisement, VRRPPacketError> {
        guard datagram.count >= 20, datagram[0] >> 4 == 4 else { return .failure(.truncated) }
        let headerLength = Int(datagram[0] & 0x0F) * 4
        guard headerLength >= 20, datagram[9] == VRRPAdvertisement.ipProtocol else { return .failure(.truncated) }
        let totalLength = Int(datagram[2]) << 8 | Int(datagram[3])
        guard totalLength <= datagram.count, totalLength >= headerLength + VRRPAdvertisement.headerLength else {
            return .failure(.truncated)
        }
        func address(_ at: Int) -> IPv4Address {
            IPv4Address(UInt32(datagram[at]) << 24 | UInt32(datagram[at + 1]) << 16
                        | UInt32(datagram[at + 2]) << 8 | UInt32(datagram[at + 3]))
        }
        let source = address(12)
        let destination = address(16)
        let ttl = datagram[8]
        let message = Array(datagram[headerLength..<totalLength])
        guard message[0] >> 4 == version.rawValue else { return .failure(.badVersion) }
        switch version {
        case .v2:
            return VRRPv2Advertisement.decode(message).map {
                ReceivedAdvertisement(advertisement: .v2($0), source: source, destination: destination, ttl: ttl)
            }
        case .v3:
            guard message[0] & 0x0F == 1 else { return .failure(.badType) }
            let count = Int(message[3])
            guard message.count == VRRPAdvertisement.headerLength + 4 * count else { return .failure(.badLength) }
            guard VRRPAdvertisement.checksum(message, source: source, destination: destination) == 0 else {
                return .failure(.badChecksum)
            }
            let interval = UInt16(message[4] & 0x0F) << 8 | UInt16(message[5])
            let advertisement = VRRPAdvertisement(virtualRouterID: message[1], priority: message[2], maxAdvertInterval: interval,
                                                  addresses: VRRPMessage.addresses(message, at: VRRPAdvertisement.headerLength, count: count))
            return .success(ReceivedAdvertisement(advertisement: .v3(advertisement), source: source, destination: destination, ttl: ttl))
        }
    }
}
