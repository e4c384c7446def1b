/// Reads one HTTP response as it arrives: the head up to the blank line, then the body into an
/// MD5 (never kept in memory), up to Content-Length or the end of the connection.
struct HTTPResponseReader {
    enum Progress: Equatable {
        case needMore
        /// The answer is complete enough to judge: its status, and the body's MD5 if wanted.
        case done(status: Int, digest: String?)
        case malformed(String)
    }

    static let maximumHead = 64 * 1024

    let wantsDigest: Bool
    var head: [UInt8] = []
    var status: Int?
    var contentLength: Int?
    var bodyRead = 0
    var md5 = MD5()

    init(wantsDigest: Bool) { self.wantsDigest = wantsDigest }

    mutating func consume(_ bytes: UnsafeRawBufferPointer) -> Progress {
        var body = bytes[...]
        if status == nil {
            let before = head.count
            head.append(contentsOf: bytes)
            guard let end = Self.endOfHead(head, searchFrom: max(0, before - 3)) else {
                return head.count > Self.maximumHead ? .malformed("response head larger than 64 KiB") : .needMore
            }
            switch parseHead(head[..<end]) {
            case .malformed(let reason): return .malformed(reason)
            default: break
            }
            let usedFromThisRead = end + 4 - before
            body = bytes[(bytes.startIndex + usedFromThisRead)...]
            head = []
            if !wantsDigest { return .done(status: status ?? 0, digest: nil) }
        }
        if !body.isEmpty {
            var slice = body
            if let length = contentLength, bodyRead + slice.count > length {
                slice = slice.prefix(length - bodyRead)
            }
            md5.update(UnsafeRawBufferPointer(rebasing: slice))
            bodyRead += slice.count
        }
        if let length = contentLength, bodyRead >= length { return finished() }
        return .needMore
    }

    /// The connection ended: a response without Content-Length ends here (HTTP/1.0).
    mutating func endOfStream() -> Progress {
        guard status != nil else { return .malformed("connection closed before the response head") }
        if let length = contentLength, bodyRead < length {
            return .malformed("connection closed after \(bodyRead) of \(length) body bytes")
        }
        return finished()
    }

    mutating func finished() -> Progress {
        .done(status: status ?? 0, digest: wantsDigest ? md5.finalize() : nil)
    }

    static func endOfHead(_ bytes: [UInt8], searchFrom start: Int) -> Int? {
        guard bytes.count >= 4 else { return nil }
        var i = start
        while i + 3 < bytes.count {
            if bytes[i] == 13 && bytes[i + 1] == 10 && bytes[i + 2] == 13 && bytes[i + 3] == 10 { return i }
            i += 1
        }
        return nil
    }

    mutating func parseHead(_ bytes: ArraySlice<UInt8>) -> Progress {
        let text = String(decoding: bytes, as: UTF8.self)
        let lines = text.split(separator: "\r\n", omittingEmptySubsequences: false)
        guard let first = lines.first else { return .malformed("empty response") }
        let fields = first.split(separator: " ", maxSplits: 2)
        guard fields.count >= 2, fields[0].hasPrefix("HTTP/"), let code = Int(fields[1]), (100...999).contains(code) else {
            return .malformed("bad status line '\(first.prefix(80))'")
        }
        status = code
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = line[..<colon].lowercased()
            let value = line[line.index(after: colon)...].trimmingSpaces
            if name == "content-length" {
                guard let n = Int(value), n >= 0 else { return .malformed("bad Content-Length '\(value)'") }
                contentLength = n
            }
        }
        return .needMore
    }
}

extension Substring {
    var trimmingSpaces: Substring {
        var s = self
        while let f = s.first, f == " " || f == "\t" { s.removeFirst() }
        while let l = s.last, l == " " || l == "\t" { s.removeLast() }
        return s
    }
}
