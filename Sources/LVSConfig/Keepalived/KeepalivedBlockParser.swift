/// A keepalived.conf statement: a keyword, the values on its line and, if it opens one, its
/// block, with the place it was written.
struct KeepalivedStatement: Equatable {
    var keyword: String
    var values: [String]
    var block: [KeepalivedStatement]?
    var file: String
    var line: Int

    init(keyword: String, values: [String] = [], block: [KeepalivedStatement]? = nil, file: String, line: Int) {
        self.keyword = keyword
        self.values = values
        self.block = block
        self.file = file
        self.line = line
    }

    /// `keyword value...` as written, for messages.
    var spelling: String { ([keyword] + values).joined(separator: " ") }
}

/// Builds the tree of statements from lexed lines. keepalived.conf is line-oriented: a
/// statement is a keyword and the values that follow it on its line, up to a brace. A `{`
/// (on the same line, or first on the next one) opens the statement's block, which a `}` ends;
/// words after a brace start a new statement, so `url { path / }` fits on one line.
///
/// What the parser cannot make sense of is an error at its place: a `}` with no open block,
/// a `{` with no keyword before it, and a block still open at the end of the input (reported
/// at the line that opened it).
enum KeepalivedBlockParser {
    private struct Word {
        var token: KeepalivedToken
        var file: String
        var line: Int
        var startsLine: Bool
    }

    static func parse(_ lines: [KeepalivedLine]) throws(ConfigurationError) -> [KeepalivedStatement] {
        var words: [Word] = []
        for line in lines {
            for (index, token) in line.tokens.enumerated() {
                words.append(Word(token: token, file: line.file, line: line.number, startsLine: index == 0))
            }
        }
        var position = 0
        return try parseBlock(words, &position, opener: nil)
    }

    private static func parseBlock(_ words: [Word], _ position: inout Int,
                                   opener: KeepalivedStatement?) throws(ConfigurationError) -> [KeepalivedStatement] {
        var statements: [KeepalivedStatement] = []
        while position < words.count {
            let first = words[position]
            if first.token.isCloseBrace {
                guard opener != nil else {
                    throw ConfigurationError(file: first.file, line: first.line,
                                             message: "unexpected '}': no block is open here (one '}' too many?)")
                }
                position += 1
                return statements
            }
            if first.token.isOpenBrace {
                throw ConfigurationError(file: first.file, line: first.line,
                                         message: "'{' without a keyword before it: a block opens after a keyword such as virtual_server or real_server")
            }
            var statement = KeepalivedStatement(keyword: first.token.text, file: first.file, line: first.line)
            position += 1
            while position < words.count, !words[position].startsLine,
                  !words[position].token.isOpenBrace, !words[position].token.isCloseBrace {
                statement.values.append(words[position].token.text)
                position += 1
            }
            if position < words.count, words[position].token.isOpenBrace {
                position += 1
                statement.block = try parseBlock(words, &position, opener: statement)
            }
            statements.append(statement)
        }
        if let opener {
            throw ConfigurationError(file: opener.file, line: opener.line,
                                     message: "missing '}': the block of '\(opener.spelling)' opened here is not closed before the end of the configuration")
        }
        return statements
    }
}
