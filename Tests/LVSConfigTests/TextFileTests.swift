import Testing
import LVSConfig

@Suite struct TextFileTests {
    // The whole file comes back, also past the 64 KiB read chunk.
    @Test func readsWholeFile() throws {
        let line = "-a -t 10.0.0.100:80 -r 10.0.0.11\n"
        let text = String(repeating: line, count: 3000)   // ≈ 100 KB
        let file = TemporaryFile(text)
        #expect(try readTextFile(file.path) == text)
    }

    // An invalid UTF-8 byte is replaced (U+FFFD), not a reason to refuse the file.
    @Test func invalidUTF8Replaced() throws {
        let file = TemporaryFile([0x23, 0x20, 0xFF, 0x0A, 0x41])   // "# \xFF\nA"
        #expect(try readTextFile(file.path) == "# \u{FFFD}\nA")
    }

    // A missing file names the path and the system's reason.
    @Test func missingFile() {
        do {
            _ = try readTextFile("/nonexistent/file")
            Issue.record("read a missing file")
        } catch {
            #expect(error.path == "/nonexistent/file")
            #expect(error.reason == "No such file or directory")
            #expect(error.description == "/nonexistent/file: cannot read: No such file or directory")
        }
    }
}
