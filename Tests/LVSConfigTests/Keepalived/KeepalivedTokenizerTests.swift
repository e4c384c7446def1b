import Testing
@testable import LVSConfig

/// keepalived.conf lexing and block structure (keepalived.conf(5) "DESCRIPTION", "Quoted strings").
@Suite struct KeepalivedTokenizerTests {
    func words(_ line: String) throws -> [String] {
        try KeepalivedTokenizer.tokenize(line: Substring(line), file: "t.conf", number: 1).map(\.text)
    }

    @Test func commentsStartAnywhereWithHashOrBang() throws {
        #expect(try words("weight 2 # the rest ! is gone") == ["weight", "2"])
        #expect(try words("weight 2! no space needed") == ["weight", "2"])
        #expect(try words("   ! a whole comment line") == [])
        #expect(try words("path /index.html#frag") == ["path", "/index.html"])
    }

    @Test func bracesAreWordsOfTheirOwn() throws {
        #expect(try words("real_server 10.0.0.1 80{") == ["real_server", "10.0.0.1", "80", "{"])
        #expect(try words("url{path /}") == ["url", "{", "path", "/", "}"])
        #expect(try words("}}") == ["}", "}"])
    }

    @Test func tabsCarriageReturnsAndOtherSpacesSeparate() throws {
        #expect(try words("\tweight\t\t3\r") == ["weight", "3"])
        #expect(try words("a\u{0B}b\u{0C}c") == ["a", "b", "c"])
    }

    @Test func quotesKeepSpacesAndMayJoinAWord() throws {
        #expect(try words(#"misc_path "/bin/check -x 'a b'" user"#) == ["misc_path", "/bin/check -x 'a b'", "user"])
        #expect(try words(#"x 'abcd" efg h jkl "mnop'"#) == ["x", #"abcd" efg h jkl "mnop"#])
        #expect(try words(#"x abcd" efg h "mnop"#) == ["x", "abcd efg h mnop"])
        #expect(try words(#"x "a # b ! c""#) == ["x", "a # b ! c"])
        #expect(try words(#"x "{" '}'"#) == ["x", "{", "}"])
        let tokens = try KeepalivedTokenizer.tokenize(line: #"x "{" {"#, file: "t.conf", number: 1)
        #expect(tokens.map(\.isOpenBrace) == [false, false, true])
    }

    @Test func escapesInsideQuotes() throws {
        #expect(try words(#"x "a\tb\n\x41\101\cA\\\"\'z""#) == ["x", "a\tb\nAA\u{01}\\\"'z"])
        #expect(try words(#"x "\E\a\b\f\r\v\q""#) == ["x", "\u{1B}\u{07}\u{08}\u{0C}\r\u{0B}q"])
        // Outside quotes a backslash is an ordinary character.
        #expect(try words(#"x a\tb"#) == ["x", #"a\tb"#])
    }

    @Test func unterminatedQuoteIsAnErrorAtItsLine() {
        #expect(throws: ConfigurationError(file: "t.conf", line: 3, message: "unterminated quoted string: add the closing \" on this line")) {
            _ = try KeepalivedTokenizer.tokenize("a\nb\nnotify_up \"/bin/x arg\n", file: "t.conf")
        }
    }

    @Test func linesKeepTheirNumbersAcrossBlankLinesCRLFAndNoFinalNewline() throws {
        let lines = try KeepalivedTokenizer.tokenize("global_defs {\r\n\r\n  router_id é # commentaire déjà\r\n}", file: "t.conf")
        #expect(lines.map(\.number) == [1, 3, 4])
        #expect(lines[1].tokens.map(\.text) == ["router_id", "é"])
    }

    // MARK: - Blocks

    func statements(_ text: String) throws -> [KeepalivedStatement] {
        try KeepalivedBlockParser.parse(KeepalivedTokenizer.tokenize(text, file: "t.conf"))
    }

    @Test func blocksNestAndMayOpenOnTheNextLine() throws {
        let tree = try statements("""
            virtual_server 10.0.0.1 80
            {
                real_server 10.0.0.2 80 { weight 2 }
                url { path / } weight 3
            }
            """)
        #expect(tree == [
            KeepalivedStatement(keyword: "virtual_server", values: ["10.0.0.1", "80"], block: [
                KeepalivedStatement(keyword: "real_server", values: ["10.0.0.2", "80"], block: [
                    KeepalivedStatement(keyword: "weight", values: ["2"], file: "t.conf", line: 3),
                ], file: "t.conf", line: 3),
                KeepalivedStatement(keyword: "url", block: [
                    KeepalivedStatement(keyword: "path", values: ["/"], file: "t.conf", line: 4),
                ], file: "t.conf", line: 4),
                KeepalivedStatement(keyword: "weight", values: ["3"], file: "t.conf", line: 4),
            ], file: "t.conf", line: 1),
        ])
    }

    @Test func unbalancedBracesAreErrorsAtTheirPlace() {
        // The '}' on line 4 closes real_server: virtual_server is the block left open.
        #expect(throws: ConfigurationError(file: "t.conf", line: 1, message: "missing '}': the block of 'virtual_server 10.0.0.1 80' opened here is not closed before the end of the configuration")) {
            _ = try statements("virtual_server 10.0.0.1 80 {\n  real_server 10.0.0.2 80 {\n    weight 1\n}\n")
        }
        #expect(throws: ConfigurationError(file: "t.conf", line: 2, message: "missing '}': the block of 'url' opened here is not closed before the end of the configuration")) {
            _ = try statements("HTTP_GET {\n  url {\n    path /\n")
        }
        #expect(throws: ConfigurationError(file: "t.conf", line: 3, message: "unexpected '}': no block is open here (one '}' too many?)")) {
            _ = try statements("global_defs {\n}\n}\n")
        }
        #expect(throws: ConfigurationError(file: "t.conf", line: 3, message: "'{' without a keyword before it: a block opens after a keyword such as virtual_server or real_server")) {
            _ = try statements("global_defs {\n}\n{\n}")
        }
    }
}
