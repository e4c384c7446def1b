import LVSCore

extension DestinationFixture {
    /// `ipvsadm -e ... -w weight` as `__ip_vs_update_dest` applies it: `last_weight` follows the
    /// weight only when the new weight is non-zero (IPVS-SEMANTICS.md §1.2), which is what lets
    /// mh keep a quiesced server's slots.
    func editWeight(_ name: String, _ weight: Int32) {
        slots[Int(slot(name))].weight = weight
        if weight != 0 { slots[Int(slot(name))].lastWeight = weight }
    }

    func setAvailable(_ name: String, _ available: Bool) { slots[Int(slot(name))].isAvailable = available }

    /// A context for client `address`:`port`, towards `vip`, at `now` seconds.
    static func context(client address: IPv4Address, port: UInt16 = 1000, vip: IPv4Address = IPv4Address(10, 0, 0, 100),
                        seconds: UInt64 = 0) -> SchedulingContext {
        SchedulingContext(clientAddress: address, clientPort: port, virtualAddress: vip, virtualPort: 80,
                          now: seconds * 1_000_000_000)
    }
}
