import CLinuxNet
import Glibc
import LVSCore
import Synchronization

/// How lvsd attaches its XDP program (`--xdp-mode`).
public enum XDPMode: String, Sendable, CaseIterable {
    /// Native (driver) mode, else generic (skb) mode.
    case auto
    /// Native only: fails where the driver has no XDP (or, on veth, where the MTU is too large).
    case native
    /// Generic only: works on any interface, after the kernel has built the skb.
    case generic
}

/// A failed step of the AF_XDP set-up: what was being done (naming the mode), errno, and for a
/// verifier rejection the verifier's log. lvsd logs it and forwards with AF_PACKET instead.
public struct XDPSetupError: Error, Sendable, CustomStringConvertible {
    public var step: String
    public var errno: Int32
    public var detail: String

    public init(step: String, errno: Int32, detail: String = "") {
        self.step = step
        self.errno = errno
        self.detail = detail
    }

    /// `attach in native mode: EOPNOTSUPP`, plus the verifier's log if there is one.
    public var description: String {
        var text = "\(step): \(String(cString: clinuxnet_errno_name(errno)))"
        if !detail.isEmpty { text += " (\(detail))" }
        return text
    }
}

/// lvsd's XDP program on one interface: its two maps (the VIPs and mark-rule networks as an
/// LPM trie, and the AF_XDP sockets by receive queue) and the BPF link that attaches it.
///
/// The attachment is a BPF link (BPF_LINK_CREATE), not a netlink IFLA_XDP setting: a link
/// belongs to its fd, so when lvsd exits — however, kill -9 included — the kernel closes the
/// fd and the program detaches by itself; nothing is left on the interface to steal VIP frames
/// from a later AF_PACKET lvsd or from the kernel.
public final class XDPRedirect: @unchecked Sendable {
    // @unchecked: `link` and `attachedMode` are written once, before the workers start;
    // `installed` (written by every worker's table-change job) is behind a mutex.
    public let addressMap: Int32
    public let socketMap: Int32
    public let program: Int32
    /// The attachment (-1 until `attach`).
    public private(set) var link: Int32 = -1
    /// The mode the program was attached in.
    public private(set) var attachedMode: XDPMode?
    /// The keys now in the address map, so a change deletes exactly the ones that went.
    let installed = Mutex<[IPv4Network: UInt32]>([:])
    /// Addresses that stay the kernel's even inside a mark-rule network (the director's own).
    let localAddresses: [IPv4Address]
    public static let addressCapacity: UInt32 = 4096

    /// Creates the maps and loads the program. `missingSocket` is for the tests (see
    /// `XDPProgram.instructions`).
    /// `localAddresses` (the director's own) get "pass" entries, so a mark-rule network that
    /// covers them does not take the director's own traffic (health-check replies) from the
    /// kernel; the AF_PACKET tap only copied such frames, XDP would take them.
    public init(socketSlots: Int, localAddresses: [IPv4Address] = [],
                missingSocket: XDPProgram.Action = .pass) throws(XDPSetupError) {
        self.localAddresses = localAddresses
        let lpm = clinuxnet_bpf_map_create(UInt32(BPF_MAP_TYPE_LPM_TRIE.rawValue), UInt32(XDPProgram.keySize),
                                           UInt32(XDPProgram.valueSize), Self.addressCapacity,
                                           UInt32(BPF_F_NO_PREALLOC), "lvsd_vips")
        guard lpm >= 0 else { throw XDPSetupError(step: "create the VIP map", errno: Glibc.errno) }
        let xsk = clinuxnet_bpf_map_create(UInt32(BPF_MAP_TYPE_XSKMAP.rawValue), 4, 4, UInt32(max(1, socketSlots)), 0,
                                           "lvsd_xsks")
        guard xsk >= 0 else {
            let e = Glibc.errno
            close(lpm)
            throw XDPSetupError(step: "create the socket map", errno: e)
        }
        let code = XDPProgram.instructions(addressMap: lpm, socketMap: xsk, missingSocket: missingSocket).map(\.encoded)
        let logSize = 64 * 1024
        var log = [CChar](repeating: 0, count: logSize)
        let fd = code.withUnsafeBufferPointer { instructions in
            clinuxnet_bpf_prog_load_xdp(instructions.baseAddress, UInt32(instructions.count), "Dual MIT/GPL",
                                        &log, UInt32(logSize))
        }
        guard fd >= 0 else {
            let e = Glibc.errno
            close(lpm)
            close(xsk)
            let bytes = log.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
            let text = String(decoding: bytes, as: UTF8.self)
            let verifier = text.split(separator: "\n").suffix(4).joined(separator: " | ")
            throw XDPSetupError(step: "load the XDP program", errno: e,
                                detail: verifier.isEmpty ? "" : "verifier: \(verifier)")
        }
        addressMap = lpm
        socketMap = xsk
        program = fd
    }

