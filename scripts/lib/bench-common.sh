# shellcheck shell=bash
# What the benchmark scripts (bench.sh, bench-pps.sh) share: stopping the processes they started,
# finding or building the release lvsd, medians and ratios, and the nftlb DSR peer.
# Sourced, not run. The caller defines note() (progress to stderr) and, for the nftlb peer, has
# the bed's variables (`testbed.sh env`: NS_DIRECTOR, IFACE, VIP, RSn_IP, RSn_MAC) plus TESTBED,
# BED, WORK, NFTLB_PORT and READY_TIMEOUT_S set. STOP_TIMEOUT_S defaults to 5.

: "${STOP_TIMEOUT_S:=5}"

wait_gone() {  # pid seconds: true if it exited in time
    local i
    for ((i = 0; i < $2 * 10; i++)); do
        kill -0 "$1" 2>/dev/null || return 0
        sleep 0.1
    done
    ! kill -0 "$1" 2>/dev/null
}

stop_pid() {  # pid: TERM, bounded wait, KILL; reaps it. Only ever a PID this script started.
    local pid=${1:-}
    [[ -n $pid ]] || return 0
    if kill -0 "$pid" 2>/dev/null; then
        kill -TERM "$pid" 2>/dev/null || true
        wait_gone "$pid" "$STOP_TIMEOUT_S" || kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
}

# The lvsd to measure: $LVSD_BIN, or a release build made now (in .build-release, so that it
# does not disturb the debug build of `swift build`). Prints its path; false if there is none.
lvsd_release_binary() {  # root
    local bin
    if [[ -n ${LVSD_BIN:-} ]]; then
        bin=$LVSD_BIN
    else
        note "building lvsd: swift build -c release --product lvsd --scratch-path .build-release"
        (cd "$1" && swift build -c release --product lvsd --scratch-path .build-release) >&2 || return 1
        bin="$(cd "$1" && swift build -c release --scratch-path .build-release --show-bin-path)/lvsd"
    fi
    [[ -x $bin ]] || return 1
    echo "$bin"
}

