import Testing
import LVSCore
import LVSConfig

@Suite struct StaticNeighborsTests {
    // /etc/ethers lines `MAC IPv4`, with `#` comments (whole-line or trailing), blank lines,
    // tabs, dash separators and CRLF endings.
    @Test func parsesValidLines() throws {
        let table = try StaticNeighbors.parse("""
            # real servers
            02:00:00:00:01:01 10.0.1.1\r

            02-00-00-00-01-02\t10.0.1.2   # rack 2
               02:00:00:00:01:03    10.0.1.3
            """, file: "ethers")
        #expect(table == [
            IPv4Address(10, 0, 1, 1): MACAddress(value: 0x0200_0000_0101),
            IPv4Address(10, 0, 1, 2): MACAddress(value: 0x0200_0000_0102),
            IPv4Address(10, 0, 1, 3): MACAddress(value: 0x0200_0000_0103),
        ])
        #expect(try StaticNeighbors.parse("", file: "ethers").isEmpty)
    }

    /// Expects `text` to fail at `line` with `fragment` in the message and `FILE:LINE:` in the description.
    func expectFailure(_ text: String, line: Int, _ fragment: String, sourceLocation: SourceLocation = #_sourceLocation) {
        do {
            _ = try StaticNeighbors.parse(text, file: "ethers")
            Issue.record("parsed without error: \(text)", sourceLocation: sourceLocation)
        } catch {
            #expect(error.line == line, "\(error)", sourceLocation: sourceLocation)
            #expect(error.message.contains(fragment), "\(error.message)", sourceLocation: sourceLocation)
            #expect(error.description.hasPrefix("ethers:\(line): "), sourceLocation: sourceLocation)
        }
    }

    // Errors name the line (counting comments and blank lines) and what was expected.
    @Test func errorsCarryLineNumbers() {
        expectFailure("# x\n\n02:00:00:00:01:01\n", line: 3, "expected `MAC IPv4-address`, got 1 fields")
        expectFailure("02:00:00:00:01:01 10.0.1.1 extra\n", line: 1, "got 3 fields")
        expectFailure("02:00:00:00:01:01 10.0.1.1\nzz:00:00:00:01:01 10.0.1.2\n", line: 2, "is not a unicast MAC address")
        expectFailure("01:00:5e:00:00:01 10.0.1.1\n", line: 1, "is not a unicast MAC address")
        expectFailure("00:00:00:00:00:00 10.0.1.1\n", line: 1, "is not a unicast MAC address")
        expectFailure("02:00:00:00:01:01 rs1.example\n", line: 1, "is not an IPv4 address")
        expectFailure("02:00:00:00:01:01 10.0.1\n", line: 1, "is not an IPv4 address")
    }

    // load(path:) reads the file; a missing one is reported at line 0.
    @Test func loadFromFile() throws {
        let file = TemporaryFile("02:00:00:00:01:01 10.0.1.1\n")
        #expect(try StaticNeighbors.load(path: file.path) == [IPv4Address(10, 0, 1, 1): MACAddress(value: 0x0200_0000_0101)])
        do {
            _ = try StaticNeighbors.load(path: "/nonexistent/ethers")
            Issue.record("a missing file loaded")
        } catch {
            #expect(error.line == 0)
            #expect(error.file == "/nonexistent/ethers")
        }
    }
}
