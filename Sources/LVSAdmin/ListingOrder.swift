import LVSCore

/// The order ipvsadm lists services and real servers in unless `--nosort` is given
/// (IPVS-SEMANTICS.md §5.6, Sorting), quirk included.
///
/// libipvs's comparators compute `ntohl(a) - ntohl(b)` in unsigned 32-bit arithmetic and return
/// it as an `int`. Two addresses 2^31 or more apart therefore compare "backwards": 200.0.0.1
/// sorts before 10.0.0.1. Such a comparator is not transitive, so the result also depends on the
/// sorting algorithm; ipvsadm hands it to glibc's `qsort`, which is a top-down merge sort (the
/// first half is the smaller one, and ties keep the left element), and that is what runs here,
/// over the same starting order (creation order for services, kernel list order for servers).
enum ListingOrder {
    /// `ipvs_cmp_services` for IPv4 services: firewall mark, protocol, address, port. The mark
    /// goes through the same wrapped subtraction, so `-t`/`-u` services (mark 0) come before
    /// firewall-mark services (marks up to 2^31), and those come in mark order (marks more
    /// than 2^31 apart compare backwards, as addresses do).
    static func compare(_ a: VirtualServiceKey, _ b: VirtualServiceKey) -> Int32 {
        let byMark = Int32(bitPattern: a.firewallMark &- b.firewallMark)
        if byMark != 0 { return byMark }
        let byProtocol = Int32(a.transport.rawValue) - Int32(b.transport.rawValue)
        if byProtocol != 0 { return byProtocol }
        let byAddress = wrappedDifference(a.address, b.address)
        if byAddress != 0 { return byAddress }
        return Int32(a.port) - Int32(b.port)
    }

    /// `ipvs_cmp_dests`: address, then port.
    static func compare(_ a: RealServerConfig, _ b: RealServerConfig) -> Int32 {
        let byAddress = wrappedDifference(a.address, b.address)
        if byAddress != 0 { return byAddress }
        return Int32(a.port) - Int32(b.port)
    }

    static func services(_ services: [ServiceStatus]) -> [ServiceStatus] {
        serviceOrder(services).map { services[$0] }
    }

    static func destinations(_ destinations: [DestinationStatus]) -> [DestinationStatus] {
        destinationOrder(destinations).map { destinations[$0] }
    }

    /// The positions of `services` in listing order: the same merge sort, on the keys alone,
    /// so that no `ServiceStatus` (with its arrays) is copied while sorting.
    static func serviceOrder(_ services: [ServiceStatus]) -> [Int] {
        let keys = services.map(\.config.key)
        return keys.withUnsafeBufferPointer { k in mergeSortedPositions(keys.count) { compare(k[$0], k[$1]) } }
    }

    static func destinationOrder(_ destinations: [DestinationStatus]) -> [Int] {
        guard destinations.count > 1 else { return Array(destinations.indices) }
        return destinations.withUnsafeBufferPointer { d in
            mergeSortedPositions(d.count) { compare(d[$0].config, d[$1].config) }
        }
    }

    /// `mergeSorted` of the positions 0..<count, comparing the elements at them: the same
    /// splits and the same merge rule, so the same order, with one scratch buffer.
    static func mergeSortedPositions(_ count: Int, by compare: (Int, Int) -> Int32) -> [Int] {
        var positions = Array(0..<count)
        guard count > 1 else { return positions }
        var scratch = [Int](repeating: 0, count: count)
        positions.withUnsafeMutableBufferPointer { p in
            scratch.withUnsafeMutableBufferPointer { t in
                sortRange(p, t, 0, count, compare)
            }
        }
        return positions
    }

    /// Sorts p[lo..<hi] (glibc's `msort_with_tmp`: first half n / 2, ties keep the left).
    private static func sortRange(_ p: UnsafeMutableBufferPointer<Int>, _ t: UnsafeMutableBufferPointer<Int>,
                                  _ lo: Int, _ hi: Int, _ compare: (Int, Int) -> Int32) {
        let n = hi - lo
        guard n > 1 else { return }
        let mid = lo + n / 2
        sortRange(p, t, lo, mid, compare)
        sortRange(p, t, mid, hi, compare)
        var i = lo
        var j = mid
        var k = lo
        while i < mid && j < hi {
            if compare(p[i], p[j]) <= 0 {
                t[k] = p[i]
                i += 1
            } else {
                t[k] = p[j]
                j += 1
            }
            k += 1
        }
        while i < mid {
            t[k] = p[i]
            i += 1
            k += 1
        }
        while j < hi {
            t[k] = p[j]
            j += 1
            k += 1
        }
        for m in lo..<hi { p[m] = t[m] }
    }

    /// The C expression `(int)(a - b)` on two `uint32_t`s.
    private static func wrappedDifference(_ a: IPv4Address, _ b: IPv4Address) -> Int32 {
        Int32(bitPattern: a.value &- b.value)
    }

    /// A top-down merge sort with glibc's split (`n1 = n / 2`) and merge rule (take the left
    /// element while `compare(left, right) <= 0`), so that a non-transitive comparator gives the
    /// same order as ipvsadm's `qsort`.
    static func mergeSorted<Element>(_ items: [Element], by compare: (Element, Element) -> Int32) -> [Element] {
        guard items.count > 1 else { return items }
        let half = items.count / 2
        let left = mergeSorted(Array(items[..<half]), by: compare)
        let right = mergeSorted(Array(items[half...]), by: compare)
        var merged: [Element] = []
        merged.reserveCapacity(items.count)
        var i = 0
        var j = 0
        while i < left.count && j < right.count {
            if compare(left[i], right[j]) <= 0 {
                merged.append(left[i])
                i += 1
            } else {
                merged.append(right[j])
                j += 1
            }
        }
        merged.append(contentsOf: left[i...])
        merged.append(contentsOf: right[j...])
        return merged
    }
}
