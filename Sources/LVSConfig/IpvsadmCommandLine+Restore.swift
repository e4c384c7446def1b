/// `-R`: commands on standard input, one per line (IPVS-SEMANTICS.md §5.5).
extension IpvsadmCommandLine {
    /// ipvsadm's `config_stream_read` for one line: tokens split on spaces, tabs and CRs, with
    /// every token equal to `ipvsadm` dropped wherever it stands, so that both `-S` output and
    /// `ipvsadm -A ...` lines copied from a script restore. There is no quoting and no inline
    /// comment: a `#` after a command is a stray argument, as it is for ipvsadm.
    public static func tokenizeRestoreLine(_ line: Substring) -> [String] {
        // Bytes, not Characters (grapheme breaking is slow, and every separator is ASCII).
        var tokens: [String] = []
        let utf8 = line.utf8
        var start: Substring.Index?
        var i = utf8.startIndex
        func close(at end: Substring.Index) {
            guard let s = start else { return }
            let token = line[s..<end]
            if token != "ipvsadm" { tokens.append(String(token)) }
            start = nil
        }
        while i != utf8.endIndex {
            switch utf8[i] {
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"), UInt8(ascii: "\n"):
                close(at: i)
            default:
                if start == nil { start = i }
            }
            i = utf8.index(after: i)
        }
        close(at: utf8.endIndex)
        return tokens
    }

    /// Reads a whole `-R` stream before anything is applied: the first bad line stops it, and
    /// its error names the line. Lines whose first non-blank character is `#` are comments (the
    /// `ipvsadm-restore` wrapper drops them before ipvsadm sees them); blank lines, and lines
    /// that held only `ipvsadm`, are skipped.
    ///
    /// A stream holds table commands only (`-A -E -D -C -a -e -d -Z --set`), which the director
    /// applies as one change. ipvsadm would also run `-L`, `-S`, `-h`, `-v` and the daemon
    /// commands in the middle of a restore (printing a listing or usage, or exiting 0 halfway);
    /// none of that has a meaning inside one atomic change, so they are refused (exit 2).
    /// `-R` inside a stream is refused as ipvsadm refuses it: the hint, exit 255.
    public func parseRestore(_ text: String) throws(IpvsadmRestoreError) -> [IpvsadmCommand] {
        try parseRestoreNumbered(text).map(\.command)
    }

    /// `parseRestore`, keeping each command's line number, so that an error the director finds
    /// later (a service that already exists) can name its line too.
    public func parseRestoreNumbered(_ text: String) throws(IpvsadmRestoreError) -> [(line: Int, command: IpvsadmCommand)] {
        try parseRestoreNumbered(text, fastPath: true)
    }

    /// With `fastPath`, lines in the usual shapes are read from the text's bytes by
    /// `fastRestoreLine`, which gives the general parser's answer for every line it takes and
    /// leaves it the rest (comments, blank lines, errors, anything unusual).
    func parseRestoreNumbered(_ text: String, fastPath: Bool) throws(IpvsadmRestoreError) -> [(line: Int, command: IpvsadmCommand)] {
        var commands: [(line: Int, command: IpvsadmCommand)] = []
        // The general reader's lines, made only when a line needs it.
        var generalLines: [Substring]?
        var failure: IpvsadmRestoreError?
        var text = text
        text.withUTF8 { bytes in
            var start = 0
            var index = 0
            let count = bytes.count
            while start <= count {
                var end = start
                while end < count && bytes[end] != UInt8(ascii: "\n") { end += 1 }
                defer {
                    start = end + 1
                    index += 1
                }
                if fastPath {
                    let line = UnsafeBufferPointer(rebasing: bytes[start..<end])
                    if let command = Self.fastRestoreLine(line) {
                        commands.append((index + 1, command))
                        continue
                    }
                    // A blank line (the one after the last line feed, usually) has no tokens.
                    if line.allSatisfy(FastRestoreLine.isSeparator) { continue }
                }
                if generalLines == nil { generalLines = lines(of: String(decoding: bytes, as: UTF8.self)) }
                let rawLine = generalLines![index]
                if rawLine.drop(while: { $0 == " " || $0 == "\t" }).first == "#" { continue }
                let tokens = Self.tokenizeRestoreLine(rawLine)
                if tokens.isEmpty { continue }
                do throws(IpvsadmError) {
                    commands.append((index + 1, try parseRestoreLine(tokens)))
                } catch {
                    failure = IpvsadmRestoreError(line: index + 1, error: error)
                    return
                }
            }
        }
        if let failure { throw failure }
        return commands
    }

    /// One line of a stream, already split.
    func parseRestoreLine(_ tokens: [String]) throws(IpvsadmError) -> IpvsadmCommand {
        let command = try parse(tokens)
        if command.changesTable { return command }
        if command == .restore {
            throw IpvsadmError("", exitCode: 255, suggestsHelp: true, detail: "-R cannot be used inside a restore stream")
        }
        throw IpvsadmError("\(Self.spelling(of: command)) is not allowed in a restore stream: it holds table commands (-A -E -D -C -a -e -d -Z --set)")
    }

    /// How a command not allowed in a stream is named in the refusal.
    public static func spelling(of command: IpvsadmCommand) -> String {
        switch command {
        case .list: "-L"
        case .save: "-S"
        case .restore: "-R"
        case .startDaemon: "--start-daemon"
        case .stopDaemon: "--stop-daemon"
        case .help: "-h"
        case .version: "-v"
        case .addService: "-A"
        case .editService: "-E"
        case .deleteService: "-D"
        case .clear: "-C"
        case .addServer: "-a"
        case .editServer: "-e"
        case .deleteServer: "-d"
        case .zero: "-Z"
        case .setTimeouts: "--set"
        }
    }
}
