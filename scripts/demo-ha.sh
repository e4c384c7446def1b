#!/usr/bin/env bash
# SwiftLVS high-availability demo: two lvsd directors as a VRRP pair with connection sync,
# each started from its own keepalived.conf (vrrp_instance + lvs_sync_daemon + virtual_server),
# in a namespace test bed (scripts/testbed.sh). Long-lived keep-alive HTTP streams run through
# the VIP while the master is killed with SIGKILL and later comes back; the result says whether
# every stream kept going, on the real server it started on.
#
# Usage: sudo scripts/demo-ha.sh          (from any directory)
# Environment:
#   LVSD_BIN=/path/to/lvsd   use this binary instead of building one (and LVSADM_BIN for lvsadm)
#   DEMO_STREAMS=40          number of streams (2..200)
# Exit status: 0 when the backup took over, the returning master preempted after pulling the
# table, and every stream answered throughout (no error, one real server each, no pause longer
# than TCP needs to get through the takeover: 2 × the master down interval + 0.4 s, about 4 s
# here, because a request lost while no director answers is retransmitted with exponential
# backoff); 1 otherwise.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TESTBED=$ROOT/scripts/testbed.sh
STREAMS_PY=$ROOT/Tests/IntegrationTests/Scripts/streams.py
STREAMS=${DEMO_STREAMS:-40}
STREAMS_MAX_S=120       # the client stops by itself after this, whatever happens
WAIT_S=15               # each wait for a log line

say() { echo "$*"; }
die() { echo "demo-ha: error: $*" >&2; exit 1; }

if ((EUID != 0)); then
    echo "demo-ha: this needs root (network namespaces, packet and raw sockets)." >&2
    echo "         run: sudo $0" >&2
    exit 1
fi
[[ $STREAMS =~ ^[0-9]+$ ]] && ((STREAMS >= 2 && STREAMS <= 200)) || die "DEMO_STREAMS must be 2..200"

"$ROOT/scripts/install-deps.sh" >&2

if [[ -n ${LVSD_BIN:-} ]]; then
    LVSD=$LVSD_BIN
    LVSADM=${LVSADM_BIN:-$(dirname "$LVSD_BIN")/lvsadm}
else
    say "Building lvsd and lvsadm (swift build -c release) ..."
    (cd "$ROOT" && swift build -c release --product lvsd && swift build -c release --product lvsadm) >&2
    LVSD="$(cd "$ROOT" && swift build -c release --show-bin-path)/lvsd"
    LVSADM="$(cd "$ROOT" && swift build -c release --show-bin-path)/lvsadm"
fi
[[ -x $LVSD && -x $LVSADM ]] || die "no lvsd/lvsadm at $LVSD / $LVSADM"

BED=
declare -A PID=()

