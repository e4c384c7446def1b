import LVSCore

/// Why a received datagram did not reach the state machine. Each is counted (SIGUSR1 logs
/// them with the instance's state).
public enum VRRPDropReason: String, Error, Sendable, CaseIterable {
    case truncated = "truncated"
    case badTTL = "bad_ttl"
    case badVersion = "bad_version"
    case badType = "bad_type"
    case badLength = "bad_length"
    case badChecksum = "bad_checksum"
    /// Another virtual router's advert (valid, but not this instance's id).
    case wrongRouterID = "wrong_router_id"
    /// Unicast mode: from a host that is not a `unicast_peer`.
    case notFromPeer = "not_from_peer"
    /// This instance's own advert, should the kernel loop one back.
    case ownAdvert = "own_advert"
    /// v2: an Auth Type other than 0, 1 or 2 (keepalived's "invalid auth type").
    case authTypeInvalid = "auth_type_invalid"
    /// v2: another Auth Type than the instance's (`authentication` on one side only).
    case authTypeMismatch = "auth_type_mismatch"
    /// v2: another password than `auth_pass` (keepalived's "received an invalid passwd").
    case authFailure = "auth_failure"
    /// v2: another advert interval than the instance's `advert_int` (v2 has no learned
    /// interval; RFC 3768 §7.1 and keepalived drop it).
    case advertIntervalMismatch = "advert_interval_mismatch"

    init(_ error: VRRPPacketError) {
        switch error {
        case .truncated: self = .truncated
        case .badTTL: self = .badTTL
        case .badVersion: self = .badVersion
        case .badType: self = .badType
        case .badLength: self = .badLength
        case .badChecksum: self = .badChecksum
        }
    }
}

/// The receive side of one instance, pure: a raw datagram in, the state machine's event or
/// the reason to drop it out (§7.1 of RFC 5798 or RFC 3768, plus the instance's own checks,
/// in keepalived's order: version, checksum, router id, authentication, interval).
public struct VRRPReceiveFilter: Sendable {
    public let virtualRouterID: UInt8
    /// The address this instance sends from: datagrams from it are its own.
    public let localAddress: IPv4Address
    /// Unicast mode's peers (empty: multicast, anyone on the link is heard).
    public let peers: [IPv4Address]
    public let version: VRRPVersion
    /// v2: what a peer's advert must carry.
    public let authentication: VRRPAuthentication
    /// v2: the instance's own interval, which a peer's must equal.
    public let advertIntervalCentiseconds: UInt16

    /// The defaults (v3, no authentication) are the codec tests'; an instance's filter comes
    /// from `init(configuration:localAddress:)`, with its version (2 by default).
    public init(virtualRouterID: UInt8, localAddress: IPv4Address, peers: [IPv4Address], version: VRRPVersion = .v3,
                authentication: VRRPAuthentication = .none, advertIntervalCentiseconds: UInt16 = 100) {
        self.virtualRouterID = virtualRouterID
        self.localAddress = localAddress
        self.peers = peers
        self.version = version
        self.authentication = authentication
        self.advertIntervalCentiseconds = advertIntervalCentiseconds
    }

    /// The filter of an instance of `configuration` sending from `localAddress`.
    public init(configuration c: VRRPInstanceConfiguration, localAddress: IPv4Address) {
        self.init(virtualRouterID: c.virtualRouterID, localAddress: localAddress, peers: c.unicastPeers,
                  version: c.version, authentication: c.authentication, advertIntervalCentiseconds: c.advertIntervalCentiseconds)
    }

    public func event(for datagram: [UInt8]) -> Result<VRRPEvent, VRRPDropReason> {
        switch ReceivedAdvertisement.decode(datagram, version: version) {
        case .failure(let error):
            return .failure(VRRPDropReason(error))
        case .success(let received):
            let advert = received.advertisement
            guard advert.virtualRouterID == virtualRouterID else { return .failure(.wrongRouterID) }
            guard received.source != localAddress else { return .failure(.ownAdvert) }
            guard peers.isEmpty || peers.contains(received.source) else { return .failure(.notFromPeer) }
            if case .v2(let v2) = advert {
                guard v2.authenticationType <= 2 else { return .failure(.authTypeInvalid) }
                guard v2.authenticationType == authentication.type else { return .failure(.authTypeMismatch) }
                if case .password = authentication, v2.authenticationData != authentication.data {
                    return .failure(.authFailure)
                }
                guard advert.advertIntervalCentiseconds == advertIntervalCentiseconds else {
                    return .failure(.advertIntervalMismatch)
                }
            }
            return .success(.advertisement(priority: advert.priority,
                                           maxAdvertInterval: advert.advertIntervalCentiseconds,
                                           source: received.source))
        }
    }
}
