import LVSConfig

/// Reads the hand-written expected listings in `Golden/`, next to this test target's sources.
/// The path comes from `#filePath`, so no bundle resources are needed.
enum Golden {
    static func text(_ name: String) throws -> String {
        try readTextFile(directory + name)
    }

    static var directory: String {
        let supportFile = #filePath
        // .../Tests/LVSAdminTests/Support/Golden.swift -> .../Tests/LVSAdminTests/Golden/
        var parts = supportFile.split(separator: "/", omittingEmptySubsequences: false)
        parts.removeLast(2)
        return parts.joined(separator: "/") + "/Golden/"
    }
}
