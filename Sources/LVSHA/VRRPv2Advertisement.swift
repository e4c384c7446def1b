import LVSCore

/// The protocol version an instance speaks: keepalived's `vrrp_version` / `version`, 2 by
/// default there (and so in lvsd). Two peers of different versions do not hear each other,
/// and both become master.
public enum VRRPVersion: UInt8, Sendable, Equatable, CaseIterable {
    /// RFC 3768: interval in whole seconds, an authentication field, checksum over the message.
    case v2 = 2
    /// RFC 5798: interval in centiseconds, no authentication, pseudo-header checksum.
    case v3 = 3
}

/// VRRPv2's authentication (RFC 3768 §5.3.6): none, or an 8-byte clear-text password, which
/// guards against a misconfigured neighbour, not an attacker. IP AH (type 2) is not
/// supported (keepalived builds without it by default too; RFC 3768 removed it).
public enum VRRPAuthentication: Sendable, Equatable {
    case none
    /// `auth_pass`, as keepalived keeps it: at most 8 bytes, zero-padded to 8.
    case password([UInt8])

    public static let dataLength = 8

    /// keepalived's `auth_pass` rule: the first 8 bytes of `text`, zero-padded.
    public static func password(text: String) -> VRRPAuthentication {
        let bytes = Array(text.utf8.prefix(dataLength))
        return .password(bytes + [UInt8](repeating: 0, count: dataLength - bytes.count))
    }

    /// The Auth Type field: 0 none, 1 simple text password.
    public var type: UInt8 {
        switch self {
        case .none: 0
        case .password: 1
        }
    }

    /// The 8 bytes of Authentication Data sent (zeros without a password).
    public var data: [UInt8] {
        switch self {
        case .none: [UInt8](repeating: 0, count: Self.dataLength)
        case .password(let bytes):
            Array((bytes + [UInt8](repeating: 0, count: Self.dataLength)).prefix(Self.dataLength))
        }
    }
}

/// A VRRPv2 advertisement (RFC 3768 §5.3): the wire codec, pure.
///
///     0: version 2 | type 1   1: virtual router id   2: priority   3: count of addresses
///     4: auth type   5: advert interval (whole seconds)   6-7: checksum
///     8...: the IPv4 addresses   then 8 bytes of authentication data
///
/// The checksum covers the VRRP message only (no pseudo-header, unlike v3), so the same
/// bytes go to the multicast group and to unicast peers.
public struct VRRPv2Advertisement: Sendable, Equatable {
    public var virtualRouterID: UInt8
    public var priority: UInt8
    public var advertIntervalSeconds: UInt8
    public var addresses: [IPv4Address]
    /// As received: any value 0-255 (checked by the receive filter against the instance's).
    public var authenticationType: UInt8
    /// As received: the last 8 bytes of the message.
    public var authenticationData: [UInt8]

    static let versionAndType: UInt8 = 0x21
    static let headerLength = 8

    public init(virtualRouterID: UInt8, priority: UInt8, advertIntervalSeconds: UInt8, addresses: [IPv4Address],
                authentication: VRRPAuthentication = .none) {
        self.init(virtualRouterID: virtualRouterID, priority: priority, advertIntervalSeconds: advertIntervalSeconds,
                  addresses: addresses, authenticationType: authentication.type, authenticationData: authentication.data)
    }

    public init(virtualRouterID: UInt8, priority: UInt8, advertIntervalSeconds: UInt8, addresses: [IPv4Address],
                authenticationType: UInt8, authenticationData: [UInt8]) {
        self.virtualRouterID = virtualRouterID
        self.priority = priority
        self.advertIntervalSeconds = advertIntervalSeconds
        self.addresses = addresses
        self.authenticationType = authenticationType
        self.authenticationData = authenticationData
    }

    /// The VRRP message (what follows the IPv4 header), checksummed.
    public func encode() -> [UInt8] {
        var bytes: [UInt8] = [Self.versionAndType, virtualRouterID, priority, UInt8(clamping: addresses.count),
                              authenticationType, advertIntervalSeconds, 0, 0]
        for a in addresses.prefix(255) {
            bytes += [UInt8(truncatingIfNeeded: a.value >> 24), UInt8(truncatingIfNeeded: a.value >> 16),
                      UInt8(truncatingIfNeeded: a.value >> 8), UInt8(truncatingIfNeeded: a.value)]
        }
        var data = Array(authenticationData.prefix(VRRPAuthentication.dataLength))
        data += [UInt8](repeating: 0, count: VRRPAuthentication.dataLength - data.count)
        bytes += data
        let sum = Self.checksum(bytes)
        bytes[6] = UInt8(sum >> 8)
        bytes[7] = UInt8(sum & 0xFF)
        return bytes
    }