# Median of whitespace-separated numbers ("-" entries, failed runs, are left out); "-" if none.
median() {
    tr ' ' '\n' | awk 'NF && $1 != "-"' | sort -n | awk '{ v[NR] = $1 } END {
        if (!NR) { print "-"; exit }
        if (NR % 2) print v[(NR + 1) / 2]; else printf "%.0f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
# The same for ratios: two decimals (median() rounds to whole numbers).
median_ratio() {
    tr ' ' '\n' | awk 'NF && $1 != "-"' | sort -g | awk '{ v[NR] = $1 } END {
        if (!NR) { print "-"; exit }
        if (NR % 2) printf "%.2f\n", v[(NR + 1) / 2]; else printf "%.2f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
# The order of round R (1-based) over the given items: rotated left by R-1, so that over the
# rounds every item runs in every position (round 1: A B C, round 2: B C A, round 3: C A B).
rotated() {  # round item...
    local r=$1; shift
    local n=$# i
    local -a it=("$@")
    for ((i = 0; i < n; i++)); do echo "${it[(i + r - 1) % n]}"; done
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || b == 0) print "-"; else printf "%.2f", a / b }'; }

# ------------------------------------------------------------------ the nftlb DSR peer

NFTLB_PID=
NFTLB_KEY=

# nftlb's REST API, from inside the director namespace: prints the HTTP status, body in api.out.
nftlb_api() {  # method path [json]
    ip netns exec "$NS_DIRECTOR" curl -sS --max-time 3 -o "$WORK/api.out" -w '%{http_code}' \
        -H "Key: $NFTLB_KEY" -X "$1" "http://127.0.0.1:$NFTLB_PORT$2" ${3:+-d "$3"}
}

# nftlb in the director namespace with one DSR farm per NAME:PROTO:PORT argument (VIP:PORT/PROTO,
# scheduler hash on source address and port, backends rs1-3), VIP/32 on the director's interface
# and static neighbour entries for the servers; returns once every farm and its three backends
# are "up".
nftlb_dsr_up() {  # name:proto:port...
    local farm name proto port i code states=
    ip -n "$NS_DIRECTOR" addr add "$VIP/32" dev "$IFACE" || return 1
    for i in 1 2 3; do
        local ipv=RS${i}_IP macv=RS${i}_MAC
        ip -n "$NS_DIRECTOR" neigh replace "${!ipv}" lladdr "${!macv}" dev "$IFACE" nud permanent || return 1
    done
    NFTLB_KEY=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
    # Bound to loopback (by default it listens on every address, the VIP included); the key on
    # the command line (nftlb hides it in its argv) instead of a random one on stdout.
    ip netns exec "$NS_DIRECTOR" nftlb -H 127.0.0.1 -P "$NFTLB_PORT" -k "$NFTLB_KEY" -l 5 -L 2 \
        </dev/null >"$WORK/nftlb.log" 2>&1 &
    NFTLB_PID=$!
    "$TESTBED" track "$BED" nftlb "$NFTLB_PID"
    for ((i = 0; i < READY_TIMEOUT_S * 10; i++)); do
        code=$(nftlb_api GET /farms 2>/dev/null) || code=000
        [[ $code == 200 ]] && break
        kill -0 "$NFTLB_PID" 2>/dev/null || { note "nftlb exited:"; cat "$WORK/nftlb.log" >&2; return 1; }
        sleep 0.1
    done
    [[ $code == 200 ]] || { note "nftlb API did not answer within ${READY_TIMEOUT_S} s"; return 1; }
    for farm in "$@"; do
        IFS=: read -r name proto port <<<"$farm"
        code=$(nftlb_api POST /farms "{\"farms\": [{\"name\": \"$name\", \"family\": \"ipv4\",
      \"virtual-addr\": \"$VIP\", \"virtual-ports\": \"$port\", \"protocol\": \"$proto\", \"mode\": \"dsr\",
      \"scheduler\": \"hash\", \"sched-param\": \"srcip srcport\", \"iface\": \"$IFACE\", \"state\": \"up\",
      \"backends\": [
        {\"name\": \"rs1\", \"ip-addr\": \"$RS1_IP\", \"ether-addr\": \"$RS1_MAC\", \"weight\": \"1\", \"state\": \"up\"},
        {\"name\": \"rs2\", \"ip-addr\": \"$RS2_IP\", \"ether-addr\": \"$RS2_MAC\", \"weight\": \"1\", \"state\": \"up\"},
        {\"name\": \"rs3\", \"ip-addr\": \"$RS3_IP\", \"ether-addr\": \"$RS3_MAC\", \"weight\": \"1\", \"state\": \"up\"}]}]}") ||
            code=000
        if [[ $code != 200 ]] || ! grep -q success "$WORK/api.out"; then
            note "nftlb refused the farm (HTTP $code): $(cat "$WORK/api.out")"
            return 1
        fi
        # Backends pass through config_error until nftlb has validated them.
        for ((i = 0; i < READY_TIMEOUT_S * 10; i++)); do
            nftlb_api GET "/farms/$name" >/dev/null 2>&1 || true
            states=$(jq -r '[.farms[0].state] + [.farms[0].backends[].state] | join(" ")' "$WORK/api.out" \
                2>/dev/null) || states=
            [[ $states == "up up up up" ]] && break
            sleep 0.1
        done
        [[ $states == "up up up up" ]] || { note "nftlb farm $name not up (farm + backend states: '$states')"; return 1; }
    done
    return 0
}

# Stops nftlb and removes what nftlb_dsr_up added (the director's whole nft ruleset included).
nftlb_dsr_down() {
    local i
    stop_pid "$NFTLB_PID"; NFTLB_PID=
    ip netns exec "$NS_DIRECTOR" nft flush ruleset || true
    ip -n "$NS_DIRECTOR" addr del "$VIP/32" dev "$IFACE" 2>/dev/null || true
    for i in 1 2 3; do
        local ipv=RS${i}_IP
        ip -n "$NS_DIRECTOR" neigh del "${!ipv}" dev "$IFACE" 2>/dev/null || true
    done
}

# ------------------------------------------------------------------ the UDP sink

# Counts and drops UDP to PORT at DEV's netdev ingress in namespace NS (nft table netdev TABLE,
# counter "udp9"): before any IP stack, so nothing is answered and the count is of frames that
# really arrived (veth's rx_packets counts enqueues). bench.sh, bench-pps.sh and bench-drain.sh
# count delivered frames with it, as TESTBED §4 (design notes) did.
udp_sink_add() {  # ns dev table port
    ip netns exec "$1" nft -f - <<NFT
table netdev $3 {
    counter udp9 { }
    chain ingress {
        type filter hook ingress device "$2" priority -500; policy accept;
        ether type ip udp dport $4 counter name "udp9" drop
    }
}
NFT
}
udp_sink_del() { ip netns exec "$1" nft delete table netdev "$2" 2>/dev/null || true; }  # ns table
udp_sink_count() {  # ns table -> frames counted so far
    ip netns exec "$1" nft -j list counter netdev "$2" udp9 |
        jq '[.nftables[] | select(.counter) | .counter.packets] | first // 0'
}

# ------------------------------------------------------------------ the UDP load

# lvsd's rules for the UDP benchmarks: VIP:PORT/udp, rr, rs1-3 in DR mode (ipvsadm -S format).
udp_rules() {  # port
    echo "-A -u $VIP:$1 -s rr"
    local i ipv
    for i in 1 2 3; do ipv=RS${i}_IP; echo "-a -u $VIP:$1 -r ${!ipv}:$1 -g -w 1"; done
}
# trafgen's frame: 60 bytes (Ethernet + IPv4 + UDP + 18 bytes; 64 on the wire) from the client
# to VIP:PORT, sent to DST_MAC, the source port counting through FIRST..LAST (one flow each).
udp_frame_cfg() {  # dst-mac port first-sport last-sport
    echo "{ eth(da=$1, sa=$CLIENT_MAC), ipv4(sa=$CLIENT_IP, da=$VIP, ttl=64), udp(sp=dinc($3, $4), dp=$2), fill(0x00, 18) }"
}
