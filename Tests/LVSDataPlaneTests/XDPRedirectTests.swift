import Glibc
import LVSCore
@testable import LVSDataPlane
import Testing

/// lvsd's XDP program run by the real kernel (BPF_PROG_TEST_RUN) on synthetic frames. Needs
/// root (CAP_BPF); fails, rather than skips, without it.
///
/// The program is loaded with `missingSocket: .drop`: test runs have no AF_XDP socket in the
/// socket map, so bpf_redirect_map falls back to its flags argument; XDP_DROP then marks "this
/// frame was chosen for the AF_XDP socket" apart from XDP_PASS, "left to the kernel".
@Suite("XDP program in the kernel")
struct XDPRedirectTests {
    static let vip = IPv4Address(10, 200, 0, 100)

    static func frame(type: UInt16, destination: IPv4Address = vip, length: Int = 60) -> [UInt8] {
        var f = [UInt8](repeating: 0, count: length)
        for i in 0..<6 { f[i] = 0x02; f[6 + i] = 0x04 }
        f[12] = UInt8(type >> 8)
        f[13] = UInt8(type & 0xFF)
        if length >= 34 {
            f[14] = 0x45
            f[23] = 6
            f[26] = 10; f[27] = 200; f[28] = 0; f[29] = 10
            let d = destination.value
            f[30] = UInt8(d >> 24); f[31] = UInt8((d >> 16) & 0xFF); f[32] = UInt8((d >> 8) & 0xFF); f[33] = UInt8(d & 0xFF)
        }
        return f
    }

    func loaded() throws -> XDPRedirect {
        guard geteuid() == 0 else {
            throw XDPSetupError(step: "these tests need root (BPF_PROG_LOAD, BPF_PROG_TEST_RUN); run them as root", errno: EPERM)
        }
        let xdp = try XDPRedirect(socketSlots: 4, localAddresses: [IPv4Address(10, 50, 0, 2)], missingSocket: .drop)
        let network = try #require(IPv4Network(address: IPv4Address(10, 50, 0, 0), prefixLength: 16))
        try xdp.setVirtualAddresses([Self.vip], networks: [network])
        return xdp
    }

    @Test("the verifier accepts the program; a frame to a VIP or a mark-rule network is chosen for the socket")
    func virtualAddressTraffic() throws {
        let xdp = try loaded()
        #expect(try xdp.testRun(Self.frame(type: 0x0800)) == XDPProgram.Action.drop.rawValue)
        #expect(try xdp.testRun(Self.frame(type: 0x0800, destination: IPv4Address(10, 50, 3, 4))) == XDPProgram.Action.drop.rawValue)
    }

    @Test("ARP, IPv4 to another address or to the director inside a network, IPv6 and a truncated IPv4 frame are passed to the kernel")
    func everythingElsePasses() throws {
        let xdp = try loaded()
        let pass = XDPProgram.Action.pass.rawValue
        #expect(try xdp.testRun(Self.frame(type: 0x0806)) == pass)
        #expect(try xdp.testRun(Self.frame(type: 0x0800, destination: IPv4Address(10, 200, 0, 2))) == pass)
        #expect(try xdp.testRun(Self.frame(type: 0x0800, destination: IPv4Address(10, 51, 0, 1))) == pass)
        // The director's own address inside a mark-rule network stays the kernel's.
        #expect(try xdp.testRun(Self.frame(type: 0x0800, destination: IPv4Address(10, 50, 0, 2))) == pass)
        #expect(try xdp.testRun(Self.frame(type: 0x86DD)) == pass)
        #expect(try xdp.testRun(Self.frame(type: 0x0800, length: 30)) == pass)
    }

    @Test("with an AF_XDP socket in the map for the frame's queue, a VIP frame gets XDP_REDIRECT")
    func redirectWithSocket() throws {
        guard geteuid() == 0 else {
            throw XDPSetupError(step: "this test needs root (AF_XDP, BPF_PROG_LOAD); run it as root", errno: EPERM)
        }
        let xdp = try XDPRedirect(socketSlots: 1)
        try xdp.setVirtualAddresses([Self.vip], networks: [])
        // A socket bound to the loopback's queue 0 in copy mode; nothing is attached to lo.
        let socket = try XDPSocket(interface: NetworkInterface.lookup("lo"), queue: 0, frameCount: 64, batchSize: 8)
        try xdp.register(socket: socket.fd, queue: 0)
        #expect(try xdp.testRun(Self.frame(type: 0x0800)) == XDPProgram.Action.redirect.rawValue)
        #expect(try xdp.testRun(Self.frame(type: 0x0806)) == XDPProgram.Action.pass.rawValue)
    }

    @Test("removing a VIP from the map stops its frames being chosen")
    func removal() throws {
        let xdp = try loaded()
        try xdp.setVirtualAddresses([], networks: [])
        #expect(try xdp.testRun(Self.frame(type: 0x0800)) == XDPProgram.Action.pass.rawValue)
    }
}
