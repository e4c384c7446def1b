import LVSCore

extension SyncDaemon {
    /// The stats file's `"sync"` member: the running role and its options (as `lvsadm -L
    /// --daemon` shows them), whether the initial full-table pull is done (a backup that never
    /// completes it will not preempt), and the counters; `null` when no daemon runs.
    public func statusJSON() -> String {
        guard let running else { return "null" }
        let c = counters
        let i = c.imported
        return JSONText.object([
            ("role", JSONText.string(running.role.rawValue)),
            ("interface", JSONText.string(running.interface)),
            ("sync_id", "\(running.syncID)"),
            ("group", JSONText.string(running.group.description)),
            ("port", "\(running.port)"),
            ("initial_sync_complete", JSONText.bool(initialSyncComplete)),
            ("messages_sent", "\(c.messagesSent)"),
            ("records_sent", "\(c.recordsSent)"),
            ("send_errors", "\(c.sendErrors)"),
            ("journal_overflows", "\(c.journalOverflows)"),
            ("messages_received", "\(c.messagesReceived)"),
            ("malformed_messages", "\(c.malformedMessages)"),
            ("other_sync_id", "\(c.otherSyncID)"),
            ("imported", JSONText.object([
                ("added", "\(i.added)"), ("updated", "\(i.updated)"), ("unknown_service", "\(i.unknownService)"),
                ("unknown_real_server", "\(i.unknownDestination)"), ("table_full", "\(i.tableFull)"),
                ("invalid", "\(i.invalid)"),
            ])),
            ("tables_served", "\(c.tablesServed)"),
            ("tables_pulled", "\(c.tablesPulled)"),
        ])
    }
}
