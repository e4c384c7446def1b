import Glibc
import LVSControlProtocol
import Testing

@Suite(.serialized) struct ControlSocketTests {
    static func temporaryPath(_ name: String) -> String {
        "/tmp/lvsctl-test-\(getpid())-\(name).sock"
    }

    @Test func oneRequestOneResponseAndRootOnlyMode() throws {
        let path = Self.temporaryPath("exchange")
        let listener = try ControlListener(path: path)
        var info = stat()
        #expect(stat(path, &info) == 0)
        #expect(info.st_mode & 0o777 == 0o600)

        let server = Thread {
            guard let connection = listener.accept(timeoutMillis: 5000) else { return }
            let request = (try? connection.readRequest()) ?? "read failed"
            let uid = connection.peerUserID.map(String.init) ?? "unknown"
            try? connection.send("echo " + uid + " " + request)
        }
        let answer = try ControlSocket.exchange(path: path, request: String(repeating: "x", count: 200_000))
        server.join()
        #expect(answer == "echo \(getuid()) " + String(repeating: "x", count: 200_000))
    }

    @Test func aLiveSocketIsNotTakenOverButAStaleOneIs() throws {
        let path = Self.temporaryPath("live")
        do {
            let first = try ControlListener(path: path)
            #expect(throws: ControlSocketError.self) { _ = try ControlListener(path: path) }
            _ = first
        }
        // A socket file nobody listens on (left by a crash) is replaced.
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            let bytes = Array(path.utf8)
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        #expect(bound == 0)
        close(fd)
        let second = try ControlListener(path: path)
        _ = second
    }

    @Test func noDaemonSaysWhatToCheck() {
        do {
            _ = try ControlSocket.exchange(path: Self.temporaryPath("absent"), request: "x")
            Issue.record("exchange with no listener succeeded")
        } catch {
            #expect(error.description.contains("is lvsd running?"))
        }
    }
}

/// A plain pthread for the server side of a test (the listener is blocking by design).
final class Thread: @unchecked Sendable {
    var thread = pthread_t()
    let body: () -> Void

    init(_ body: @escaping () -> Void) {
        self.body = body
        let box = Unmanaged.passRetained(self)
        pthread_create(&thread, nil, { arg in
            guard let arg else { return nil }
            let me = Unmanaged<Thread>.fromOpaque(arg).takeRetainedValue()
            me.body()
            return nil
        }, box.toOpaque())
    }

    func join() { pthread_join(thread, nil) }
}
