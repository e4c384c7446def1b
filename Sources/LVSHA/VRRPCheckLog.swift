import LVSCore

/// The log lines of one instance's receive checks, pure: at most one line per kind of
/// problem, sender and difference, so a misconfigured peer that advertises every second shows
/// up once in the log (and keeps counting in the stats file), and again only when something
/// changes: another difference, another sender, or the problem going away ("accepted again").
/// keepalived logs every bad advert; one line per change says the same without flooding.
public struct VRRPCheckLog: Sendable {
    public let instance: String
    public let virtualRouterID: UInt8

    struct Key: Hashable {
        var reason: VRRPDropReason
        var source: IPv4Address?
        var detail: String
    }

    /// Drops already logged (a sender's are forgotten when an advert of its is accepted).
    var loggedDrops: Set<Key> = []
    /// The address-list difference last logged per sender whose adverts are accepted.
    var mismatches: [IPv4Address: VRRPAddressListMismatch] = [:]
    /// The master's interval last logged (v3's learned interval), nil: the instance's own.
    var loggedMasterInterval: UInt16?

    /// Distinct senders/differences logged per kind; beyond it one line says the rest are only
    /// counted, so a link full of strangers cannot flood the log.
    static let maxLoggedPerReason = 8

    public init(instance: String, virtualRouterID: UInt8) {
        self.instance = instance
        self.virtualRouterID = virtualRouterID
    }

    var prefix: String { "VRRP \(instance) (vrid \(virtualRouterID))" }

    /// What to log for `outcome` (usually nothing).
    public mutating func lines(for outcome: VRRPReceiveOutcome) -> [String] {
        switch outcome {
        case .dropped(let drop):
            return dropped(drop)
        case .accepted(let event, let mismatch):
            guard case .advertisement(_, _, let source) = event else { return [] }
            return accepted(from: source, mismatch: mismatch)
        }
    }

    mutating func dropped(_ drop: VRRPDrop) -> [String] {
        let key = Key(reason: drop.reason, source: drop.source, detail: drop.detail)
        guard !loggedDrops.contains(key) else { return [] }
        let sameKind = loggedDrops.count(where: { $0.reason == drop.reason })
        if sameKind > Self.maxLoggedPerReason { return [] }
        if sameKind == Self.maxLoggedPerReason {
            loggedDrops.insert(Key(reason: drop.reason, source: nil, detail: "(limit)"))
            return ["\(prefix): more adverts dropped as \(drop.reason.rawValue) from other senders or with other differences; they are counted in the stats file's vrrp.dropped, not logged"]
        }
        loggedDrops.insert(key)
        let from = drop.source.map { " from \($0)" } ?? ""
        let detail = drop.detail.isEmpty ? "" : ": \(drop.detail)"
        return ["\(prefix): advert\(from) dropped (\(drop.reason.rawValue)\(detail)); more like it are counted in the stats file's vrrp.dropped, not logged"]
    }

    mutating func accepted(from source: IPv4Address, mismatch: VRRPAddressListMismatch?) -> [String] {
        var lines: [String] = []
        let forgotten = loggedDrops.filter { $0.source == source }
        if !forgotten.isEmpty {
            loggedDrops.subtract(forgotten)
            let reasons = Set(forgotten.map(\.reason.rawValue)).sorted().joined(separator: ", ")
            lines.append("\(prefix): adverts from \(source) are accepted again (were dropped as \(reasons))")
        }
        if let mismatch {
            if mismatches[source] != mismatch {
                mismatches[source] = mismatch
                lines.append("\(prefix): adverts from \(source) list other addresses than virtual_ipaddress (\(mismatch)); accepted (vrrp_strict would drop them); give both directors the same virtual_ipaddress")
            }
        } else if mismatches.removeValue(forKey: source) != nil {
            lines.append("\(prefix): adverts from \(source) list the same addresses as virtual_ipaddress again")
        }
        return lines
    }

    /// The line for a backup that learned another Master_Adver_Interval from `source` (v3,
    /// RFC 5798 §6.4.2, as keepalived's "advertisement interval changed"), nil when the
    /// interval is the one last logged (or, at first, the instance's own).
    public mutating func masterIntervalLine(_ interval: UInt16, from source: IPv4Address, own: UInt16,
                                            masterDownNanoseconds: UInt64) -> String? {
        guard interval != (loggedMasterInterval ?? own) else { return nil }
        loggedMasterInterval = interval
        return "\(prefix): master \(source) advertises every \(Self.seconds(interval)) s (own advert_int \(Self.seconds(own)) s); master down interval now \(Self.seconds(UInt16(clamping: masterDownNanoseconds / 10_000_000))) s"
    }

    /// Centiseconds as seconds, without trailing zeros ("0.5", "1", "3.61").
    static func seconds(_ centiseconds: UInt16) -> String {
        let whole = centiseconds / 100
        let fraction = centiseconds % 100
        if fraction == 0 { return "\(whole)" }
        return fraction % 10 == 0 ? "\(whole).\(fraction / 10)" : "\(whole).\(fraction < 10 ? "0" : "")\(fraction)"
    }
}
