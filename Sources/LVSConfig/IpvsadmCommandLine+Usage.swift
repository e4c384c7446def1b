/// `-h` and `-v`. The usage text follows ipvsadm's layout and order (synopsis, commands,
/// service selectors, options, daemon options) so that people who know ipvsadm's find their
/// way, in SwiftLVS's own words, and it says which ipvsadm features SwiftLVS refuses.
extension IpvsadmCommandLine {
    /// `-v`, and the first line of `-h`.
    public static let versionText = "lvsadm v0.1 (ipvsadm v1.31 compatible, IPVS v1.2.1)\n"

    /// `-h`: printed to standard output, exit status 0. `programName` is how the program was
    /// invoked, as ipvsadm prints `argv[0]`.
    public static func usage(programName: String) -> String {
        let synopsis = [
            "-A|E virtual-service [-s scheduler] [-p [timeout]] [-M netmask] [--pe persistence_engine] [-b sched-flags]",
            "-D virtual-service",
            "-C",
            "-R",
            "-S [-n]",
            "-a|e virtual-service -r server-address [options]",
            "-d virtual-service -r server-address",
            "-L|l [virtual-service] [options]",
            "-Z [virtual-service]",
            "--set tcp tcpfin udp",
            "--start-daemon {master|backup} [daemon-options]",
            "--stop-daemon {master|backup}",
            "-h",
        ].map { "  \(programName) \($0)\n" }.joined()
        return versionText + "Usage:\n" + synopsis + "\n" + commands + "\n" + services + "\n" + options + daemonOptions
    }

    private static let commands = """
        Commands:
        Each command has a long and a short spelling.
          --add-service     -A        create a virtual service
          --edit-service    -E        replace a virtual service's settings
          --delete-service  -D        remove a virtual service with its real servers
          --clear           -C        remove every virtual service
          --restore         -R        read commands from standard input, one per line
          --save            -S        print the table as commands that -R reads back
          --add-server      -a        add a real server to a virtual service
          --edit-server     -e        replace a real server's settings
          --delete-server   -d        remove a real server
          --list            -L|-l     show the table
          --zero            -Z        reset the counters of one service, or of all
          --set tcp tcpfin udp        set the idle timeouts in seconds (0 keeps a value)
          --start-daemon              start the connection sync daemon
          --stop-daemon               stop the connection sync daemon
          --help            -h        print this text

        """

    private static let services = """
        virtual-service:
          --tcp-service|-t  service-address   a TCP service at host[:port]
          --udp-service|-u  service-address   a UDP service at host[:port]
          --sctp-service    service-address   an SCTP service (SwiftLVS refuses it)
          --fwmark-service|-f fwmark          a firewall mark, 1 or more (set by lvsd --fwmark-rules)

        """

    private static let options = """
        Options:
          --ipv6         -6                   the firewall-mark service is IPv6 (refused)
          --scheduler    -s scheduler         rr|wrr|lc|wlc|lblc|lblcr|dh|sh|sed|nq|fo|ovf|mh,
                                              wlc when none is given
          --pe            engine              a persistence engine such as sip (refused),
                                              none when not given
          --persistent   -p [timeout]         keep each client on one server (360 s by default)
          --netmask      -M netmask           clients in one such network count as one
          --real-server  -r server-address    a real server at host[:port]
          --gatewaying   -g                   direct routing (the default, and the only method here)
          --ipip         -i                   IP-in-IP tunnelling (refused)
          --masquerading -m                   NAT (refused)
          --tun-type      type                ipip|gue|gre,
                                              ipip when none is given (tunnels only)
          --tun-port      port                the tunnel's destination port
          --tun-nocsum                        tunnel packets carry no checksum
          --tun-csum                          tunnel packets carry a checksum
          --tun-remcsum                       tunnel packets carry a remote checksum
          --weight       -w weight            the server's share of new connections, 0..65535
          --u-threshold  -x uthreshold        no new connections above this many
          --l-threshold  -y lthreshold        new connections again below this many
          --connection   -c                   list the connection entries
          --timeout                           list the timeouts (tcp tcpfin udp)
          --daemon                            list the sync daemon's state
          --stats                             list the counters
          --rate                              list the rates
          --exact                             print numbers in full, not in K/M/G/T
          --thresholds                        list the thresholds
          --persistent-conn                   list the persistent connection counts
          --tun-info                          list the tunnel settings
          --nosort                            list in the director's order, unsorted
          --sort                              accepted; sorting is already the default
          --ops          -o                   one-packet scheduling (UDP services)
          --numeric      -n                   print addresses and ports as numbers
          --sched-flags  -b flags             scheduler flags, separated by commas

        """

    private static let daemonOptions = """
        Daemon Options:
          --syncid sid                        sync ID, 0..255 (0 when not given)
          --sync-maxlen length                the largest sync message, in bytes
          --mcast-interface interface         the interface sync messages use (eth0 by default)
          --mcast-group address               the multicast group of sync messages
          --mcast-port port                   the UDP port of sync messages
          --mcast-ttl ttl                     the TTL of sync messages

        """
}
