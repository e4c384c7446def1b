import LVSCore

/// Why a received datagram did not reach the state machine. Each is counted (the stats file's
/// `vrrp.dropped`, SIGUSR1's log line) and logged once per sender and difference
/// (`VRRPCheckLog`).
public enum VRRPDropReason: String, Error, Sendable, CaseIterable {
    case truncated = "truncated"
    /// Multicast mode: a TTL other than 255, so it crossed a router (RFC 5798 / RFC 3768
    /// §7.1). Unicast adverts are not checked: a peer may be routed (keepalived's way).
    case badTTL = "bad_ttl"
    case badVersion = "bad_version"
    case badType = "bad_type"
    case badLength = "bad_length"
    case badChecksum = "bad_checksum"
    /// Another virtual router's advert (valid, but not this instance's id).
    case wrongRouterID = "wrong_router_id"
    /// A unicast advert to a multicast instance, or a multicast one to an instance with
    /// `unicast_peer`: one director of the pair has peers configured and the other not
    /// (keepalived: "Expected multicast packet but received unicast packet", counted there
    /// as an address list error).
    case unicastMulticastMismatch = "unicast_multicast_mismatch"
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
    /// Strict mode only (`vrrp_strict` / `strict_mode`): the advert's address list differs
    /// from `virtual_ipaddress` (keepalived's `addr_list_err`). Without strict mode such an
    /// advert is accepted and counted in `address_list_mismatch_accepted`.
    case addressListMismatch = "address_list_mismatch"

    init(_ error: VRRPPacketError) {
        switch error {
        case .truncated: self = .truncated
        case .badVersion: self = .badVersion
        case .badType: self = .badType
        case .badLength: self = .badLength
        case .badChecksum: self = .badChecksum
        }
    }
}

/// A dropped datagram: why, from whom (nil when too short to tell), and the difference in
/// words ("advert_int 2 s, ours 1 s"), for the log line.
public struct VRRPDrop: Error, Sendable, Equatable {
    public var reason: VRRPDropReason
    public var source: IPv4Address?
    public var detail: String

    public init(_ reason: VRRPDropReason, source: IPv4Address?, detail: String = "") {
        self.reason = reason
        self.source = source
        self.detail = detail
    }
}

/// How an advert's address list differs from the instance's `virtual_ipaddress`: the two
/// directors of a pair were given different VIPs (RFC 3768 §7.1 / RFC 5798 §7.1 "MAY verify").
public struct VRRPAddressListMismatch: Sendable, Equatable, CustomStringConvertible {
    /// Ours, not in the advert.
    public var missing: [IPv4Address]
    /// In the advert, not ours.
    public var extra: [IPv4Address]
    public var receivedCount: Int
    public var expectedCount: Int

    /// The difference between `received` and `expected`, nil when they hold the same
    /// addresses the same number of times (order does not count, as keepalived).
    public static func between(received: [IPv4Address], expected: [IPv4Address]) -> VRRPAddressListMismatch? {
        let mine = Set(expected)
        let theirs = Set(received)
        let missing = expected.filter { !theirs.contains($0) }
        let extra = received.filter { !mine.contains($0) }
        guard !missing.isEmpty || !extra.isEmpty || received.count != expected.count else { return nil }
        return VRRPAddressListMismatch(missing: missing, extra: extra, receivedCount: received.count,
                                       expectedCount: expected.count)
    }

    public var description: String {
        var parts = ["\(receivedCount) address\(receivedCount == 1 ? "" : "es"), virtual_ipaddress has \(expectedCount)"]
        if !missing.isEmpty { parts.append("missing \(missing.map(\.description).joined(separator: " "))") }
        if !extra.isEmpty { parts.append("extra \(extra.map(\.description).joined(separator: " "))") }
        if missing.isEmpty && extra.isEmpty { parts.append("an address listed twice") }
        return parts.joined(separator: "; ")
    }
}

/// What the receive side made of one datagram.
public enum VRRPReceiveOutcome: Sendable, Equatable {
    /// For the state machine; `addressMismatch` when the advert's addresses differ from ours
    /// (accepted all the same outside strict mode, and logged).
    case accepted(VRRPEvent, addressMismatch: VRRPAddressListMismatch?)
    case dropped(VRRPDrop)
}

