import CLinuxNet
import Glibc
import LVSCore
import LVSDataPlane

/// `--kernel-drop` (required: lvsd does not start without the rule), `--no-kernel-drop` (off),
/// or neither (best effort: the rule when nft can install it, else a warning).
enum KernelDropMode: Equatable {
    case bestEffort, required, off
}

/// What `lvsd --kernel-drop` could not do with nft.
struct KernelDropError: Error, CustomStringConvertible {
    let description: String
}

/// The kernel drop (on by default, `--kernel-drop` to insist, `--no-kernel-drop` to leave it
/// out): an nftables netdev-ingress rule, in lvsd's own table `netdev lvsd`, that drops IPv4
/// frames addressed to a VIP on the forwarding interface.
///
/// Why: lvsd's packet socket is an ETH_P_ALL tap, and the kernel hands every frame to the taps
/// before the netdev ingress hook (docs/DATAPLANE.md). Without the rule the director's own IP
/// stack then receives each VIP frame too. With IP forwarding off it finds the address is not
/// its own and drops it, counting `IpInAddrErrors`: work on the receiving CPU for nothing. With
/// forwarding on (usual on directors that also do NAT) it is worse: the stack routes the frame
/// back out of the interface it came in on, sends the client an ICMP redirect "VIP to host
/// VIP", ARPs for the VIP (nobody answers: the real servers hold it on a non-ARPing device)
/// and, after the ARP times out, an ICMP host unreachable. With the rule lvsd still sees the
/// frame and the stack never does.
///
/// Only single VIP addresses are dropped, not the wider networks of mark rules (they can hold
/// the director's own address). The kernel stack therefore never sees IPv4 to a VIP: a service
/// the director itself runs on a VIP address would stop answering (see docs/OPERATING.md).
final class KernelDropRule {
    static let tableName = "lvsd"
    let interfaceName: String
    /// The VIPs the installed rule drops (sorted), nil before `install`.
    private(set) var installed: [IPv4Address]?

    init(interfaceName: String) {
        self.interfaceName = interfaceName
    }

    /// The nft command (one transaction: create-or-keep the table, delete it, build it again),
    /// so installing twice or over a table a killed lvsd left behind replaces it whole.
    /// The chain's priority: late, so that ingress chains of the admin's own (counters, rate
    /// limits, other balancers' rules, at the usual priorities ≤ 0) still see the VIP frames.
    static let priority = 500

    static func command(interface: String, addresses: [IPv4Address]) -> String {
        var chain = "type filter hook ingress device \"\(interface)\" priority \(priority); policy accept;"
        if !addresses.isEmpty {
            chain += " ip daddr { \(addresses.map(\.description).joined(separator: ", ")) } drop;"
        }
        return "add table netdev \(tableName); delete table netdev \(tableName); "
            + "add table netdev \(tableName); add chain netdev \(tableName) vip-ingress { \(chain) }"
    }

    /// Installs (or replaces) the rule for `addresses`; does nothing when they are the ones
    /// installed already.
    func install(_ addresses: [IPv4Address]) throws(KernelDropError) {
        let sorted = Array(Set(addresses)).sorted { $0.value < $1.value }
        if sorted == installed { return }
        try Self.runNft(["nft", Self.command(interface: interfaceName, addresses: sorted)],
                        doing: "install the kernel drop rule (table netdev \(Self.tableName))")
        installed = sorted
    }

    /// Removes lvsd's table; at exit. A failure is only logged: there is nothing else to do.
    func remove() {
        guard installed != nil else { return }
        do {
            try Self.runNft(["nft", "delete table netdev \(Self.tableName)"],
                            doing: "remove the kernel drop table netdev \(Self.tableName)")
            installed = nil
        } catch {
            Log.warning("\(error.description); remove it by hand: nft delete table netdev \(Self.tableName)")
        }
    }

    /// The warning for a director without the rule whose stack forwards IPv4 on `interface`
    /// (`net.ipv4.conf.<interface>.forwarding` = 1).
    static func forwardingWarning(interface: String, optedOut: Bool) -> String {
        "IP forwarding is on for \(interface) and no kernel drop is in place: the director's own stack forwards every VIP frame too, "
            + "sending clients ICMP redirects and host unreachables; "
            + (optedOut ? "start lvsd without --no-kernel-drop" : "install nftables (Debian: apt-get install nftables)")
            + " or turn forwarding off: sysctl -w net.ipv4.conf.\(interface).forwarding=0"
    }

    static func runNft(_ arguments: [String], doing what: String) throws(KernelDropError) {
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) }
        argv.append(nil)
        defer { for p in argv { free(p) } }
        let pid = argv.withUnsafeMutableBufferPointer { clinuxnet_spawn_in_group("nft", $0.baseAddress) }
        if pid < 0 {
            let e = errno
            if e == ENOENT {
                throw KernelDropError(description: "the kernel drop needs nft, which is not in PATH: install nftables (Debian: apt-get install nftables), or start lvsd with --no-kernel-drop")
            }
            throw KernelDropError(description: "could not start nft to \(what): \(String(cString: strerror(e)))")
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 {
            if errno != EINTR {
                throw KernelDropError(description: "waiting for nft to \(what): \(String(cString: strerror(errno)))")
            }
        }
        // WIFEXITED / WEXITSTATUS by hand: the macros are not imported.
        let exited = status & 0x7f == 0
        let code = (status >> 8) & 0xff
        if !exited || code != 0 {
            throw KernelDropError(description: "nft failed to \(what) (\(exited ? "exit status \(code)" : "killed by signal \(status & 0x7f)")); run `nft '\(arguments.dropFirst().joined(separator: " "))'` by hand to see nft's message (nft needs CAP_NET_ADMIN and a kernel with nf_tables netdev ingress)")
        }
    }
}
