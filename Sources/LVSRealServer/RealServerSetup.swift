import LVSCore

/// Sets a real server up for direct routing, undoes it, and checks it.
public enum RealServerSetup {}
