#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A directory under /tmp for the readers that follow includes, removed with its content when
/// the value goes away.
final class TemporaryDirectory {
    let path: String
    private var created: [String] = []

    init() {
        var template = Array("/tmp/lvsconfig-dir-XXXXXX".utf8CString)
        let result = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        precondition(result != nil, "mkdtemp failed")
        path = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }

    /// Writes `text` to `name` (subdirectories are created), returns the full path.
    @discardableResult
    func write(_ name: String, _ text: String) -> String {
        var directory = path
        for component in name.split(separator: "/").dropLast() {
            directory += "/" + component
            if mkdir(directory, 0o755) == 0 { created.append(directory) }
        }
        let full = path + "/" + name
        let bytes = Array(text.utf8)
        let fd = open(full, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        precondition(fd >= 0, "cannot create \(full)")
        precondition(writeAll(fd, bytes), "short write")
        close(fd)
        created.append(full)
        return full
    }

    func makeDirectory(_ name: String) {
        let full = path + "/" + name
        if mkdir(full, 0o755) == 0 { created.append(full) }
    }

    deinit {
        for item in created.reversed() {
            if unlink(item) != 0 { rmdir(item) }
        }
        rmdir(path)
    }
}

/// The libc `write`, out of reach of `TemporaryDirectory.write`'s name.
private func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Bool {
    bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) } == bytes.count
}
