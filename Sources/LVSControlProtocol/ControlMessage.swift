import LVSConfig
import LVSCore

/// The control socket's wire format between lvsd and lvsadm.
public enum ControlProtocol {
    /// Bumped whenever a message's layout changes; each side refuses another version by name.
    public static let version = 1
}
