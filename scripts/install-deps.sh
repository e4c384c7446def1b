#!/usr/bin/env bash
# Install the Debian packages that SwiftLVS's tests, demo and benchmarks use.
#
# Idempotent: asks dpkg what is already installed and only calls apt-get (after one
# `apt-get update`) when something is missing, so a warm machine pays nothing and a
# non-root user can run it when everything is present.
#
# Usage: scripts/install-deps.sh [--dry-run]
set -euo pipefail

# Why each package is here (keep this list and the comments in sync):
PACKAGES=(
    iproute2        # ip netns / ip link / bridge: the namespace test bed
    nftables        # nft counters on the director and the real servers (demo, tests, benches)
    curl            # HTTP client in the client namespace
    socat           # UDP client for the VIP:9000 echo test
    tcpdump         # debugging captures (use --immediate-mode, see TESTBED.md gotcha 11); KeepalivedVRRPv2Tests captures keepalived's VRRPv2 advert with it
    ethtool         # offload switches (wire mode vs default offloads)
    netsniff-ng     # trafgen: the packet-rate generator of the benches
    nftlb           # in-kernel DR reference director for the benches
    python3         # scripts/rs-server.py (Debian's /usr/bin/python3, stdlib only)
    wrk             # HTTP load generator of the benches
    haproxy         # scripts/bench.sh: the mode-tcp proxy lvsd is compared with
    nginx-light     # scripts/bench.sh: the real servers' web server (1 KB and 100 KB files)
    gnuplot-nox     # scripts/bench.sh: the ratios plot (PNG) for BENCHMARKS.md
    procps          # sysctl, ps
    jq              # reading `nft -j` counters and lvsd's JSON stats
    kmod            # modprobe/lsmod (checking nf_tables / veth modules)
    iputils-ping    # ping in tests
    iputils-arping  # arping: ARP-for-the-VIP tests
    valgrind        # Benchmarks/run.sh: instruction and allocation counts
    linux-perf      # scripts/bench-drain.sh --perf: where lvsd's worker spends the drain (user vs kernel)
    arptables       # lvs-realserver --method arptables (and its namespace tests)
    iptables        # lvs-realserver --method iptables; iptables-save for its rule dumps
    keepalived      # VRRP peer of lvsd in the HA interop tests (its VRRP process only, in director2)
    libssl-dev      # OpenSSL 3 headers and libraries: lvsd's SSL_GET links them (the COpenSSL target)
    openssl         # the openssl CLI: self-signed certificates for the SSL_GET namespace tests
)

dry_run=0
if [[ ${1:-} == "--dry-run" ]]; then
    dry_run=1
fi

# dpkg -s exits 0 for removed-but-configured packages too, so look at the status words.
is_installed() {
    local status
    status=$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null) || return 1
    [[ $status == "install ok installed" ]]
}

missing=()
for pkg in "${PACKAGES[@]}"; do
    if ! is_installed "$pkg"; then
        missing+=("$pkg")
    fi
done

if ((${#missing[@]} == 0)); then
    echo "install-deps: all ${#PACKAGES[@]} packages present"
    exit 0
fi

echo "install-deps: installing: ${missing[*]}"
if ((dry_run)); then
    exit 0
fi
if ((EUID != 0)); then
    echo "install-deps: missing packages and not root; run: sudo $0" >&2
    exit 1
fi

# Packages such as nftlb ship a service. This machine has no systemd, and invoke-rc.d
# would otherwise start the daemon in the root namespace (nftlb listens on all
# addresses). A policy-rc.d that answers 101 ("action forbidden") is Debian's standard
# way to install without starting services; we only add it if none exists and remove
# it again whatever happens.
policy=/usr/sbin/policy-rc.d
added_policy=0
cleanup() {
    if ((added_policy)); then
        rm -f "$policy"
    fi
}
trap cleanup EXIT
if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\n# temporary, added by SwiftLVS install-deps.sh\nexit 101\n' >"$policy"
    chmod 755 "$policy"
    added_policy=1
fi

export DEBIAN_FRONTEND=noninteractive
# stdin from /dev/null: CI has no terminal, and apt must never wait for an answer.
apt-get update -qq </dev/null
apt-get install -y -qq --no-install-recommends "${missing[@]}" </dev/null

# Verify rather than trust apt's exit code: a silently skipped package would make the
# tests fail later with a far less obvious message.
still=()
for pkg in "${missing[@]}"; do
    is_installed "$pkg" || still+=("$pkg")
done
if ((${#still[@]})); then
    echo "install-deps: still missing after apt-get: ${still[*]}" >&2
    exit 1
fi
echo "install-deps: installed ${#missing[@]} package(s)"