# shellcheck disable=SC2317  # reached through the EXIT trap
cleanup() {
    local rc=$? p
    set +e
    [[ -n ${WORK:-} ]] && touch "$WORK/stop"
    for p in "${PID[@]}"; do
        kill -0 "$p" 2>/dev/null && kill -TERM "$p"
    done
    sleep 0.5
    for p in "${PID[@]}"; do
        kill -0 "$p" 2>/dev/null && kill -KILL "$p"
    done
    [[ -n $BED ]] && "$TESTBED" down "$BED" >&2
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

say "Building the namespace test bed (client, two directors, three real servers) ..."
BED=$("$TESTBED" up | tail -n 1)
eval "$("$TESTBED" env "$BED")"
WORK=$STATEDIR/ha
mkdir -p "$WORK"

# One keepalived.conf per director; only the priority differs.
config() {
    cat <<EOF
global_defs {
    lvs_sync_daemon $IFACE VI_1
    vrrp_version 3     # for advert_int 0.5 (version 2, the default, carries whole seconds)
}
vrrp_instance VI_1 {
    state BACKUP
    interface $IFACE
    virtual_router_id 51
    priority $1
    advert_int 0.5
    virtual_ipaddress {
        $VIP
    }
}
virtual_server $VIP $HTTP_PORT {
    lb_algo rr
    lb_kind DR
    protocol TCP
    real_server $RS1_IP $HTTP_PORT { weight 1 }
    real_server $RS2_IP $HTTP_PORT { weight 1 }
    real_server $RS3_IP $HTTP_PORT { weight 1 }
}
EOF
}
config 150 >"$WORK/director.conf"
config 100 >"$WORK/director2.conf"

# start_lvsd NAME HOST: lvsd in HOST's namespace with NAME's config, log and socket.
start_lvsd() {
    local name=$1 host=$2 ns
    ns=$([[ $host == director ]] && echo "$NS_DIRECTOR" || echo "$NS_DIRECTOR2")
    ip netns exec "$ns" "$LVSD" --interface "$IFACE" --config "$WORK/$host.conf" \
        --socket "$WORK/$host.sock" --no-save --stats-file "$WORK/$name.json" </dev/null >>"$WORK/$name.log" 2>&1 &
    PID[$name]=$!
    "$TESTBED" track "$BED" "lvsd-$name" "${PID[$name]}"
}

# wait_log NAME TEXT: true once TEXT is in NAME's log (bounded by WAIT_S).
wait_log() {
    local i
    for ((i = 0; i < WAIT_S * 20; i++)); do
        grep -qF "$2" "$WORK/$1.log" 2>/dev/null && return 0
        sleep 0.05
    done
    echo "demo-ha: no '$2' in $1's log within ${WAIT_S} s:" >&2
    sed 's/^/  | /' "$WORK/$1.log" >&2
    return 1
}

# wait_file PATH: until PATH exists, at most 20 s.
wait_file() {
    local i
    for ((i = 0; i < 400; i++)); do
        [[ -e $1 ]] && return 0
        sleep 0.05
    done
    return 1
}

adm() { LVSD_SOCKET="$WORK/$1.sock" "$LVSADM" "${@:2}"; }
neigh() {
    ip -n "$NS_CLIENT" neigh show "$VIP" | awk '{ for (i = 1; i < NF; i++) if ($i == "lladdr") { print $(i + 1); exit } }'
}

say "Starting lvsd A on director ($DIRECTOR_IP, priority 150) and lvsd B on director2 ($DIRECTOR2_IP, priority 100) ..."
start_lvsd a director
wait_log a "BACKUP -> MASTER"
start_lvsd b director2
wait_log b "initial sync complete"
say "  A: $(adm director -L --daemon)"
say "  B: $(adm director2 -L --daemon)"

say "Opening $STREAMS keep-alive HTTP streams to $VIP (one request every 100 ms each) ..."
touch "$WORK/go"
half=$((STREAMS / 2))
ip netns exec "$NS_CLIENT" python3 "$STREAMS_PY" "$VIP" "$half" "$((STREAMS - half))" "$WORK" "$STREAMS_MAX_S" \
    </dev/null >"$WORK/client.log" 2>&1 &
PID[client]=$!
wait_file "$WORK/ready"
[[ -e $WORK/ready ]] || die "the streams did not open: $(cat "$WORK/client.log")"
sleep 1
say "  client's ARP entry for the VIP: $(neigh) (A is $DIRECTOR_MAC)"
say "  connections A holds: $(adm director -L -c -n | grep -c ESTABLISHED), B holds (synced): $(adm director2 -L -c -n | grep -c ESTABLISHED)"

say "kill -9 of lvsd A (no goodbye advert) ..."
killed=$EPOCHREALTIME
kill -KILL "${PID[a]}"
{ wait "${PID[a]}"; } 2>/dev/null || true
wait_log b "BACKUP -> MASTER"
took=$(awk -v a="$killed" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.2f", b - a }')
say "  B took over in ${took} s (master down interval 3 × 0.5 s + skew)"
sleep 3
say "  client's ARP entry for the VIP: $(neigh) (B is $DIRECTOR2_MAC)"

say "lvsd A comes back (priority 150): it pulls B's table first, then preempts ..."
start_lvsd a2 director
wait_log a2 "initial sync complete"
wait_log a2 "BACKUP -> MASTER"
sleep 3
say "  client's ARP entry for the VIP: $(neigh); connections A holds: $(adm director -L -c -n | grep -c ESTABLISHED)"

touch "$WORK/stop"
wait_file "$WORK/result.json"
[[ -e $WORK/result.json ]] || die "the client wrote no result: $(cat "$WORK/client.log")"

say ""
say "Streams (each: requests every 100 ms through the VIP, across both failovers):"
# The longest pause a stream may see: a request lost during the takeover is retransmitted with
# exponential backoff, so the first retransmission after the takeover comes at most about one
# more takeover later (the tests' SyncFailoverTests.survivableGap says the same).
master_down=$(awk 'BEGIN { printf "%.3f", 3 * 0.5 + (256 - 100) * 0.5 / 256 }')
max_gap=$(awk -v m="$master_down" 'BEGIN { printf "%.2f", 2 * m + 0.4 }')
summary=$(python3 - "$WORK/result.json" "$STREAMS" "$max_gap" <<'EOF'
import json, sys
results, wanted, max_gap = json.load(open(sys.argv[1])), int(sys.argv[2]), float(sys.argv[3])
broken = [r for r in results if r["error"] or len(r["servers"]) != 1 or r["gap"] > max_gap]
worst = max((r["gap"] for r in results), default=0)
per = {}
for r in results:
    for s in r["servers"]:
        per[s] = per.get(s, 0) + 1
print("  %d of %d streams kept going on the real server they started on; longest gap %.2f s (at most %.2f s expected)" % (len(results) - len(broken), wanted, worst, max_gap))
print("  streams per real server: " + ", ".join("%s %d" % kv for kv in sorted(per.items())))
for r in broken[:10]:
    print("  broken: port %d: servers %s, gap %.2f s, %s" % (r["port"], r["servers"], r["gap"], r["error"]))
print("PASS" if len(results) == wanted and not broken else "FAIL")
EOF
)
say "${summary%$'\n'*}"
say ""
if [[ ${summary##*$'\n'} == PASS ]]; then
    say "RESULT: PASS"
else
    say "RESULT: FAIL"
    exit 1
fi