    /// The one's-complement checksum of `message` alone (RFC 3768 §5.3.8); a correct
    /// message, checksum field included, sums to zero.
    public static func checksum(_ message: [UInt8]) -> UInt16 {
        ~InternetChecksum.fold(InternetChecksum.sum(message))
    }

    /// Decodes the VRRP message of a datagram whose IPv4 part was checked (§7.1 of RFC 3768).
    static func decode(_ message: [UInt8]) -> Swift.Result<VRRPv2Advertisement, VRRPPacketError> {
        guard message[0] >> 4 == 2 else { return .failure(.badVersion) }
        guard message[0] & 0x0F == 1 else { return .failure(.badType) }
        let count = Int(message[3])
        let length = headerLength + 4 * count + VRRPAuthentication.dataLength
        guard message.count == length else { return .failure(.badLength) }
        guard checksum(message) == 0 else { return .failure(.badChecksum) }
        return .success(VRRPv2Advertisement(virtualRouterID: message[1], priority: message[2],
                                            advertIntervalSeconds: message[5],
                                            addresses: VRRPMessage.addresses(message, at: headerLength, count: count),
                                            authenticationType: message[4],
                                            authenticationData: Array(message[(length - VRRPAuthentication.dataLength)...])))
    }
}

/// An advertisement of either version: what the instance sends and what the receive side
/// hands on, so the runner and the filter do not care which codec made it.
public enum VRRPMessage: Sendable, Equatable {
    case v2(VRRPv2Advertisement)
    case v3(VRRPAdvertisement)

    public var version: VRRPVersion {
        switch self {
        case .v2: .v2
        case .v3: .v3
        }
    }

    public var virtualRouterID: UInt8 {
        switch self {
        case .v2(let a): a.virtualRouterID
        case .v3(let a): a.virtualRouterID
        }
    }

    public var priority: UInt8 {
        switch self {
        case .v2(let a): a.priority
        case .v3(let a): a.priority
        }
    }

    /// The advertised interval in centiseconds (v2's whole seconds × 100).
    public var advertIntervalCentiseconds: UInt16 {
        switch self {
        case .v2(let a): UInt16(a.advertIntervalSeconds) * 100
        case .v3(let a): a.maxAdvertInterval
        }
    }

    public var addresses: [IPv4Address] {
        switch self {
        case .v2(let a): a.addresses
        case .v3(let a): a.addresses
        }
    }

    /// The bytes after the IPv4 header (v3's checksum depends on the addresses, v2's not).
    public func encode(source: IPv4Address, destination: IPv4Address) -> [UInt8] {
        switch self {
        case .v2(let a): a.encode()
        case .v3(let a): a.encode(source: source, destination: destination)
        }
    }

    /// The advert an instance of `configuration` sends with `priority`.
    public static func advertisement(for configuration: VRRPInstanceConfiguration, priority: UInt8) -> VRRPMessage {
        switch configuration.version {
        case .v2:
            .v2(VRRPv2Advertisement(virtualRouterID: configuration.virtualRouterID, priority: priority,
                                    advertIntervalSeconds: UInt8(clamping: configuration.advertIntervalCentiseconds / 100),
                                    addresses: configuration.virtualAddresses,
                                    authentication: configuration.authentication))
        case .v3:
            .v3(VRRPAdvertisement(virtualRouterID: configuration.virtualRouterID, priority: priority,
                                  maxAdvertInterval: configuration.advertIntervalCentiseconds,
                                  addresses: configuration.virtualAddresses))
        }
    }

    static func addresses(_ message: [UInt8], at start: Int, count: Int) -> [IPv4Address] {
        (0..<count).map { i in
            let at = start + 4 * i
            return IPv4Address(UInt32(message[at]) << 24 | UInt32(message[at + 1]) << 16
                               | UInt32(message[at + 2]) << 8 | UInt32(message[at + 3]))
        }
    }
}
