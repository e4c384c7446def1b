import LVSCore

/// Reads the keepalived.conf an administrator already runs: the LVS part (virtual servers,
/// their real servers and health checkers) becomes lvsd's table and health configuration, the
/// VRRP instances are kept for director high availability, and everything else is read and
/// set aside. docs/KEEPALIVED.md says what is read, what is skipped and why.
///
/// The reading follows keepalived's: comments, braces, quoting, `include` globs, defaults
/// (NAT forwarding, wlc, UDP when no protocol is set, delay_loop 60 s, ...) and inheritance
/// (virtual server → real server → checker) are keepalived's, and a keyword keepalived would
/// complain about is a warning with its file and line, as keepalived logs it, while reading
/// goes on. What SwiftLVS cannot do (NAT and tunnel forwarding, fwmark and SCTP services, IPv6,
/// SMTP_CHECK) is a warning naming the line and what was skipped, never a silent change of
/// behaviour. A configuration that cannot be understood at all (unbalanced braces, a
/// virtual_server without an address, a bad address or port, an include that cannot be read) is
/// a `ConfigurationError` with its file and line, and nothing of it is used.
public struct KeepalivedConfigReader: Sendable {
    public var serviceNames: ServiceNames
    public var resolveHost: @Sendable (String) -> IPv4Address?

    /// `resolveHost` turns a host name written where keepalived expects an address into one
    /// (keepalived itself accepts numeric addresses only); tests pass a table.
    public init(serviceNames: ServiceNames = .system(),
                resolveHost: @escaping @Sendable (String) -> IPv4Address? = HostResolver.resolveIPv4) {
        self.serviceNames = serviceNames
        self.resolveHost = resolveHost
    }

    /// Reads the file at `path` and the files it includes.
    public func load(path: String) throws(ConfigurationError) -> KeepalivedConfiguration {
        try parse(readConfigurationFile(path, what: "the keepalived configuration"), file: path)
    }

    /// Reads `text` as the content of `file`; relative `include` patterns are taken from the
    /// directory of `file`.
    public func parse(_ text: String, file: String) throws(ConfigurationError) -> KeepalivedConfiguration {
        var includes = KeepalivedIncludes()
        let lines = try includes.lines(ofText: text, file: file)
        let statements = try KeepalivedBlockParser.parse(lines)
        var interpreter = KeepalivedInterpreter(serviceNames: serviceNames, resolveHost: resolveHost)
        interpreter.warnings = includes.warnings
        return try interpreter.run(statements)
    }
}
