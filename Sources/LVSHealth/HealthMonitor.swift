import LVSConfig
import LVSCore

/// Runs the checkers of a `HealthConfiguration` and reports weight and membership changes.
public enum HealthMonitorPlaceholder {}
