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
/// the reason to drop it out (RFC 5798 §7.1 plus the instance's own checks).
public struct VRRPReceiveFilter: Sendable {
    public let virtualRouterID: UInt8
    /// The address this instance sends from: datagrams from it are its own.
    public let localAddress: IPv4Address
    /// Unicast mode's peers (empty: multicast, anyone on the link is heard).
    public let peers: [IPv4Address]

    public init(virtualRouterID: UInt8, localAddress: IPv4Address, peers: [IPv4Address]) {
        self.virtualRouterID = virtualRouterID
        self.localAddress = localAddress
        self.peers = peers
    }

    public func event(for datagram: [UInt8]) -> Result<VRRPEvent, VRRPDropReason> {
        switch ReceivedAdvertisement.decode(datagram) {
        case .failure(let error):
            return .failure(VRRPDropReason(error))
        case .success(let received):
            guard received.advertisement.virtualRouterID == virtualRouterID else { return .failure(.wrongRouterID) }
            guard received.source != localAddress else { return .failure(.ownAdvert) }
            guard peers.isEmpty || peers.contains(received.source) else { return .failure(.notFromPeer) }
            return .success(.advertisement(priority: received.advertisement.priority,
                                           maxAdvertInterval: received.advertisement.maxAdvertInterval,
                                           source: received.source))
        }
    }
}
