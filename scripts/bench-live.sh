#!/usr/bin/env bash
# Where lvsd's worker spends a live packet-rate run (issue 8: why the live rate is below the
# drain rate). One bed; for each configuration lvsd (release build, pinned to LVSD_CPU) forwards
# 60-byte UDP frames that trafgen (GEN_CPU) sends to VIP:9 at full speed, and over a window of
# S seconds the script reads, per second:
#   delivered (nft counters at the real servers' ingress), offered (client's tx_packets),
#   lvsd's rx_frames / forwarded_frames / ring_drops (its stats file),
#   the worker thread's CPU time, its run-queue wait (/proc/PID/task/TID/schedstat: time it was
#   runnable but another task had the CPU), its voluntary (sleeps in poll) and involuntary
#   (preempted) context switches, and the director CPU's busy and softirq share (/proc/stat);
#   with --strace, the worker's syscalls (strace -c -f, a second window; strace slows lvsd, so
#   its rates are not mixed with the others): poll() and sendmmsg() calls per second and the
#   mean batch (forwarded / sendmmsg);
#   with --perf FILE, `perf record -g` of lvsd over a third window (FILE.<label>).
#
#   sudo scripts/bench-live.sh [--runs N] [--seconds S] [--strace] [--perf FILE] [--nice N]
#        [--config 'LABEL=lvsd arguments']...    (default: poll='--kernel-drop',
#        busy='--kernel-drop --busy-poll', batch256='--kernel-drop --batch 256')
#   --autogroup-nice N: start lvsd and trafgen each in a session of its own (setsid) and give
#   that session's scheduler autogroup this nice level (/proc/PID/autogroup). With
#   kernel.sched_autogroup_enabled=1 a plain nice level only counts inside one session: against
#   other sessions' builds it does nothing.
#   --nice N: run everything (trafgen, lvsd, the sampling) at this nice level, e.g. -20 on a
#   machine shared with builds, so that the worker's run-queue wait stays small.
#   LVSD_BIN=path (default .build-release/release/lvsd), LVSD_CPU (default 1), GEN_CPU (0).
#
# Every load is bounded (trafgen -n and timeout; strace and perf under timeout); the bed and
# every process started here are removed on exit, failure included.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
TESTBED=$HERE/testbed.sh
# shellcheck source=lib/bench-common.sh
source "$HERE/lib/bench-common.sh"
LVSD=${LVSD_BIN:-$ROOT/.build-release/release/lvsd}
LVSD_CPU=${LVSD_CPU:-1}
GEN_CPU=${GEN_CPU:-0}
RUNS=3 SECS=3 WARMUP=1.5 STRACE=0 PERF= NICE=0 AGNICE=
declare -a CONFIGS=()
MAX_PPS_BOUND=2000000

die() { echo "bench-live.sh: $*" >&2; exit 1; }
note() { echo "# $*" >&2; }
while (($#)); do
    case $1 in
        --runs) RUNS=${2:?}; shift 2 ;;
        --seconds) SECS=${2:?}; shift 2 ;;
        --strace) STRACE=1; shift ;;
        --perf) PERF=${2:?}; shift 2 ;;
        --config) CONFIGS+=("${2:?}"); shift 2 ;;
        --nice) NICE=${2:?}; shift 2 ;;
        --autogroup-nice) AGNICE=${2:?}; shift 2 ;;
        -h | --help) sed -n '2,24p' "$0"; exit 0 ;;
        *) die "unknown argument '$1' (see --help)" ;;
    esac