/// The receive side of one instance, pure: a raw datagram in, the state machine's event or
/// the reason to drop it out (§7.1 of RFC 5798 or RFC 3768, plus the instance's own checks,
/// in keepalived's order: codec (version, type, length, checksum), TTL, router id, unicast
/// or multicast, sender, v2 authentication and interval, address list).
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
    /// The instance's `virtual_ipaddress`, which a peer's advert should list (empty: not
    /// checked, as the codec tests' filters).
    public let virtualAddresses: [IPv4Address]
    /// `vrrp_strict` / `strict_mode`: an advert with another address list is dropped.
    public let strict: Bool

    /// The defaults (v3, no authentication, no addresses to check) are the codec tests'; an
    /// instance's filter comes from `init(configuration:localAddress:)`, with its version (2
    /// by default).
    public init(virtualRouterID: UInt8, localAddress: IPv4Address, peers: [IPv4Address], version: VRRPVersion = .v3,
                authentication: VRRPAuthentication = .none, advertIntervalCentiseconds: UInt16 = 100,
                virtualAddresses: [IPv4Address] = [], strict: Bool = false) {
        self.virtualRouterID = virtualRouterID
        self.localAddress = localAddress
        self.peers = peers
        self.version = version
        self.authentication = authentication
        self.advertIntervalCentiseconds = advertIntervalCentiseconds
        self.virtualAddresses = virtualAddresses
        self.strict = strict
    }

    /// The filter of an instance of `configuration` sending from `localAddress`.
    public init(configuration c: VRRPInstanceConfiguration, localAddress: IPv4Address) {
        self.init(virtualRouterID: c.virtualRouterID, localAddress: localAddress, peers: c.unicastPeers,
                  version: c.version, authentication: c.authentication, advertIntervalCentiseconds: c.advertIntervalCentiseconds,
                  virtualAddresses: c.virtualAddresses, strict: c.strict)
    }

    /// The state machine's event, or why the datagram is dropped (the outcome without its
    /// details).
    public func event(for datagram: [UInt8]) -> Result<VRRPEvent, VRRPDropReason> {
        switch check(datagram) {
        case .accepted(let event, _): .success(event)
        case .dropped(let drop): .failure(drop.reason)
        }
    }

    public func check(_ datagram: [UInt8]) -> VRRPReceiveOutcome {
        let received: ReceivedAdvertisement
        switch ReceivedAdvertisement.decode(datagram, version: version) {
        case .failure(let error):
            let source = datagram.count >= 20 ? Self.address(datagram, at: 12) : nil
            var detail = ""
            if error == .badVersion, let first = datagram.first, Int(first & 0x0F) * 4 < datagram.count {
                detail = "VRRPv\(datagram[Int(first & 0x0F) * 4] >> 4), ours VRRPv\(version.rawValue)"
            }
            return .dropped(VRRPDrop(VRRPDropReason(error), source: source, detail: detail))
        case .success(let r):
            received = r
        }
        let advert = received.advertisement
        let source = received.source
        func drop(_ reason: VRRPDropReason, _ detail: String = "") -> VRRPReceiveOutcome {
            .dropped(VRRPDrop(reason, source: source, detail: detail))
        }
        let multicast = peers.isEmpty
        if multicast && received.ttl != VRRPAdvertisement.requiredTTL {
            return drop(.badTTL, "TTL \(received.ttl), 255 required")
        }
        guard advert.virtualRouterID == virtualRouterID else {
            return drop(.wrongRouterID, "virtual_router_id \(advert.virtualRouterID), ours \(virtualRouterID)")
        }
        guard source != localAddress else { return drop(.ownAdvert) }
        let toMulticast = received.destination.value >> 28 == 0xE
        guard toMulticast == multicast else {
            return drop(.unicastMulticastMismatch, multicast
                ? "unicast to \(received.destination), this instance is multicast (no unicast_peer)"
                : "multicast to \(received.destination), this instance has unicast_peer")
        }
        guard multicast || peers.contains(source) else {
            return drop(.notFromPeer, "not in unicast_peer")
        }
        if case .v2(let v2) = advert {
            guard v2.authenticationType <= 2 else { return drop(.authTypeInvalid, "auth type \(v2.authenticationType)") }
            guard v2.authenticationType == authentication.type else {
                return drop(.authTypeMismatch, "auth type \(v2.authenticationType), ours \(authentication.type)")
            }
            if case .password = authentication, v2.authenticationData != authentication.data {
                return drop(.authFailure, "another auth_pass")
            }
            guard advert.advertIntervalCentiseconds == advertIntervalCentiseconds else {
                return drop(.advertIntervalMismatch,
                            "advert_int \(v2.advertIntervalSeconds) s, ours \(advertIntervalCentiseconds / 100) s (VRRPv2 needs the same on both)")
            }
        }
        var mismatch: VRRPAddressListMismatch?
        if !virtualAddresses.isEmpty {
            mismatch = VRRPAddressListMismatch.between(received: advert.addresses, expected: virtualAddresses)
            if let mismatch, strict { return drop(.addressListMismatch, mismatch.description) }
        }
        return .accepted(.advertisement(priority: advert.priority, maxAdvertInterval: advert.advertIntervalCentiseconds,
                                        source: source), addressMismatch: mismatch)
    }

    static func address(_ datagram: [UInt8], at i: Int) -> IPv4Address {
        IPv4Address(UInt32(datagram[i]) << 24 | UInt32(datagram[i + 1]) << 16 | UInt32(datagram[i + 2]) << 8 | UInt32(datagram[i + 3]))
    }
}
