import Foundation

/// What `apply` did, kept so `revert` can undo exactly that: the configuration and, in the
/// order they were made, the actions that undo each change.
public struct AppliedState: Codable, Equatable, Sendable {
    public var version: Int
    public var configuration: RealServerConfiguration
    /// The persistence root used, when the setup was persisted.
    public var persistRoot: String?
    public var undo: [HostAction]

    public init(configuration: RealServerConfiguration, persistRoot: String?, undo: [HostAction] = []) {
        version = 1
        self.configuration = configuration
        self.persistRoot = persistRoot
        self.undo = undo
    }

    public func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        do {
            return try encoder.encode(self)
        } catch {
            throw RealServerError(.fileError, "cannot encode the state: \(error)")
        }
    }

    public static func decode(_ data: Data, from path: String) throws -> AppliedState {
        do {
            let state = try JSONDecoder().decode(AppliedState.self, from: data)
            guard state.version == 1 else {
                throw RealServerError(.fileError, "\(path) has state version \(state.version); this lvs-realserver reads version 1",
                                      remedy: "revert with the lvs-realserver that applied it")
            }
            return state
        } catch let error as RealServerError {
            throw error
        } catch {
            throw RealServerError(.fileError, "\(path) is not an lvs-realserver state file: \(error)",
                                  remedy: "move it away if it is not ours; without it revert cannot know what apply changed")
        }
    }
}

/// The state file: `DIRECTORY/state.json` (default /run/lvs-realserver; tests and several
/// setups in one network namespace each use their own --state-dir).
public struct StateStore: Sendable {
    public static let defaultDirectory = "/run/lvs-realserver"

    public var directory: String

    public init(directory: String = StateStore.defaultDirectory) { self.directory = directory }

    public var path: String { directory + "/state.json" }

    public func load() throws -> AppliedState? {
        try Self.load(path)
    }

    static func load(_ path: String) throws -> AppliedState? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw RealServerError(.fileError, "cannot read \(path)", remedy: "run as root")
        }
        return try AppliedState.decode(data, from: path)
    }

    public func save(_ state: AppliedState) throws {
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        } catch {
            throw RealServerError(.fileError, "cannot create the state directory \(directory): \(error.localizedDescription)",
                                  remedy: "run as root, or pass a writable --state-dir")
        }
        try Self.write(state, to: path)
    }

    /// Writes through a temporary file and rename, so a crash never leaves half a state file.
    static func write(_ state: AppliedState, to path: String) throws {
        let temporary = path + ".tmp"
        guard FileManager.default.createFile(atPath: temporary, contents: try state.encoded(),
                                             attributes: [.posixPermissions: 0o600]),
              rename(temporary, path) == 0 else {
            throw RealServerError(.fileError, "cannot write \(path): \(String(cString: strerror(errno)))",
                                  remedy: "run as root, or pass a writable --state-dir")
        }
    }

    public func remove() throws {
        try Self.remove(path)
    }

    static func remove(_ path: String) throws {
        if unlink(path) != 0, errno != ENOENT {
            throw RealServerError(.fileError, "cannot remove \(path): \(String(cString: strerror(errno)))")
        }
    }
}