done
((${#CONFIGS[@]})) || CONFIGS=("poll=--kernel-drop" "busy=--kernel-drop --busy-poll" "batch256=--kernel-drop --batch 256")
[[ $RUNS =~ ^[1-9]$ ]] || die "--runs: 1..9"
[[ $SECS =~ ^[1-9][0-9]?$ ]] || die "--seconds: 1..99"
((EUID == 0)) || die "needs root (namespaces, packet sockets)"
[[ $NICE =~ ^-?[0-9]+$ ]] && ((NICE >= -20 && NICE <= 19)) || die "--nice: -20..19"
((NICE == 0)) || renice -n "$NICE" -p $$ >/dev/null
[[ -z $AGNICE ]] || { [[ $AGNICE =~ ^-?[0-9]+$ ]] && ((AGNICE >= -20 && AGNICE <= 19)); } || die "--autogroup-nice: -20..19"
SESSION=()
[[ -z $AGNICE ]] || SESSION=(setsid)
own_autogroup() {  # pid: give its session's autogroup the --autogroup-nice level
    [[ -z $AGNICE ]] || echo "$AGNICE" >"/proc/$1/autogroup" || note "cannot set the autogroup nice of $1"
}
[[ -x $LVSD ]] || die "no lvsd at $LVSD: build it (swift build -c release --product lvsd --scratch-path .build-release) or set LVSD_BIN"
for tool in trafgen nft jq taskset timeout; do command -v "$tool" >/dev/null || die "'$tool' missing: run scripts/install-deps.sh"; done
((STRACE == 0)) || command -v strace >/dev/null || die "'strace' missing"
[[ -z $PERF ]] || command -v perf >/dev/null || die "'perf' missing (Debian: linux-perf)"

WORK=$(mktemp -d /tmp/bench-live.XXXXXX)
BED= LVSD_PID= TPID=
cleanup() {
    set +e
    stop_pid "$TPID"; stop_pid "$LVSD_PID"
    [[ -z $BED ]] || "$TESTBED" down "$BED" >/dev/null 2>&1
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

BED=$(LVS_TESTBED_OWNER="scripts/bench-live.sh pid $$" "$TESTBED" up | tail -n 1)
eval "$("$TESTBED" env "$BED")"
for ns in "$NS_RS1" "$NS_RS2" "$NS_RS3"; do udp_sink_add "$ns" "$IFACE" live 9; done
delivered() { echo $(($(udp_sink_count "$NS_RS1" live) + $(udp_sink_count "$NS_RS2" live) + $(udp_sink_count "$NS_RS3" live))); }
offered() { ip netns exec "$NS_CLIENT" cat "/sys/class/net/$IFACE/statistics/tx_packets"; }
udp_rules 9 >"$WORK/rules"
udp_frame_cfg "$DIRECTOR_MAC" 9 1024 65000 >"$WORK/t.cfg"

start_lvsd() {  # args...
    local i
    rm -f "$WORK/stats.json"
    # shellcheck disable=SC2068  # the configuration's arguments, split on purpose
    ip netns exec "$NS_DIRECTOR" "${SESSION[@]}" taskset -c "$LVSD_CPU" "$LVSD" --interface "$IFACE" --rules "$WORK/rules" \
        --socket "$WORK/lvsd.sock" --no-save --stats-file "$WORK/stats.json" $@ </dev/null >"$WORK/lvsd.log" 2>&1 &
    LVSD_PID=$!
    "$TESTBED" track "$BED" lvsd "$LVSD_PID"
    own_autogroup "$LVSD_PID"
    for ((i = 0; i < 100; i++)); do
        grep -q 'lvsd: ready' "$WORK/lvsd.log" && return 0
        kill -0 "$LVSD_PID" 2>/dev/null || break
        sleep 0.1
    done
    cat "$WORK/lvsd.log" >&2; return 1
}
# The worker: the lvsd thread with the most CPU time once traffic flows.
worker_tid() {
    local t best= max=-1 v
    for t in /proc/"$LVSD_PID"/task/*; do
        v=$(awk '{ print $14 + $15 }' "$t/stat" 2>/dev/null) || continue
        ((v > max)) && { max=$v; best=${t##*/}; }
    done
    echo "$best"
}
counter() { jq -r --arg k "$1" '.counters[$k] // 0' "$WORK/stats.json" 2>/dev/null || echo 0; }
# "time delivered offered rx fwd drops run_ns wait_ns vol invol cpu_busy cpu_si cpu_total"
snapshot() {  # tid
    local sched vol invol
    read -r sched < <(awk '{ print $1, $2 }' "/proc/$LVSD_PID/task/$1/schedstat")
    vol=$(awk '/^voluntary_ctxt_switches/ { print $2 }' "/proc/$LVSD_PID/task/$1/status")
    invol=$(awk '/^nonvoluntary_ctxt_switches/ { print $2 }' "/proc/$LVSD_PID/task/$1/status")
    echo "$EPOCHREALTIME $(delivered) $(offered) $(counter rx_frames) $(counter forwarded_frames) $(counter ring_drops) $sched $vol $invol $(awk -v c="cpu$LVSD_CPU" '$1 == c { t = 0; for (i = 2; i <= 9; i++) t += $i; print t - $5 - $6, $8, t }' /proc/stat)"
}
start_load() {  # seconds
    ip netns exec "$NS_CLIENT" "${SESSION[@]}" taskset -c "$GEN_CPU" timeout "$1" trafgen -o "$IFACE" -i "$WORK/t.cfg" \
        -n $((MAX_PPS_BOUND * $1)) -P 1 --no-sock-mem -Q -C >"$WORK/trafgen.log" 2>&1 &
    TPID=$!
    own_autogroup "$TPID"
}

echo "lvsd live profile: $LVSD pinned to CPU$LVSD_CPU, trafgen on CPU$GEN_CPU at full speed, ${SECS} s windows, nice $NICE, autogroup nice ${AGNICE:-(not set)}; autogroups: $(cat /proc/sys/kernel/sched_autogroup_enabled 2>/dev/null || echo ?); $(date -u +%FT%TZ); load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "per second: delivered/offered frames, lvsd rx/forwarded/ring_drops; worker: CPU %, run-queue wait %, voluntary/involuntary switches; CPU$LVSD_CPU busy/softirq %"
declare -A RES=()
for ((r = 1; r <= RUNS; r++)); do
    for cfg in "${CONFIGS[@]}"; do
        label=${cfg%%=*} args=${cfg#*=}
        start_lvsd "$args" || { note "$label: lvsd did not start"; continue; }
        # The stats file is written every second: the stats window is whole seconds long, and
        # the counters are read 1.2 s after its ends.
        start_load $((SECS * 3 + 20))
        sleep "$WARMUP"
        tid=$(worker_tid)
        a=$(snapshot "$tid"); sleep "$SECS"; b=$(snapshot "$tid")
        line=$(awk -v a="$a" -v b="$b" -v hz=100 'BEGIN {
            split(a, x, " "); split(b, y, " "); dt = y[1] - x[1]; ct = y[13] - x[13]; if (ct <= 0) ct = 1
            printf "delivered %d offered %d | rx %d fwd %d drops %d | worker cpu %.0f%% wait %.0f%% vol %d/s invol %d/s | cpu busy %.0f%% si %.0f%%",
                (y[2] - x[2]) / dt, (y[3] - x[3]) / dt, (y[4] - x[4]) / dt, (y[5] - x[5]) / dt, (y[6] - x[6]) / dt,
                100 * (y[7] - x[7]) / 1e9 / dt, 100 * (y[8] - x[8]) / 1e9 / dt, (y[9] - x[9]) / dt, (y[10] - x[10]) / dt,
                100 * (y[11] - x[11]) / ct, 100 * (y[12] - x[12]) / ct }')
        echo "run $r $label ($args): $line"
        RES[$label]+=" $(awk '{ print $2 }' <<<"$line")"
        if ((STRACE)) && ((r == 1)); then
            # strace prints its summary when timeout's SIGINT detaches it.
            s0=$(counter forwarded_frames)
            timeout -s INT "$SECS" strace -c -f -q -p "$LVSD_PID" -o "$WORK/strace.$label" 2>/dev/null || true
            sleep 2; s1=$(counter forwarded_frames)
            calls() { awk -v s="$1" '$NF == s { print $4 }' "$WORK/strace.$label" | head -n 1; }
            echo "  strace window ($label, lvsd slowed by strace): $(awk -v p="$(calls poll)" -v m="$(calls sendmmsg)" -v s="$SECS" -v f=$((s1 - s0)) -v w=$((SECS + 2)) 'BEGIN {
                printf "poll %d/s, sendmmsg %d/s, forwarded %d/s, mean frames per sendmmsg %.1f", p / s, m / s, f / w, (m > 0) ? (f / w) / (m / s) : 0 }')"
            sed 's/^/    /' "$WORK/strace.$label" | head -n 12
        fi
        if [[ -n $PERF ]] && ((r == 1)); then
            timeout $((SECS + 10)) perf record -F 10000 -g -o "$PERF.$label" -t "$tid" -- sleep "$SECS" >/dev/null 2>&1 || true
        fi
        stop_pid "$TPID"; TPID=
        stop_pid "$LVSD_PID"; LVSD_PID=
        echo "  whole run (lvsd's counters at exit): $(grep -o 'rx_frames=[0-9]*\|forwarded_frames=[0-9]*\|ring_drops=[0-9]*' "$WORK/lvsd.log" | paste -sd' ' -)"
    done
done
echo
echo "| configuration | lvsd arguments | delivered frames/s (median of $RUNS) | runs |"
echo "|---|---|---|---|"
for cfg in "${CONFIGS[@]}"; do
    label=${cfg%%=*}
    echo "| $label | \`${cfg#*=}\` | $(median <<<"${RES[$label]:-}") |${RES[$label]:-} |"
done
if [[ -n $PERF ]]; then
    for cfg in "${CONFIGS[@]}"; do
        f=$PERF.${cfg%%=*}
        [[ -f $f ]] || continue
        echo; echo "== perf report of the worker (self, top 20): $f"
        perf report -i "$f" --no-children --sort dso,symbol --stdio 2>/dev/null | grep -v '^#' | grep '%' | head -n 20
    done
fi
