import Glibc
import LVSConfig
import LVSCore

/// The table as lvsadm last left it, kept in a file in ipvsadm's rule-line format so that a
/// restarted lvsd (or an admin with a text editor) gets it back: what `ipvsadm-save` on
/// shutdown and `ipvsadm-restore` on boot do for the kernel, done on every change.
///
/// The lines are the commands' full canonical form, which unlike `ipvsadm -S` keeps the
/// thresholds (`-x`, `-y`), so nothing is lost across a restart.
struct SavedTable {
    let path: String

    struct WriteError: Error, CustomStringConvertible {
        var path: String
        var errno: Int32
        var description: String {
            "cannot save the table to \(path): \(String(cString: strerror(errno))); the change is applied but will not survive a restart (check --save-file)"
        }
    }

    static func text(for configuration: DirectorConfiguration) -> String {
        configuration.canonicalRuleText(
            header: "# lvsd's table, rewritten on every change (ipvsadm rule lines; lvsd --save-file)\n")
    }

    /// Writes the file whole (temporary file, fsync, rename), so a crash leaves the old table
    /// or the new one, never half of one.
    func write(_ configuration: DirectorConfiguration) throws(WriteError) {
        let directory = path.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
        if !directory.isEmpty { makeDirectories(directory) }
        let temporary = path + ".tmp"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw WriteError(path: temporary, errno: errno) }
        var bytes = Array(Self.text(for: configuration).utf8)
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeMutableBytes { raw -> Int in
                guard let base = raw.baseAddress else { return 0 }
                return Glibc.write(fd, base + offset, raw.count - offset)
            }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else {
                let e = errno
                close(fd)
                throw WriteError(path: temporary, errno: e)
            }
            offset += n
        }
        fsync(fd)
        close(fd)
        guard rename(temporary, path) == 0 else { throw WriteError(path: path, errno: errno) }
    }

    func exists() -> Bool { access(path, F_OK) == 0 }

    func makeDirectories(_ directory: String) {
        var partial = ""
        for component in directory.split(separator: "/") {
            partial += "/" + component
            mkdir(partial, 0o755)
        }
    }
}
