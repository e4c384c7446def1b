/// The two DNS messages DNS_CHECK needs (RFC 1035 §4): a one-question query, and the checks a
/// response must pass to count as an answer to it.
enum DNSMessage {
    /// The record types keepalived's DNS_CHECK accepts, with their codes.
    static let types: [String: UInt16] = ["A": 1, "NS": 2, "CNAME": 5, "SOA": 6, "PTR": 12, "MX": 15, "TXT": 16, "AAAA": 28]

    /// A query for `name`/`type` (class IN, recursion desired), or nil for a name that cannot be
    /// encoded (a label over 63 bytes, an empty label, more than 255 bytes).
    static func query(id: UInt16, name: String, type: UInt16) -> [UInt8]? {
        var m: [UInt8] = [UInt8(id >> 8), UInt8(id & 0xff), 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]
        var trimmed = Substring(name)
        if trimmed.hasSuffix(".") { trimmed = trimmed.dropLast() }
        if !trimmed.isEmpty {
            for label in trimmed.split(separator: ".", omittingEmptySubsequences: false) {
                let bytes = Array(label.utf8)
                guard !bytes.isEmpty, bytes.count <= 63 else { return nil }
                m.append(UInt8(bytes.count))
                m += bytes
            }
        }
        m.append(0)
        guard m.count - 12 <= 255 else { return nil }
        m += [UInt8(type >> 8), UInt8(type & 0xff), 0, 1]
        return m
    }

    enum Verdict: Equatable {
        /// Not a response to this query (another id, or a query): keep waiting.
        case notOurs
        case answer
        case bad(String)
    }

    static let rcodeNames = [1: "FORMERR", 2: "SERVFAIL", 3: "NXDOMAIN", 4: "NOTIMP", 5: "REFUSED"]

    /// Whether `response` is a well-formed answer to query `id`: the id, the QR bit, a question
    /// section that parses, and rcode NOERROR (an empty answer section is fine: the server
    /// answered).
    static func verdict(_ response: UnsafeRawBufferPointer, id: UInt16) -> Verdict {
        guard response.count >= 12 else { return .notOurs }
        let rid = UInt16(response[0]) << 8 | UInt16(response[1])
        guard rid == id, response[2] & 0x80 != 0 else { return .notOurs }
        let rcode = Int(response[3] & 0x0f)
        let questions = Int(response[4]) << 8 | Int(response[5])
        var offset = 12
        for _ in 0..<questions {
            guard let end = skipName(response, from: offset), end + 4 <= response.count else {
                return .bad("malformed response (question section)")
            }
            offset = end + 4
        }
        guard rcode == 0 else { return .bad("response code \(rcodeNames[rcode] ?? String(rcode))") }
        return .answer
    }

    /// The offset after a (possibly compressed) name, or nil if it runs off the message.
    static func skipName(_ m: UnsafeRawBufferPointer, from start: Int) -> Int? {
        var i = start
        var steps = 0
        while i < m.count && steps < 128 {
            let length = Int(m[i])
            if length == 0 { return i + 1 }
            if length & 0xc0 == 0xc0 { return i + 2 <= m.count ? i + 2 : nil }
            guard length & 0xc0 == 0 else { return nil }
            i += 1 + length
            steps += 1
        }
        return nil
    }
}
