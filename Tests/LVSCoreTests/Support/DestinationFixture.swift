import LVSCore

/// Owns a flat `Destination` buffer, as the engine does, and keeps a service's list in kernel
/// order: `add` inserts at the head (`list_add_rcu`, IPVS-SEMANTICS.md §1.1), so adding A, B, C
/// gives the list C, B, A. Destinations are named by a letter for readable expectations.
final class DestinationFixture {
    let slots: UnsafeMutablePointer<Destination>
    let capacity: Int
    private(set) var used = 0
    private(set) var names: [String] = []
    /// Slot indices in kernel list order (position 0 = head).
    private(set) var order: [Int32] = []

    init(capacity: Int = 16) {
        self.capacity = capacity
        slots = .allocate(capacity: capacity)
    }

    /// A fixture with `weights` added in the given order (so the list is their reverse).
    convenience init(_ weights: KeyValuePairs<String, Int32>) {
        self.init()
        for (name, weight) in weights { _ = add(name, weight: weight) }
    }

    deinit {
        slots.deinitialize(count: used)
        slots.deallocate()
    }

    var list: DestinationList { DestinationList(slots: slots, order: order) }

    /// Adds a destination at the head of the list and returns its slot.
    @discardableResult
    func add(_ name: String, weight: Int32) -> Int32 {
        precondition(used < capacity)
        let slot = Int32(used)
        // 10.0.1.1 ... 10.0.1.250, then 10.0.2.1 ..., so that large services get distinct addresses.
        let address = IPv4Address(10, 0, UInt8(1 + used / 250), UInt8(used % 250 + 1))
        (slots + used).initialize(to: Destination(address: address, port: 80, weight: weight))
        used += 1
        names.append(name)
        order.insert(slot, at: 0)
        return slot
    }

    /// Unlinks `name` from the list and returns the position it had.
    func remove(_ name: String) -> Int {
        let position = position(of: name)
        order.remove(at: position)
        return position
    }

    func position(of name: String) -> Int {
        order.firstIndex { names[Int($0)] == name }!
    }

    func slot(_ name: String) -> Int32 { Int32(names.firstIndex(of: name)!) }

    func setWeight(_ name: String, _ weight: Int32) { slots[Int(slot(name))].weight = weight }
    func setOverloaded(_ name: String, _ overloaded: Bool) { slots[Int(slot(name))].isOverloaded = overloaded }

    /// The names of the list, head first.
    var listNames: [String] { order.map { names[Int($0)] } }

    /// The name at a position a scheduler returned, or "-" for nil.
    func name(at position: Int?) -> String {
        guard let position else { return "-" }
        return names[Int(order[position])]
    }

    static let context = SchedulingContext(clientAddress: IPv4Address(192, 0, 2, 1), clientPort: 1000,
                                           virtualAddress: IPv4Address(10, 0, 0, 100), virtualPort: 80)

    /// Runs `count` schedules and returns the names picked.
    func picks<S: Scheduler>(_ scheduler: inout S, _ count: Int) -> [String] {
        (0..<count).map { _ in name(at: scheduler.schedule(list, context: Self.context)) }
    }
}

/// "A B C" → ["A", "B", "C"], so that golden sequences read like the comments that derive them.
func seq(_ text: String) -> [String] { text.split(separator: " ").map(String.init) }
