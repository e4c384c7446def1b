#!/usr/bin/env bash
# SwiftLVS demo: one command, as root, that builds lvsd, puts it in front of three real
# servers in a namespace test bed (scripts/testbed.sh), sends HTTP requests to the VIP
# and shows what happened: which real server answered, who answered ARP for the VIP,
# and that the replies never passed the director (the point of direct routing).
#
# Usage: sudo scripts/demo.sh            (from any directory)
# Environment:
#   LVSD_BIN=/path/to/lvsd   use this binary instead of building one (and LVSADM_BIN for lvsadm)
#   DEMO_REQUESTS=300        number of requests (each a new TCP connection)
# Exit status: 0 when every request got an answer from a real server, the client
# resolved the VIP to the director's MAC, no reply frame was seen on the director's
# link and lvsd stopped cleanly; 1 otherwise.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TESTBED=$ROOT/scripts/testbed.sh
REQUESTS=${DEMO_REQUESTS:-300}
READY_TIMEOUT_S=10      # lvsd must say "lvsd: ready" within this
STOP_TIMEOUT_S=5        # after SIGTERM, before SIGKILL
LOOP_TIMEOUT_S=180      # the whole request loop (300 x up to 2 s would be 10 min)

say() { echo "$*"; }
die() { echo "demo: error: $*" >&2; exit 1; }

if ((EUID != 0)); then
    echo "demo: this needs root (it creates network namespaces and lvsd opens raw packet sockets)." >&2
    echo "      run: sudo $0" >&2
    exit 1
fi
[[ $REQUESTS =~ ^[1-9][0-9]{0,4}$ ]] || die "DEMO_REQUESTS must be 1..99999"

"$ROOT/scripts/install-deps.sh" >&2

if [[ -n ${LVSD_BIN:-} ]]; then
    LVSD=$LVSD_BIN
    LVSADM=${LVSADM_BIN:-$(dirname "$LVSD_BIN")/lvsadm}
    say "Using prebuilt lvsd: $LVSD"
else
    say "Building lvsd and lvsadm (swift build -c release) ..."
    (cd "$ROOT" && swift build -c release --product lvsd && swift build -c release --product lvsadm) >&2
    LVSD="$(cd "$ROOT" && swift build -c release --show-bin-path)/lvsd"
    LVSADM="$(cd "$ROOT" && swift build -c release --show-bin-path)/lvsadm"
fi
[[ -x $LVSD ]] || die "no executable lvsd at $LVSD"
[[ -x $LVSADM ]] || die "no executable lvsadm at $LVSADM"

# ------------------------------------------------------------------ bed and cleanup

BED=
LVSD_PID=

# Polls until PID is gone; true if it went within $2 seconds (bash reaps its own
# children as they exit, so kill -0 fails once our child has really ended).
wait_gone() {
    local pid=$1 i
    for ((i = 0; i < $2 * 10; i++)); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    ! kill -0 "$pid" 2>/dev/null
}

