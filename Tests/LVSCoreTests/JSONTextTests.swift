import Foundation
import Testing
import LVSCore

/// The stats file's hand-written JSON must parse, whatever text a health check's reply put
/// into it.
@Suite struct JSONTextTests {
    @Test("strings with quotes, backslashes, newlines and control characters round-trip through a JSON parser",
          arguments: ["plain", "say \"hi\"", "C:\\path", "two\nlines\r\n", "tab\there", "bell\u{7}nul\u{0}", "ünï ☃", ""])
    func stringRoundTrip(_ text: String) throws {
        let encoded = "[" + JSONText.string(text) + "]"
        let parsed = try JSONSerialization.jsonObject(with: Data(encoded.utf8)) as? [String]
        #expect(parsed == [text], "\(encoded)")
    }

    @Test("an object keeps its members' order and encodes booleans as JSON's")
    func objectInOrder() throws {
        let text = JSONText.object([("b", "1"), ("a", JSONText.bool(true)), ("c", JSONText.bool(false))])
        #expect(text == "{\"b\": 1, \"a\": true, \"c\": false}")
        let parsed = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
        #expect(parsed?["a"] as? Bool == true)
        #expect(parsed?["c"] as? Bool == false)
    }
}
