import LVSCore

/// Connection counts and random draws, for the schedulers that read them (lc, wlc, sed, nq, ovf,
/// twos): tests set the counts a pick sees, or let each pick open a connection on its server.
extension DestinationFixture {
    /// Sets a server's active and inactive connection counts (what `overhead` is made of).
    func setConnections(_ name: String, active: Int32, inactive: Int32 = 0) {
        slots[Int(slot(name))].activeConnections = active
        slots[Int(slot(name))].inactiveConnections = inactive
    }

    func activeConnections(_ name: String) -> Int32 { slots[Int(slot(name))].activeConnections }

    /// Runs `count` schedules; each pick opens one active connection on the server it chose
    /// (as if its SYN reached ESTABLISHED before the next one), so the counts evolve as they
    /// would under load. Returns the names picked, "-" for nil.
    func picksOpening<S: Scheduler>(_ scheduler: inout S, _ count: Int) -> [String] {
        (0..<count).map { _ in
            let position = scheduler.schedule(list, context: Self.context)
            if let position { slots[Int(order[position])].activeConnections += 1 }
            return name(at: position)
        }
    }

    /// One schedule with the two random draws of `SchedulingContext.random` set to `random`.
    func pick<S: Scheduler>(_ scheduler: inout S, random: (UInt32, UInt32)) -> String {
        var context = Self.context
        context.random = random
        return name(at: scheduler.schedule(list, context: context))
    }
}
