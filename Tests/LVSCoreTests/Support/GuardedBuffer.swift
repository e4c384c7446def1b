#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import LVSCore

/// A page of readable memory followed by a page that faults on any access. A frame copied so
/// that it ends exactly at the boundary turns every read past `FrameBytes.count` into a crash
/// of the test process instead of a silent read of neighbouring heap bytes, which is what the
/// parser's "never reads past the captured length" promise needs to be tested against.
final class GuardedBuffer {
    let pageSize: Int
    let mapping: UnsafeMutableRawPointer

    init() {
        pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))
        guard let m = mmap(nil, 2 * pageSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
              m != MAP_FAILED
        else { fatalError("mmap failed") }
        mapping = m
        guard mprotect(mapping + pageSize, pageSize, PROT_NONE) == 0 else { fatalError("mprotect failed") }
    }

    deinit { munmap(mapping, 2 * pageSize) }

    /// Copies `bytes` so that their last byte is the last readable byte, and runs `body` on them.
    func withFrame<R>(_ bytes: [UInt8], _ body: (FrameBytes) throws -> R) rethrows -> R {
        precondition(bytes.count <= pageSize)
        let base = mapping + (pageSize - bytes.count)
        bytes.withUnsafeBytes { src in
            if let s = src.baseAddress { base.copyMemory(from: s, byteCount: bytes.count) }
        }
        return try body(FrameBytes(base: base, count: bytes.count))
    }
}
