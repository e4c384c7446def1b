#!/usr/bin/env bash
# lvsd's drain rate, measured the way docs/design TESTBED §4.2 measured the C prototype, so the
# two figures compare: lvsd is stopped (SIGSTOP), trafgen puts F frames of 1024 already-known UDP
# flows into its RX ring, a poller pinned to the other CPU continues lvsd and reads cheap
# switch-port counters every millisecond until the last forwarded frame. The
# frames delivered are counted by nft counters (not tcpdump, whose capture cost would land in
# lvsd's transmit context):
#   --sink rs    at each real server's netdev ingress (count + drop): the full DR path
#   --sink pdir  at the switch's p-dir ingress (count + drop): lvsd's transmit alone, no bridge
#                pass and no real-server receive
# Rate = delivered / (last change - SIGCONT), the poller sending the SIGCONT.
#
#   sudo scripts/bench-drain.sh [--sink rs|pdir|both] [--runs N] [--frames F]
#                               [--modes lvsd,lvsd-no-kernel-drop,lvsd-kdrop,lvsd-kernel-drop] [--perf FILE]
#
#   modes: lvsd              lvsd as it starts by default (with its kernel drop of VIP frames)
#          lvsd-no-kernel-drop  lvsd --no-kernel-drop: the director's IP stack sees VIP frames too
#          lvsd-kdrop        lvsd --no-kernel-drop plus a hand-made nft netdev-ingress drop of VIP
#                            frames in the director (TESTBED's KDROP)
#          lvsd-kernel-drop  lvsd --kernel-drop (the default drop, made mandatory)
#   --perf FILE  record `perf record -g` of lvsd's process during the first run of each mode
#                into FILE.<mode>.<sink> (and print the top of `perf report`)
#   LVSD_BIN=path  lvsd to run (default: .build/release/lvsd; build it with
#                  `swift build -c release --product lvsd`). LVSD_CPU (default 1), GEN_CPU (0).
#   LVSD_EXTRA="..."  more lvsd arguments for every mode (e.g. "--batch 256")
#
# Every load is bounded (trafgen -n, timeout); the bed and every process are removed on exit.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
TESTBED=$HERE/testbed.sh
# shellcheck source=lib/bench-common.sh
source "$HERE/lib/bench-common.sh"
LVSD=${LVSD_BIN:-$ROOT/.build/release/lvsd}
LVSD_CPU=${LVSD_CPU:-1}
GEN_CPU=${GEN_CPU:-0}
SINKS=both RUNS=3 FRAMES=60000 RING=65536 MODES=lvsd,lvsd-no-kernel-drop PERF=

die() { echo "bench-drain.sh: $*" >&2; exit 1; }
note() { echo "# $*" >&2; }
while (($#)); do
    case $1 in
        --sink) SINKS=${2:?}; shift 2 ;;
        --runs) RUNS=${2:?}; shift 2 ;;
        --frames) FRAMES=${2:?}; shift 2 ;;
        --modes) MODES=${2:?}; shift 2 ;;
        --perf) PERF=${2:?}; shift 2 ;;
        -h | --help) sed -n '2,27p' "$0"; exit 0 ;;
        *) die "unknown argument '$1' (see --help)" ;;
    esac
done
[[ $SINKS == both ]] && SINKS=rs,pdir
((EUID == 0)) || die "needs root (namespaces)"
[[ -x $LVSD ]] || die "no lvsd at $LVSD: run 'swift build -c release --product lvsd' or set LVSD_BIN"
((FRAMES > 0 && FRAMES <= RING - 2048)) || die "--frames: 1..$((RING - 2048)) (the ring holds $RING)"
for tool in trafgen nft jq taskset timeout python3 nstat; do
    command -v "$tool" >/dev/null || die "'$tool' missing: run scripts/install-deps.sh"
done
[[ -z $PERF ]] || command -v perf >/dev/null || die "'perf' missing (Debian: linux-perf)"

