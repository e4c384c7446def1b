import CLinuxNet
import Glibc
import LVSCore
import LVSDataPlane

/// What `lvsd --kernel-drop` could not do with nft.
struct KernelDropError: Error, CustomStringConvertible {
    let description: String
}

/// `lvsd --kernel-drop`: an nftables netdev-ingress rule, in lvsd's own table `netdev lvsd`,
/// that drops IPv4 frames addressed to a VIP on the forwarding interface.
///
/// Why: lvsd's packet socket is an ETH_P_ALL tap, and the kernel hands every frame to the taps
/// before the netdev ingress hook (docs/DATAPLANE.md). Without the rule the director's own IP
/// stack then receives each VIP frame too, finds the address is not its own (`ip_forward=0`)
/// and drops it, counting `IpInAddrErrors`: work on the forwarding CPU for nothing. With the
/// rule lvsd still sees the frame and the stack never does.
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
    static func command(interface: String, addresses: [IPv4Address]) -> String {
        var chain = "type filter hook ingress device \"\(interface)\" priority -500; policy accept;"
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
                        doing: "install the --kernel-drop rule (table netdev \(Self.tableName))")
        installed = sorted
    }

    /// Removes lvsd's table; at exit. A failure is only logged: there is nothing else to do.
    func remove() {
        guard installed != nil else { return }
        do {
            try Self.runNft(["nft", "delete table netdev \(Self.tableName)"],
                            doing: "remove the --kernel-drop table netdev \(Self.tableName)")
            installed = nil
        } catch {
            Log.warning("\(error.description); remove it by hand: nft delete table netdev \(Self.tableName)")
        }
    }

    static func runNft(_ arguments: [String], doing what: String) throws(KernelDropError) {
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) }
        argv.append(nil)
        defer { for p in argv { free(p) } }
        let pid = argv.withUnsafeMutableBufferPointer { clinuxnet_spawn_in_group("nft", $0.baseAddress) }
        if pid < 0 {
            let e = errno
            if e == ENOENT {
                throw KernelDropError(description: "--kernel-drop needs nft, which is not in PATH: install nftables (Debian: apt-get install nftables) or run without --kernel-drop")
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