    deinit {
        if link >= 0 { close(link) }
        close(program)
        close(addressMap)
        close(socketMap)
    }

    /// Attaches the program to `interface` in `mode` (auto: native, then generic). Errors name
    /// the last mode tried.
    public func attach(to interface: NetworkInterface, mode: XDPMode) throws(XDPSetupError) {
        let modes: [XDPMode] = mode == .auto ? [.native, .generic] : [mode]
        var failure = XDPSetupError(step: "attach", errno: EINVAL)
        for m in modes {
            let flags = m == .native ? UInt32(XDP_FLAGS_DRV_MODE) : UInt32(XDP_FLAGS_SKB_MODE)
            let fd = clinuxnet_bpf_link_create_xdp(program, interface.index, flags)
            if fd >= 0 {
                link = fd
                attachedMode = m
                return
            }
            failure = XDPSetupError(step: "attach in \(m.rawValue) mode", errno: Glibc.errno)
        }
        throw failure
    }

    /// Makes the address map hold exactly `addresses` (as /32) and `networks`.
    public func setVirtualAddresses(_ addresses: [IPv4Address], networks: [IPv4Network]) throws(XDPSetupError) {
        var wanted: [IPv4Network: UInt32] = [:]
        for n in networks { wanted[n] = XDPProgram.redirectValue }
        for a in localAddresses {
            if let n = IPv4Network(address: a, prefixLength: 32) { wanted[n] = XDPProgram.passValue }
        }
        // A VIP is redirected even if it is also a local address.
        for a in addresses {
            if let n = IPv4Network(address: a, prefixLength: 32) { wanted[n] = XDPProgram.redirectValue }
        }
        let map = addressMap
        let failure = installed.withLock { installed -> XDPSetupError? in
            for (n, value) in wanted where installed[n] != value {
                let key = XDPProgram.key(n)
                var v = value
                guard key.withUnsafeBytes({ clinuxnet_bpf_map_update(map, $0.baseAddress, &v, 0) }) == 0 else {
                    return XDPSetupError(step: "add \(n) to the VIP map", errno: Glibc.errno)
                }
                installed[n] = value
            }
            for n in installed.keys where wanted[n] == nil {
                let key = XDPProgram.key(n)
                _ = key.withUnsafeBytes { clinuxnet_bpf_map_delete(map, $0.baseAddress) }
                installed[n] = nil
            }
            return nil
        }
        if let failure { throw failure }
    }

    /// Puts the AF_XDP socket `fd` in the socket map for receive queue `queue`.
    public func register(socket fd: Int32, queue: Int) throws(XDPSetupError) {
        var key = UInt32(queue)
        var value = UInt32(bitPattern: fd)
        guard clinuxnet_bpf_map_update(socketMap, &key, &value, 0) == 0 else {
            throw XDPSetupError(step: "put the socket of queue \(queue) in the socket map", errno: Glibc.errno)
        }
    }

    /// Runs the program once on `frame` with BPF_PROG_TEST_RUN and returns its action.
    public func testRun(_ frame: [UInt8], rxQueue: UInt32 = 0) throws(XDPSetupError) -> Int32 {
        var result: UInt32 = 0
        let r = frame.withUnsafeBytes {
            clinuxnet_bpf_prog_test_run_xdp(program, $0.baseAddress, UInt32($0.count), rxQueue, &result)
        }
        guard r == 0 else { throw XDPSetupError(step: "BPF_PROG_TEST_RUN", errno: Glibc.errno) }
        return Int32(bitPattern: result)
    }
}
