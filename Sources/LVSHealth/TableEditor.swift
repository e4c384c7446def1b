import LVSConfig
import LVSCore

/// How the health monitor changes the director's table: the same table commands lvsadm sends
/// (`-e ... -w 0`, `-d`, `-a`), applied atomically by whoever owns the table (lvsd's
/// `TableController`), so health changes and admin commands never race.
public protocol TableEditor: Sendable {
    /// Applies `commands` all or nothing; returns the refusal, or nil when they took effect.
    func apply(_ commands: [IpvsadmCommand]) -> IpvsadmError?
    /// The table as it is now (what `-S` would save).
    func currentTable() -> DirectorConfiguration
}