# shellcheck disable=SC2317  # reached through the EXIT trap
cleanup() {
    local rc=$?
    set +e
    trap '' PIPE
    if [[ -n $LVSD_PID ]] && kill -0 "$LVSD_PID" 2>/dev/null; then
        kill -TERM "$LVSD_PID"
        wait_gone "$LVSD_PID" "$STOP_TIMEOUT_S" || kill -KILL "$LVSD_PID"
    fi
    # `down` also stops anything recorded or left in the bed's namespaces.
    [[ -n $BED ]] && "$TESTBED" down "$BED" >&2
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

say "Building the namespace test bed ..."
BED=$("$TESTBED" up | tail -n 1)
eval "$("$TESTBED" env "$BED")"

# --------------------------------------------------------- service and observation

RULES=$STATEDIR/rules.ipvsadm
LOG=$STATEDIR/lvsd.log
cat >"$RULES" <<EOF
-A -t $VIP:$HTTP_PORT -s rr
-a -t $VIP:$HTTP_PORT -r $RS1_IP:$HTTP_PORT -g -w 1
-a -t $VIP:$HTTP_PORT -r $RS2_IP:$HTTP_PORT -g -w 1
-a -t $VIP:$HTTP_PORT -r $RS3_IP:$HTTP_PORT -g -w 1
EOF

# Counters on the director's link, at netdev ingress (before the IP stack): replies
# from the VIP to the client would show up here if they passed the director; the
# second counts the client->VIP frames the director had to forward. Count only, no
# drop: lvsd reads its frames with a packet socket, which sees them before this hook.
ip netns exec "$NS_DIRECTOR" nft -f - <<EOF
table netdev lvsdemo {
    counter replies_seen { }
    counter requests_seen { }
    chain in {
        type filter hook ingress device "$IFACE" priority -500;
        ip saddr $VIP ip daddr $CLIENT_IP counter name "replies_seen"
        ip daddr $VIP counter name "requests_seen"
    }
}
EOF

nft_packets() {
    ip netns exec "$NS_DIRECTOR" nft -j list counter netdev lvsdemo "$1" |
        jq '[.nftables[] | select(.counter) | .counter.packets] | first // 0'
}

# --------------------------------------------------------------------- run lvsd

say "Starting lvsd in the director namespace ..."
# Backgrounded directly (not via a function) so $! is lvsd's own PID.
# Its own control socket (lvsadm finds it through LVSD_SOCKET) and no saved table: the demo
# leaves nothing behind outside the bed's state directory.
export LVSD_SOCKET=$STATEDIR/lvsd.sock
ip netns exec "$NS_DIRECTOR" "$LVSD" --interface "$IFACE" --rules "$RULES" \
    --stats-file "$STATEDIR/lvsd-stats.json" --socket "$LVSD_SOCKET" --no-save </dev/null >"$LOG" 2>&1 &
LVSD_PID=$!
"$TESTBED" track "$BED" lvsd "$LVSD_PID"

ready=0
for ((i = 0; i < READY_TIMEOUT_S * 10; i++)); do
    if grep -q 'lvsd: ready' "$LOG"; then
        ready=1
        break
    fi
    kill -0 "$LVSD_PID" 2>/dev/null || break
    sleep 0.1
done
if ((!ready)); then
    if kill -0 "$LVSD_PID" 2>/dev/null; then
        echo "demo: lvsd did not report 'lvsd: ready' within ${READY_TIMEOUT_S} s; its log:" >&2
    else
        echo "demo: lvsd exited before it was ready; its log:" >&2
    fi
    sed 's/^/  | /' "$LOG" >&2
    exit 1
fi

# ------------------------------------------------------------------ the requests

say "Sending $REQUESTS requests to http://$VIP/ from the client ..."
ANSWERS=$STATEDIR/answers.txt
# One shell inside the client namespace runs the whole loop (not 300 `ip netns exec`).
# Bounded: $REQUESTS iterations, 2 s per request, $LOOP_TIMEOUT_S for the whole loop,
# and it gives up after 20 failures in a row (the director is clearly not forwarding).
# No timeout(1) here: it would move the loop into its own process group, out of reach
# of a Ctrl-C on the terminal.
loop_rc=0
# shellcheck disable=SC2016  # the single-quoted script expands in the inner bash
ip netns exec "$NS_CLIENT" bash -c '
    n=$1 url=$2 limit=$3 streak=0
    for ((i = 0; i < n; i++)); do
        if ((SECONDS >= limit)); then
            echo "demo: request loop hit its ${limit} s limit" >&2
            exit 124
        fi
        if body=$(curl -sf --max-time 2 "$url"); then
            echo "${body:-<empty>}"
            streak=0
        else
            echo failed
            if ((++streak >= 20)); then
                echo "demo: 20 failures in a row, giving up" >&2
                exit 3
            fi
        fi
    done' demo-client "$REQUESTS" "http://$VIP:$HTTP_PORT/" "$LOOP_TIMEOUT_S" >"$ANSWERS" || loop_rc=$?

count_of() { grep -cxF -- "$1" "$ANSWERS" || true; }
n_rs1=$(count_of rs1)
n_rs2=$(count_of rs2)
n_rs3=$(count_of rs3)
answered=$((n_rs1 + n_rs2 + n_rs3))
failed=$((REQUESTS - answered))   # failures, odd bodies and requests never sent
replies_seen=$(nft_packets replies_seen)
requests_seen=$(nft_packets requests_seen)
neigh=$(ip -n "$NS_CLIENT" neigh show "$VIP" dev "$IFACE")
# What an admin sees, with the ipvsadm-compatible CLI, before lvsd stops.
listing=$("$LVSADM" -L -n 2>&1 || true)
stats_listing=$("$LVSADM" -L -n --stats 2>&1 || true)
vip_mac=$(awk '{for (i = 1; i < NF; i++) if ($i == "lladdr") print $(i + 1)}' <<<"$neigh")

# ---------------------------------------------------------------- stop lvsd

kill -TERM "$LVSD_PID"
lvsd_rc=0
if wait_gone "$LVSD_PID" "$STOP_TIMEOUT_S"; then
    wait "$LVSD_PID" || lvsd_rc=$?
else
    kill -KILL "$LVSD_PID" 2>/dev/null || true
    lvsd_rc="killed after ${STOP_TIMEOUT_S} s"
fi
LVSD_PID=

# ------------------------------------------------------------------ the report

bar() { local n=$(($1 * 40 / REQUESTS)); printf '%*s' "$n" '' | tr ' ' '#'; }

# The four checks. Each is 1 when it holds; the demo passes when all hold.
arp_ok=0 dsr_ok=0 req_ok=0 stop_ok=0
[[ ${vip_mac,,} == "$DIRECTOR_MAC" ]] && arp_ok=1
((replies_seen == 0)) && dsr_ok=1
((failed == 0)) && req_ok=1
[[ $lvsd_rc == 0 ]] && stop_ok=1
ok=$((arp_ok && dsr_ok && req_ok && stop_ok))
ok_text() { if (($1)); then echo OK; else echo FAIL; fi; }

cat <<EOF

============================================================================
SwiftLVS demo: Linux Virtual Server, direct routing (LVS-DR)
============================================================================
One Ethernet segment (a bridge in namespace $NS_SW) joins five hosts:
  client    $CLIENT_IP     $CLIENT_MAC
  director  $DIRECTOR_IP      $DIRECTOR_MAC     runs lvsd; the VIP is on none of its
                                                 interfaces: lvsd itself answers ARP for it
  rs1..rs3  $RS1_IP-${RS3_IP##*.}  $RS1_MAC-${RS3_MAC##*:}  VIP $VIP on lo with arp_ignore=1,
                                                 arp_announce=2; a small HTTP server
Service ($RULES, ipvsadm -S format):
$(sed 's/^/  /' "$RULES")
lvsd only rewrites the destination MAC of each client->VIP frame to the chosen real
server's; the real server answers the client directly, from the VIP.

$REQUESTS requests, each a new TCP connection: curl http://$VIP/
  real server   answers
  rs1           $(printf '%5d' "$n_rs1")  $(bar "$n_rs1")
  rs2           $(printf '%5d' "$n_rs2")  $(bar "$n_rs2")
  rs3           $(printf '%5d' "$n_rs3")  $(bar "$n_rs3")
  failed        $(printf '%5d' "$failed")
EOF
((loop_rc == 0)) || echo "  (request loop ended with status $loop_rc: 124 = time limit, 3 = gave up)"

cat <<EOF

The director's table as an admin sees it (lvsadm, ipvsadm's commands and output):
  # lvsadm -L -n
$(sed 's/^/  /' <<<"$listing")
  # lvsadm -L -n --stats
$(sed 's/^/  /' <<<"$stats_listing")
EOF

cat <<EOF

Who answered ARP for the VIP (on the client: ip neigh show $VIP):
  ${neigh:-<no entry>}
  the director's MAC is $DIRECTOR_MAC: $(ok_text "$arp_ok")

Frames arriving on the director's eth0 (nft counters at netdev ingress):
  client -> VIP  (requests lvsd forwarded):      $requests_seen
  VIP -> client  (replies passing the director): $replies_seen   expected 0: $(ok_text "$dsr_ok")

Requests answered by a real server: $answered/$REQUESTS: $(ok_text "$req_ok")
lvsd stopped by SIGTERM, exit status $lvsd_rc: $(ok_text "$stop_ok")
Last lines of lvsd's log (it prints its counters when it stops):
$(tail -n 8 "$LOG" | sed 's/^/  | /')
EOF
if [[ -s $STATEDIR/lvsd-stats.json ]]; then
    echo "Stats file ($STATEDIR/lvsd-stats.json, shortened):"
    jq -c . "$STATEDIR/lvsd-stats.json" 2>/dev/null | cut -c1-300 | sed 's/^/  /' || true
fi

echo
if ((ok)); then
    echo "RESULT: PASS"
    exit 0
fi
echo "RESULT: FAIL"
exit 1