WORK=$(mktemp -d /tmp/bench-drain.XXXXXX)
BED= LVSD_PID=
cleanup() {
    [[ -z $LVSD_PID ]] || { kill -CONT "$LVSD_PID" 2>/dev/null; kill "$LVSD_PID" 2>/dev/null; wait "$LVSD_PID" 2>/dev/null; } || true
    [[ -z $BED ]] || "$TESTBED" down "$BED" >/dev/null 2>&1 || true
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

BED=$(LVS_TESTBED_OWNER="scripts/bench-drain.sh pid $$" "$TESTBED" up | tail -n 1)
eval "$("$TESTBED" env "$BED")"
note "test bed $BED"

# Count + drop UDP to port 9 at a device's ingress (before any IP stack).
add_counter() { udp_sink_add "$1" "$2" drain 9; }  # netns device
del_counter() { udp_sink_del "$1" drain; }
count() { udp_sink_count "$1" drain; }

udp_rules 9 >"$WORK/rules"
udp_frame_cfg "$DIRECTOR_MAC" 9 1024 2047 >"$WORK/flows.cfg"   # 1024 flows

# The poller: continues lvsd (SIGCONT) itself, at time 0, then reads the sum of the given sysfs
# counters every millisecond and prints the time of the last change once they have not moved
# for 300 ms (or after 20 s). Starting the clock at SIGCONT rather than at the first change
# seen makes a late poller under-, never over-state the rate.
cat >"$WORK/poll.py" <<'EOF'
import os, signal, sys, time
pid = int(sys.argv[1]); paths = sys.argv[2:]
def total():
    s = 0
    for p in paths:
        with open(p) as f:
            s += int(f.read())
    return s
base = total(); prev = base
t0 = time.monotonic(); last = t0
os.kill(pid, signal.SIGCONT)
while True:
    now = time.monotonic(); v = total()
    if v != prev:
        last = now; prev = v
    elif prev != base and now - last > 0.3: break
    if now - t0 > 20: break
    time.sleep(0.001)
print(f"{t0:.6f} {last:.6f} {prev - base}")
EOF

start_lvsd() {  # mode
    local extra=() i
    [[ $1 == lvsd-kernel-drop ]] && extra=(--kernel-drop)
    [[ $1 == lvsd-no-kernel-drop || $1 == lvsd-kdrop ]] && extra=(--no-kernel-drop)
    if [[ $1 == lvsd-kdrop ]]; then
        ip netns exec "$NS_DIRECTOR" nft -f - <<EOF
table netdev kdrop {
    chain ingress {
        type filter hook ingress device "$IFACE" priority -500; policy accept;
        ip daddr $VIP drop
    }
}
EOF
    fi
    ip netns exec "$NS_DIRECTOR" taskset -c "$LVSD_CPU" "$LVSD" --interface "$IFACE" --rules "$WORK/rules" \
        --socket "$WORK/lvsd.sock" --ring-frames "$RING" "${extra[@]}" ${LVSD_EXTRA:-} </dev/null >"$WORK/lvsd.log" 2>&1 &
    LVSD_PID=$!
    "$TESTBED" track "$BED" lvsd "$LVSD_PID"
    for ((i = 0; i < 100; i++)); do
        grep -q 'lvsd: ready' "$WORK/lvsd.log" && return 0
        kill -0 "$LVSD_PID" 2>/dev/null || break
        sleep 0.1
    done
    cat "$WORK/lvsd.log" >&2
    return 1
}
stop_lvsd() {
    kill -CONT "$LVSD_PID" 2>/dev/null || true
    kill "$LVSD_PID" 2>/dev/null || true
    wait "$LVSD_PID" 2>/dev/null || true
    LVSD_PID=
    ip netns exec "$NS_DIRECTOR" nft delete table netdev kdrop 2>/dev/null || true
}
trafgen_n() {  # frames
    ip netns exec "$NS_CLIENT" timeout 30 taskset -c "$GEN_CPU" trafgen -o "$IFACE" -i "$WORK/flows.cfg" -n "$1" \
        -P 1 --no-sock-mem -Q -C >"$WORK/trafgen.log" 2>&1
}
nstat_director() { ip netns exec "$NS_DIRECTOR" nstat -az "$@" 2>/dev/null | awk '$1 == "IpInAddrErrors" || $1 == "IpInReceives" { printf "%s=%s ", $1, $2 }'; }
cpu_ticks() { awk '{ print $14, $15 }' "/proc/$LVSD_PID/stat"; }  # utime stime (clock ticks)

drain_once() {  # mode sink perf-file -> prints "rate delivered ms user% sys%"
    local mode=$1 sink=$2 perf_file=$3 paths=() before after t0 t1 got u0 s0 u1 s1 perf_pid=
    if [[ $sink == rs ]]; then
        for ns in "$NS_RS1" "$NS_RS2" "$NS_RS3"; do add_counter "$ns" "$IFACE"; done
        paths=("/sys/class/net/p-rs1/statistics/tx_packets" "/sys/class/net/p-rs2/statistics/tx_packets" "/sys/class/net/p-rs3/statistics/tx_packets")
    else
        add_counter "$NS_SW" p-dir
        paths=("/sys/class/net/p-dir/statistics/rx_packets")
    fi
    start_lvsd "$mode" || { note "lvsd did not start"; return 1; }
    trafgen_n 1024 || { note "trafgen failed"; return 1; }   # open the flows while lvsd runs
    sleep 1
    before=$(nstat_director)
    kill -STOP "$LVSD_PID"
    trafgen_n "$FRAMES" || { kill -CONT "$LVSD_PID"; note "trafgen failed"; return 1; }
    sleep 0.5
    if [[ -n $perf_file ]]; then
        perf record -F 20000 -g -o "$perf_file" -p "$LVSD_PID" -- sleep 2 >/dev/null 2>&1 &
        perf_pid=$!
        sleep 0.3
    fi
    read -r u0 s0 < <(cpu_ticks)
    ip netns exec "$NS_SW" nice -n -20 taskset -c "$GEN_CPU" python3 "$WORK/poll.py" "$LVSD_PID" "${paths[@]}" >"$WORK/poll.out"
    read -r u1 s1 < <(cpu_ticks)
    [[ -z $perf_pid ]] || wait "$perf_pid" || true
    after=$(nstat_director)
    read -r t0 t1 _ < <(tail -n 1 "$WORK/poll.out")
    got=0
    if [[ $sink == rs ]]; then
        for ns in "$NS_RS1" "$NS_RS2" "$NS_RS3"; do got=$((got + $(count "$ns"))); done
        for ns in "$NS_RS1" "$NS_RS2" "$NS_RS3"; do del_counter "$ns"; done
    else
        got=$(count "$NS_SW"); del_counter "$NS_SW"
    fi
    got=$((got - 1024))   # the warm-up frames
    stop_lvsd
    note "$mode/$sink: nstat before: $before after: $after; lvsd ticks user $((u1 - u0)) sys $((s1 - s0))"
    awk -v a="$t0" -v b="$t1" -v n="$got" -v u=$((u1 - u0)) -v s=$((s1 - s0)) \
        'BEGIN { r = (b > a) ? n / (b - a) : 0; printf "%.0f %d %.1f %d %d\n", r, n, (b - a) * 1000, u, s }'
}

median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{ a[NR] = $1 } END { print (NR ? a[int((NR + 1) / 2)] : "-") }'; }

echo "lvsd drain, $FRAMES frames of 1024 known UDP flows, ring $RING, lvsd on CPU$LVSD_CPU; $(date -u +%FT%TZ); load: $(cut -d' ' -f1-3 /proc/loadavg)"
declare -A MED
IFS=, read -ra mode_list <<<"$MODES"
IFS=, read -ra sink_list <<<"$SINKS"
for ((r = 1; r <= RUNS; r++)); do   # modes interleaved within a run, so drift hits all alike
    for sink in "${sink_list[@]}"; do
        for mode in "${mode_list[@]}"; do
            pf=
            [[ -n $PERF && $r == 1 ]] && pf=$PERF.$mode.$sink
            res=$(drain_once "$mode" "$sink" "$pf") || res="0 0 0 0 0"
            read -r rate got ms u s <<<"$res"
            echo "run $r $mode sink=$sink: $rate frames/s ($got of $FRAMES delivered in $ms ms; lvsd CPU ticks user $u sys $s)"
            MED[$mode,$sink]+=" $rate"
        done
    done
done
echo
echo "| mode | sink | drain frames/s (median of $RUNS) | runs |"
echo "|---|---|---|---|"
for sink in "${sink_list[@]}"; do
    for mode in "${mode_list[@]}"; do
        echo "| $mode | $sink | $(median <<<"${MED[$mode,$sink]}") |${MED[$mode,$sink]} |"
    done
done
if [[ -n $PERF ]]; then
    for f in "$PERF".*; do
        echo; echo "== perf report (self, top 25): $f"
        perf report -i "$f" --no-children --sort dso,symbol --stdio 2>/dev/null | grep -v '^#' | grep '%' | head -n 25
    done
fi
