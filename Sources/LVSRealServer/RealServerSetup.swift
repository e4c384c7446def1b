import Foundation

/// apply, revert and check: observe the host, plan, carry the plan out, keep the state file.
public struct RealServerSetup<Host: HostControl> {
    public var host: Host
    public var store: StateStore
    /// Where --persist writes (and where revert looks for the state copy after a reboot).
    public var layout: PersistenceLayout

    public init(host: Host, store: StateStore = StateStore(), layout: PersistenceLayout = PersistenceLayout()) {
        self.host = host
        self.store = store
        self.layout = layout
    }

    public struct ApplyReport: Sendable {
        /// The changes made, in order.
        public var performed: [HostAction]
        /// True when the same configuration was applied before and nothing needed redoing.
        public var alreadyApplied: Bool
    }

    public struct RevertReport: Sendable {
        public var performed: [HostAction]
        /// Why some recorded changes were left alone.
        public var notes: [String]
        /// True when there was no state file: nothing had been applied.
        public var nothingApplied: Bool
    }

    /// The recorded state: the state directory's, or the copy --persist left below the
    /// persistence root (the /run one is gone after a reboot).
    public func loadState() throws -> AppliedState? {
        if let state = try store.load() { return state }
        return try StateStore.load(layout.hostPath(PersistenceLayout.stateCopy))
    }

    /// The steps apply would take (for --dry-run), without changing anything.
    public func plan(_ config: RealServerConfiguration) throws -> [PlannedStep] {
        if let existing = try loadState(), existing.configuration != config {
            throw Self.alreadyApplied(existing, store: store)
        }
        let state = try host.observe(paths: observedPaths(layout))
        return try SetupPlanner.planApply(config, host: state, layout: layout)
    }

    /// Establishes `config`. Applying the same configuration again redoes only what has been
    /// undone behind our back (usually nothing); a different one is refused until revert.
    /// If a step fails, the steps already taken are undone and the host is as before.
    public func apply(_ config: RealServerConfiguration) throws -> ApplyReport {
        let existing = try loadState()
        if let existing, existing.configuration != config {
            throw Self.alreadyApplied(existing, store: store)
        }
        let state = try host.observe(paths: observedPaths(layout))
        let steps = try SetupPlanner.planApply(config, host: state, layout: layout)
        var record = existing ?? AppliedState(configuration: config, persistRoot: config.persist ? layout.root : nil)
        if steps.isEmpty {
            if existing == nil { try save(record) }
            return ApplyReport(performed: [], alreadyApplied: existing != nil)
        }
        var performed: [HostAction] = []
        var undone: [HostAction] = []
        for step in steps {
            if let action = step.action {
                do {
                    try host.perform(action)
                } catch {
                    let rollbackProblems = rollBack(undone)
                    if let existing { try? save(existing) } else { try? removeState(record) }
                    var message = "\((error as? RealServerError)?.message ?? "\(error)") -- while: \(action)"
                    message += rollbackProblems.isEmpty ? "\nthe \(performed.count) change(s) made before it were undone; the host is as it was"
                        : "\nundoing the changes made before it failed too:\n  " + rollbackProblems.joined(separator: "\n  ")
                    throw RealServerError((error as? RealServerError)?.code ?? .commandFailed, message,
                                          remedy: (error as? RealServerError)?.remedy)
                }
                performed.append(action)
            }
            if let undo = step.undo {
                undone.append(undo)
                if !record.undo.contains(undo) { record.undo.append(undo) }
            }
            try save(record)
        }
        return ApplyReport(performed: performed, alreadyApplied: false)
    }

    /// Undoes what apply recorded, newest first, leaving alone what was changed since.
    public func revert(dryRun: Bool = false) throws -> RevertReport {
        guard var record = try loadState() else {
            return RevertReport(performed: [], notes: [], nothingApplied: true)
        }
        let recordLayout = record.persistRoot.map { PersistenceLayout(root: $0) } ?? layout
        let state = try host.observe(paths: observedPaths(recordLayout))
        let (actions, notes) = SetupPlanner.planRevert(record.undo, host: state)
        if dryRun { return RevertReport(performed: actions, notes: notes, nothingApplied: false) }
        // The state copy lives in a directory apply created: remove it first, so that
        // directory can go too. Written back if a step fails.
        if record.persistRoot != nil { try StateStore.remove(recordLayout.hostPath(PersistenceLayout.stateCopy)) }
        var performed: [HostAction] = []
        for action in actions {
            do {
                try host.perform(action)
            } catch {
                // Keep what is left to undo, so a second revert can finish the job.
                for done in performed {
                    if let i = record.undo.firstIndex(of: done) { record.undo.remove(at: i) }
                }
                try? save(record)
                throw RealServerError((error as? RealServerError)?.code ?? .commandFailed,
                                      "\((error as? RealServerError)?.message ?? "\(error)") -- while: \(action)\n\(performed.count) change(s) were undone before it; the state file keeps the rest: run revert again once fixed",
                                      remedy: (error as? RealServerError)?.remedy)
            }
            performed.append(action)
        }
        try store.remove()
        return RevertReport(performed: performed, notes: notes, nothingApplied: false)
    }

    /// The findings of `check` for this host as it is now.
    public func check(_ config: CheckConfiguration) throws -> [Finding] {
        RealServerCheck.run(config, host: try host.observe(paths: []))
    }

    // MARK: -

    func observedPaths(_ layout: PersistenceLayout) -> [String] {
        [layout.root] + PersistenceLayout.observedPaths.map { layout.hostPath($0) }
    }

    /// Writes the state file, and its copy below the persistence root once its directory exists.
    func save(_ record: AppliedState) throws {
        try store.save(record)
        if let root = record.persistRoot {
            let copy = PersistenceLayout(root: root).hostPath(PersistenceLayout.stateCopy)
            if FileManager.default.fileExists(atPath: (copy as NSString).deletingLastPathComponent) {
                try StateStore.write(record, to: copy)
            }
        }
    }

    func removeState(_ record: AppliedState) throws {
        try store.remove()
        if let root = record.persistRoot {
            try StateStore.remove(PersistenceLayout(root: root).hostPath(PersistenceLayout.stateCopy))
        }
    }

    /// Undoes `undo` newest first, best effort; returns what could not be undone.
    func rollBack(_ undo: [HostAction]) -> [String] {
        var problems: [String] = []
        for action in undo.reversed() {
            if case .dropTableIfPristine = action {
                // Only when the table is really back to what the tool created.
                guard let state = try? host.observe(paths: []) else { continue }
                if SetupPlanner.planRevert([action], host: state).actions.isEmpty { continue }
            }
            do { try host.perform(action) } catch { problems.append("\(action): \(error)") }
        }
        return problems
    }

    static func alreadyApplied(_ existing: AppliedState, store: StateStore) -> RealServerError {
        RealServerError(.conflict, "another setup is applied (\(existing.configuration.summary); state in \(store.path)); nothing was changed",
                        remedy: "run `lvs-realserver revert` first, or apply the same options again")
    }
}
