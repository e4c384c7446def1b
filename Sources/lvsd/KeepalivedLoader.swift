import LVSConfig

/// The seam between lvsd and the keepalived.conf reader, so that start-up and SIGHUP read the
/// file the same way.
enum KeepalivedLoader {
    static let load: @Sendable (String) throws(ConfigurationError) -> KeepalivedConfiguration = { path throws(ConfigurationError) in
        try KeepalivedConfigReader().load(path: path)
    }
}
