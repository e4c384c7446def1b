#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Reads a keepalived.conf into lines, replacing each `include` line by the lines of the files
/// it names, as keepalived does before it parses anything:
///
/// - the pattern is relative to the directory of the file that holds the `include` line;
/// - it is a glob (`*`, `?`, `[...]`, and `{a,b}` as csh writes it), its matches read in
///   sorted order; directories among the matches are skipped;
/// - lines keep the file they came from, so an error names the included file and its line.
///
/// Where keepalived's plain `include` says nothing, lvsd is stricter, because a half-read
/// configuration would run a director without some of its services: a pattern without wildcards
/// must name a readable file, and a file that includes itself (directly or not) is refused. A
/// wildcard pattern that matches nothing is a warning (an empty `conf.d/` is normal), and an
/// error for the checking variants `includem`, `includew`, `includeb` and `includea`.
struct KeepalivedIncludes {
    private(set) var warnings: [ConfigurationWarning] = []

    /// Every directive keepalived reads as an include; the value says whether a pattern that
    /// matches nothing is an error.
    static let directives: [String: Bool] = [
        "include": false, "includer": false, "includem": true, "includew": true, "includeb": true, "includea": true,
    ]

    mutating func lines(ofText text: String, file: String) throws(ConfigurationError) -> [KeepalivedLine] {
        try expand(text: text, file: file, stack: [Self.canonicalPath(file) ?? file])
    }

    private mutating func expand(text: String, file: String, stack: [String]) throws(ConfigurationError) -> [KeepalivedLine] {
        var result: [KeepalivedLine] = []
        for (index, raw) in LVSConfig.lines(of: text).enumerated() {
            let tokens = try KeepalivedTokenizer.tokenize(line: raw, file: file, number: index + 1)
            let line = KeepalivedLine(file: file, number: index + 1, tokens: tokens)
            guard let first = tokens.first, !first.quoted, let strict = Self.directives[first.text] else {
                if !tokens.isEmpty { result.append(line) }
                continue
            }
            let words = try KeepalivedTokenizer.tokenize(line: raw, file: file, number: index + 1, bracesAreWords: false)
            let fail = { (message: String) in ConfigurationError(file: line.file, line: line.number, message: message) }
            guard words.count == 2 else {
                throw fail("\(first.text) takes one file name or glob pattern (quote a name that holds spaces)")
            }
            let pattern = Self.resolve(words[1].text, relativeTo: file)
            let matches = try Self.paths(matching: pattern, fail: fail)
            if matches.isEmpty {
                let spelling = "\(first.text) \(words[1].text)"
                guard Self.hasWildcard(pattern) else {
                    throw fail("cannot read the included file \(pattern): no such file")
                }
                guard !strict else {
                    throw fail("\(spelling): no file matches \(pattern), and \(first.text) requires a match")
                }
                warnings.append(ConfigurationWarning(file: line.file, line: line.number,
                                                     message: "\(spelling): no file matches \(pattern)"))
                continue
            }
            for path in matches {
                if Self.isDirectory(path) {
                    warnings.append(ConfigurationWarning(file: line.file, line: line.number,
                                                         message: "\(first.text) \(words[1].text): \(path) is a directory, skipped"))
                    continue
                }
                let canonical = Self.canonicalPath(path) ?? path
                if let loopStart = stack.firstIndex(of: canonical) {
                    let chain = (stack[loopStart...] + [canonical]).joined(separator: " -> ")
                    throw fail("include loop: \(path) is already being read (\(chain))")
                }
                let included: String
                do {
                    included = try readTextFile(path)
                } catch {
                    throw fail("cannot read the included file \(path): \(error.reason)")
                }
                result += try expand(text: included, file: path, stack: stack + [canonical])
            }
        }
        return result
    }

    /// `pattern` as given if absolute, else under the directory of `file`.
    static func resolve(_ pattern: String, relativeTo file: String) -> String {
        if pattern.hasPrefix("/") { return pattern }
        guard let slash = file.lastIndex(of: "/") else { return pattern }
        return String(file[...slash]) + pattern
    }

    static func hasWildcard(_ pattern: String) -> Bool {
        pattern.contains { "*?[{".contains($0) }
    }

    /// The paths `pattern` matches, sorted; empty when nothing matches.
    static func paths(matching pattern: String, fail: (String) -> ConfigurationError) throws(ConfigurationError) -> [String] {
        var matches = glob_t()
        defer { globfree(&matches) }
        let status = glob(pattern, GLOB_BRACE, nil, &matches)
        if status == GLOB_NOMATCH { return [] }
        guard status == 0 else { throw fail("cannot expand the include pattern \(pattern) (glob error \(status))") }
        return (0..<Int(matches.gl_pathc)).compactMap { matches.gl_pathv[$0].map { String(cString: $0) } }
    }

    static func isDirectory(_ path: String) -> Bool {
        var info = stat()
        return stat(path, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR
    }

    static func canonicalPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
