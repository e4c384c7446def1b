/// With several workers only worker 0 sees ARP (the fanout program sends it all there), so
/// only its engine learns real-server MACs; it hands what it knows to the other engines, which
/// then never ask themselves. docs/DATAPLANE.md, "Several workers".
extension ForwardingEngine {
    /// The real servers whose MAC this engine learned by ARP (static ones every engine has).
    public var learnedNeighbors: [LearnedNeighbor] {
        neighbors.compactMap { n in
            guard !n.isStatic, n.isInUse, let mac = n.mac else { return nil }
            return LearnedNeighbor(address: n.address, mac: mac)
        }
    }

    /// Takes MACs another engine learned, for the real servers this one has. Off the packet
    /// path (a worker job); idempotent.
    public func adoptNeighbors(_ learned: [LearnedNeighbor], now: UInt64) {
        for l in learned {
            guard let n = neighborIndex[l.address.value], !neighbors[n].isStatic else { continue }
            learn(neighbor: n, mac: l.mac, now: now, counted: false)
        }
    }
}

public struct LearnedNeighbor: Sendable, Equatable {
    public var address: IPv4Address
    public var mac: MACAddress

    public init(address: IPv4Address, mac: MACAddress) {
        self.address = address
        self.mac = mac
    }
}
