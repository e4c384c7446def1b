#!/usr/bin/env bash
# Packet-rate benchmark: 60-byte UDP frames (64 on the wire with the FCS) from trafgen in the
# client namespace to VIP:9, counted where they reach the real servers, for
#   direct      client -> rs1, no director at all: the ceiling of the path on one generator core
#   nftlb       nftlb DSR farm (hash on source address and port) in the director: the in-kernel peer
#   lvsd        lvsd pinned to one CPU in the director, as it starts by default: with its kernel
#               drop (an nft netdev-ingress drop of VIP frames, installed and removed by lvsd,
#               so the director's own IP stack skips them; lvsd's packet tap sees them first)
#   lvsd-no-kernel-drop  lvsd --no-kernel-drop: the director's IP stack handles VIP frames too
#   lvsd-kdrop  lvsd --no-kernel-drop plus the same drop made by hand (TESTBED's KDROP)
#   lvsd-kernel-drop  lvsd --kernel-drop (the default drop, made mandatory)
#   lvsd-xdp    lvsd --backend af_xdp: an XDP program redirects VIP frames to an AF_XDP socket
#               (the run fails if lvsd logs that it fell back to AF_PACKET)
# all in one test bed, interleaved: round r = 1..N runs every mode once, in an order rotated by
# r-1 (round 1: direct nftlb lvsd ..., round 2: nftlb lvsd ... direct), each mode set up and torn
# down again within its slot (its functional check in round 1 only). The host's speed swings 2x
# within a minute; run one mode after the other and a slow minute lands on one mode's runs and
# moves the ratios. Interleaved, it hits every mode alike. Reported: per mode the median of its
# runs and the ratio of those medians (as before), and the paired ratios: per round each mode's
# figure over nftlb's and over direct's from that same round, and the median of those.
# Method: ../shared/design/TESTBED.md §4/§5 and BENCHMARKS.md.
#
# Usage: sudo scripts/bench-pps.sh [options]
#   --runs N          rounds, i.e. measured runs per mode (default 5); the median is reported
#   --seconds S       measuring window per run, seconds (default 5)
#   --warmup S        generator running before the window opens, seconds (default 1.5)
#   --modes LIST      comma-separated subset of direct,nftlb,lvsd,lvsd-no-kernel-drop,lvsd-kdrop,
#                     lvsd-kernel-drop,lvsd-xdp (default: direct,nftlb,lvsd,lvsd-no-kernel-drop)
#   --wait-quiet S    before each run, wait for the machine to be quiet; S is the budget for all
#                     these waits together, seconds (default 300; 0: never wait)
#   --noise-max PCT   a run is "noisy" (left out of the median, and retried) when processes
#                     outside the bed used more than PCT % of one CPU in user time during its
#                     window (default 20)
#   --retries N       extra attempts per mode, over all rounds, to replace noisy or failed runs
#                     (default 3); a retry runs within the same round, right after the run it
#                     replaces; noisy runs are only retried while some of the wait budget is left
#   --gen-cpu N       CPU of the generator (default 0)
#   --lvsd-cpu N      CPU lvsd is pinned to (default 1)
#   --lvsd-workers N  lvsd's data-plane workers (--workers; default 1)
#   --lvsd-cpus LIST  pin lvsd's workers to these CPUs (--cpu-list, and taskset for the process),
#                     e.g. 1,0 for two workers; default: the whole process on --lvsd-cpu
#   --nice N          run the whole bench (generator, lvsd, sampling) at this nice level
#                     (default 0; -20 shields it somewhat from other sessions' compiles, but not
#                     the softirq work the kernel defers to ksoftirqd)
#   --out FILE        result file (default bench-results/pps-<UTC timestamp>.txt)
# Environment: LVSD_BIN=/path/to/lvsd skips the release build.
# Output: every run, the rounds with their per-round ratios, a table (medians, ratios of the
# medians, and the paired ratios: median of the per-round ratios) and one `RESULT mode=...` line
# per mode (x_direct/x_nftlb: ratio of the medians; x_direct_paired/x_nftlb_paired: median of
# the per-round ratios), on stdout and in the result file. Exit status 0 when every mode
# produced a median (clean, or marked noisy), 1 when a
# mode failed (setup, functional check or every run).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TESTBED=$ROOT/scripts/testbed.sh
# shellcheck source=lib/bench-common.sh
source "$ROOT/scripts/lib/bench-common.sh"

RUNS=5
SECONDS_WINDOW=5
WARMUP=1.5
MODES=direct,nftlb,lvsd,lvsd-no-kernel-drop
WAIT_QUIET=300
NOISE_MAX=20
RETRIES=3
GEN_CPU=0
LVSD_CPU=1
LVSD_WORKERS=1
LVSD_CPUS=
NICE=0
OUT=

PROBE_FRAMES=30          # functional check before each mode
READY_TIMEOUT_S=10       # lvsd "ready" / nftlb API answering
STOP_TIMEOUT_S=5         # SIGTERM -> SIGKILL (stop_pid, lib/bench-common.sh)
MAX_PPS_BOUND=2000000    # trafgen -n = this x its timeout: far above any rate seen here
NFTLB_PORT=5555
UDP_BENCH_PORT=9

usage() {
    sed -n '/^# Usage:/,/^# mode failed/p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2
    exit 2
}
die() { echo "bench-pps: error: $*" >&2; exit 1; }

while (($#)); do
    case $1 in
        --runs) RUNS=${2:?}; shift 2 ;;
        --seconds) SECONDS_WINDOW=${2:?}; shift 2 ;;
        --warmup) WARMUP=${2:?}; shift 2 ;;
        --modes) MODES=${2:?}; shift 2 ;;
        --wait-quiet) WAIT_QUIET=${2:?}; shift 2 ;;
        --noise-max) NOISE_MAX=${2:?}; shift 2 ;;
        --retries) RETRIES=${2:?}; shift 2 ;;
        --gen-cpu) GEN_CPU=${2:?}; shift 2 ;;
        --lvsd-cpu) LVSD_CPU=${2:?}; shift 2 ;;
        --lvsd-workers) LVSD_WORKERS=${2:?}; shift 2 ;;
        --lvsd-cpus) LVSD_CPUS=${2:?}; shift 2 ;;
        --nice) NICE=${2:?}; shift 2 ;;
        --out) OUT=${2:?}; shift 2 ;;
        -h | --help) usage ;;
        *) echo "bench-pps: unknown argument '$1'" >&2; usage ;;
    esac
done

[[ $RUNS =~ ^[1-9][0-9]?$ ]] || die "--runs: 1..99"
[[ $SECONDS_WINDOW =~ ^[1-9][0-9]?$ ]] || die "--seconds: 1..99 (whole seconds)"
[[ $WARMUP =~ ^[0-9]+(\.[0-9]+)?$ ]] || die "--warmup: a number of seconds"
[[ $WAIT_QUIET =~ ^[0-9]+$ ]] || die "--wait-quiet: whole seconds"
[[ $NOISE_MAX =~ ^[0-9]+$ ]] || die "--noise-max: a percentage of one CPU"
[[ $RETRIES =~ ^[0-9]+$ ]] || die "--retries: a count"
if ! [[ $NICE =~ ^-?[0-9]+$ ]] || ((NICE < -20 || NICE > 19)); then die "--nice: -20..19"; fi
NCPU=$(nproc)
((NCPU >= 2)) || die "needs at least 2 CPUs (generator and lvsd on different cores); this machine has $NCPU"
if ! [[ $GEN_CPU =~ ^[0-9]+$ ]] || ((GEN_CPU >= NCPU)); then die "--gen-cpu: 0..$((NCPU - 1))"; fi
if ! [[ $LVSD_CPU =~ ^[0-9]+$ ]] || ((LVSD_CPU >= NCPU)); then die "--lvsd-cpu: 0..$((NCPU - 1))"; fi
if ! [[ $LVSD_WORKERS =~ ^[1-9][0-9]*$ ]]; then die "--lvsd-workers: a number of workers, 1 or more"; fi
IFS=, read -r -a MODE_LIST <<<"$MODES"
for m in "${MODE_LIST[@]}"; do
    case $m in direct | nftlb | lvsd | lvsd-no-kernel-drop | lvsd-kdrop | lvsd-kernel-drop | lvsd-xdp) ;; *) die "unknown mode '$m'" ;; esac
done
((EUID == 0)) || die "needs root (network namespaces, packet sockets): sudo $0"

TS=$(date -u +%Y%m%dT%H%M%SZ)
if [[ -z $OUT ]]; then
    mkdir -p "$ROOT/bench-results"
    OUT=$ROOT/bench-results/pps-$TS.txt
fi
: >"$OUT"

# say: results (stdout and the file). note: progress (stderr and the file, as comments).
say() { echo "$*"; echo "$*" >>"$OUT"; }
note() { echo "bench-pps: $*" >&2; echo "# $*" >>"$OUT"; }

# ------------------------------------------------------------------ dependencies, lvsd

"$ROOT/scripts/install-deps.sh" >&2
for tool in trafgen nftlb nft jq curl taskset timeout; do
    command -v "$tool" >/dev/null || die "$tool not found (scripts/install-deps.sh should have installed it)"
done

need_lvsd=0
for m in "${MODE_LIST[@]}"; do [[ $m == lvsd* ]] && need_lvsd=1; done
LVSD=
if ((need_lvsd)); then
    [[ -z ${LVSD_BIN:-} ]] || note "using LVSD_BIN=$LVSD_BIN"
    LVSD=$(lvsd_release_binary "$ROOT") || die "no lvsd: the release build failed or ${LVSD_BIN:-its binary} is not executable"
fi

# ------------------------------------------------------------------ CPU accounting

BED=            # the test bed's prefix, once it is up

# Per-CPU lines of /proc/stat ("cpuN user nice system idle iowait irq softirq steal ...").
cpu_snapshot() { grep '^cpu[0-9]' /proc/stat; }

# PIDs of every process in the bed's namespaces (ours: generator, director, servers).
bed_pids() {
    local h
    [[ -n $BED ]] || return 0
    for h in client director rs1 rs2 rs3 sw; do ip netns pids "$BED$h" 2>/dev/null || true; done
}

# "utime stime" summed over the given PIDs, in clock ticks (the unit of /proc/stat).
pids_cpu() {
    local pid stat u=0 s=0
    local -a f
    for pid in "$@"; do
        read -r stat 2>/dev/null <"/proc/$pid/stat" || continue
        stat=${stat##*) }
        read -r -a f <<<"$stat"
        u=$((u + f[11])) s=$((s + f[12]))   # fields 14 and 15
    done
    echo "$u $s"
}

# cpu_report SNAP_A SNAP_B OURS_USER_TICKS OURS_SYS_TICKS
# -> "cpu0=<busy>/<si> cpu1=... foreign_user=<pct> foreign_all=<pct>" (percent of one CPU).
# foreign_user: user+nice time of the whole machine minus the user time of the bed's
# processes: what compilers and tests of other sessions add (they run in user mode; the
# packet path runs in system/softirq time, whichever task it interrupts).
cpu_report() {
    awk -v ou="$3" -v os="$4" '
        NR == FNR { for (i = 2; i <= 9; i++) a[$1, i] = $i; next }
        {
            tot = 0; for (i = 2; i <= 9; i++) { d[i] = $i - a[$1, i]; tot += d[i] }
            if (tot <= 0) tot = 1
            busy = 100 * (tot - d[5] - d[6]) / tot
            printf "%s=%.0f/%.0f ", $1, busy, 100 * d[8] / tot
            user += d[2] + d[3]; allbusy += tot - d[5] - d[6]; ticks += tot; n++
        }
        END {
            per = ticks / n; if (per <= 0) per = 1
            fu = 100 * (user - ou) / per; if (fu < 0) fu = 0
            fa = 100 * (allbusy - ou - os) / per; if (fa < 0) fa = 0
            printf "foreign_user=%.0f foreign_all=%.0f\n", fu, fa
        }' <(echo "$1") <(echo "$2")
}

# Busy time of the machine outside the bed over ~1 s, percent of one CPU.
foreign_now() {
    local a b ca cb pids
    mapfile -t pids < <(bed_pids)
    a=$(cpu_snapshot); ca=$(pids_cpu "${pids[@]}")
    sleep 1
    b=$(cpu_snapshot); cb=$(pids_cpu "${pids[@]}")
    local r
    r=$(cpu_report "$a" "$b" "$(( ${cb% *} - ${ca% *} ))" "$(( ${cb#* } - ${ca#* } ))")
    r=${r##*foreign_all=}
    echo "${r%% *}"
}

# Top CPU users right now (outside our bed or not), for the noise warning.
top_procs() {
    ps -eo pid=,pcpu=,etime=,comm= --sort=-pcpu | head -n "${1:-4}" |
        awk '$2 > 5 { printf "    pid %s %s%% cpu for %s: %s\n", $1, $2, $3, $4 }'
}

WAIT_LEFT=$WAIT_QUIET   # seconds of the quiet-wait budget left
wait_quiet() {
    local f start=$SECONDS
    ((WAIT_LEFT > 0)) || return 0
    while :; do
        f=$(foreign_now)
        ((f <= NOISE_MAX)) && break
        if ((WAIT_LEFT - (SECONDS - start) <= 0)); then
            note "machine busy (${f}% of one CPU outside the bed) and the ${WAIT_QUIET} s wait budget is spent: measuring anyway from now on"
            break
        fi
    done
    WAIT_LEFT=$((WAIT_LEFT - (SECONDS - start)))
    ((WAIT_LEFT > 0)) || WAIT_LEFT=0
}

# ------------------------------------------------------------------ the bed

TPID=           # generator (the timeout process wrapping trafgen)
LVSD_PID=
WORK=

# shellcheck disable=SC2317  # reached through the EXIT trap
cleanup() {
    local rc=$?
    set +e
    trap '' PIPE
    stop_pid "$TPID"
    stop_pid "$LVSD_PID"
    stop_pid "$NFTLB_PID"
    [[ -n $BED ]] && "$TESTBED" down "$BED" >&2
    [[ -n $WORK ]] && rm -rf "$WORK"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

WORK=$(mktemp -d /tmp/bench-pps.XXXXXX)
# With --nice, the sampling commands get the same priority as what they measure (on a loaded
# machine they would otherwise take seconds to read a counter).
((NICE == 0)) || renice -n "$NICE" -p $$ >/dev/null

# ---------------------------------------------------------------- header, noise check

LOAD1=$(cut -d' ' -f1 /proc/loadavg)
say "SwiftLVS packet-rate benchmark, $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
say "machine: $(nproc) CPUs ($(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)), kernel $(uname -r)"
say "command: scripts/bench-pps.sh --runs $RUNS --seconds $SECONDS_WINDOW --warmup $WARMUP --modes $MODES --wait-quiet $WAIT_QUIET --noise-max $NOISE_MAX --retries $RETRIES --gen-cpu $GEN_CPU --lvsd-cpu $LVSD_CPU --lvsd-workers $LVSD_WORKERS${LVSD_CPUS:+ --lvsd-cpus $LVSD_CPUS} --nice $NICE"
say "generator: $(trafgen -v 2>&1 | head -n 1); nftlb: $(nftlb -h 2>&1 | awk '/Version/ { print $NF; exit }')${LVSD:+; lvsd: $LVSD}"
say "git: $(cd "$ROOT" && git describe --always --dirty 2>/dev/null || echo unknown)"
FOREIGN0=$(foreign_now)   # no bed yet: everything is foreign
say "load average (1 min) at start: $LOAD1; CPU busy outside the bench over 1 s: ${FOREIGN0}% of one CPU"
if awk -v l="$LOAD1" 'BEGIN { exit !(l > 0.5) }' || ((FOREIGN0 > NOISE_MAX)); then
    say "WARNING: the machine is busy (other builds or tests?); figures may be low. Top processes:"
    tops=$(top_procs 5)
    say "${tops:-    (none above 5 % right now: the load average lags)}"
    say "  Each run waits up to ${WAIT_QUIET} s for quiet; runs with > ${NOISE_MAX}% foreign user CPU are marked noisy and retried."
fi

note "building the test bed"
BED=$(LVS_TESTBED_OWNER="scripts/bench-pps.sh pid $$" "$TESTBED" up | tail -n 1)
eval "$("$TESTBED" env "$BED")"
note "test bed $BED"

# The counters at each real server's ingress: count and drop UDP to port 9 before the IP
# stack (no socket listens there; nothing is answered).
for rs in "$NS_RS1" "$NS_RS2" "$NS_RS3"; do udp_sink_add "$rs" "$IFACE" bench "$UDP_BENCH_PORT"; done
rs_count() { udp_sink_count "$1" bench; }
nsstat() { ip netns exec "$1" cat "/sys/class/net/$IFACE/statistics/$2"; }

# Frames: Ethernet + IPv4 + UDP + 18 bytes = 60 bytes; a new source port for every frame.
write_cfg() { udp_frame_cfg "$2" "$UDP_BENCH_PORT" 1024 65000 >"$1"; }  # file dst-mac
CFG_DIRECT=$WORK/t-direct.cfg
CFG_DIRECTOR=$WORK/t-director.cfg
write_cfg "$CFG_DIRECT" "$RS1_MAC"
write_cfg "$CFG_DIRECTOR" "$DIRECTOR_MAC"

# Sends N frames and prints "rs1 rs2 rs3" frames that arrived; false if not all did.
probe() {  # cfg n
    local cfg=$1 n=$2 a1 a2 a3 b1 b2 b3 i
    a1=$(rs_count "$NS_RS1") a2=$(rs_count "$NS_RS2") a3=$(rs_count "$NS_RS3")
    ip netns exec "$NS_CLIENT" timeout 10 trafgen -o "$IFACE" -i "$cfg" -n "$n" -P 1 --no-sock-mem -Q -C \
        >"$WORK/probe.log" 2>&1 || { cat "$WORK/probe.log" >&2; return 1; }
    for ((i = 0; i < 20; i++)); do
        sleep 0.1
        b1=$(rs_count "$NS_RS1") b2=$(rs_count "$NS_RS2") b3=$(rs_count "$NS_RS3")
        (( b1 - a1 + b2 - a2 + b3 - a3 >= n )) && break
    done
    echo "$((b1 - a1)) $((b2 - a2)) $((b3 - a3))"
    (( b1 - a1 + b2 - a2 + b3 - a3 == n ))
}

# ------------------------------------------------------------------ one run

# Per-run results, appended per mode (space-separated).
# R_*: clean runs; N_*: every measured run (clean or noisy), used when no run was clean.
declare -A R_PPS=() R_OFF=() R_C0=() R_C1=() R_CLEAN=() R_FAIL=() R_DROPS=()
declare -A N_PPS=() N_OFF=() N_C0=() N_C1=() N_RUNS=() D_PPS=()
LAST_STATS=

lvsd_counter() {  # name -> value in the stats file (0 if absent)
    jq -r --arg k "$1" '.counters[$k] // 0' "$WORK/lvsd-stats.json" 2>/dev/null || echo 0
}

# "t tx_packets tx_dropped t1 rs1 t2 rs2 t3 rs3": each counter with the midpoint of its read.
sample_counters() {
    local t0 t1 v d out ns
    t0=$EPOCHREALTIME
    v=$(nsstat "$NS_CLIENT" tx_packets); d=$(nsstat "$NS_CLIENT" tx_dropped)
    t1=$EPOCHREALTIME
    out="$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f", (a + b) / 2 }') $v $d"
    for ns in "$NS_RS1" "$NS_RS2" "$NS_RS3"; do
        t0=$EPOCHREALTIME; v=$(rs_count "$ns"); t1=$EPOCHREALTIME
        out+=" $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f", (a + b) / 2 }') $v"
    done
    echo "$out"
}

run_once() {  # mode cfg attempt round
    local mode=$1 cfg=$2 attempt=$3 round=$4
    local timeout_s bound sA sB snapA snapB
    local -a pids
    # The run normally ends with our SIGTERM right after the window; the timeout is only the
    # bound, generous because sampling slows down on a loaded machine.
    timeout_s=$(awk -v w="$WARMUP" -v s="$SECONDS_WINDOW" 'BEGIN { printf "%d", w + s + 30.999 }')
    bound=$((MAX_PPS_BOUND * timeout_s))

    wait_quiet
    # Directly backgrounded: `ip netns exec` execs taskset, which execs timeout, so $! is
    # timeout's PID; trafgen is its only child and gets its signals.
    ip netns exec "$NS_CLIENT" taskset -c "$GEN_CPU" timeout "$timeout_s" \
        trafgen -o "$IFACE" -i "$cfg" -n "$bound" -P 1 --no-sock-mem -Q -C >"$WORK/trafgen.log" 2>&1 &
    TPID=$!
    sleep "$WARMUP"
    if ! kill -0 "$TPID" 2>/dev/null; then
        note "$mode run $attempt: trafgen exited during the warm-up:"; sed 's/^/    /' "$WORK/trafgen.log" >&2
        wait "$TPID" 2>/dev/null || true; TPID=
        return 1
    fi
    mapfile -t pids < <(bed_pids)
    # Counters first, CPU last at the start; CPU first, counters last at the end: the
    # sampling commands stay out of the CPU window.
    sA=$(sample_counters)
    snapA=$(cpu_snapshot); local cA; cA=$(pids_cpu "${pids[@]}")
    sleep "$SECONDS_WINDOW"
    snapB=$(cpu_snapshot); local cB; cB=$(pids_cpu "${pids[@]}")
    local alive=1
    kill -0 "$TPID" 2>/dev/null || alive=0
    sB=$(sample_counters)
    stop_pid "$TPID"; TPID=
    if ((!alive)); then
        note "$mode run $attempt: trafgen ended inside the window (bound -n $bound reached or error); run discarded; its output:"
        sed 's/^/    /' "$WORK/trafgen.log" >&2
        return 1
    fi

    local cpu line status pps off drops r1 r2 r3
    cpu=$(cpu_report "$snapA" "$snapB" "$(( ${cB% *} - ${cA% *} ))" "$(( ${cB#* } - ${cA#* } ))")
    # Each counter over its own interval (its two read times): the reads take a while.
    read -r off drops r1 r2 r3 < <(awk -v a="$sA" -v b="$sB" 'BEGIN {
        split(a, x, " "); split(b, y, " ")
        tx = (y[2] - x[2]) / (y[1] - x[1]); dr = y[3] - x[3]
        for (i = 0; i < 3; i++) r[i] = (y[5 + 2 * i] - x[5 + 2 * i]) / (y[4 + 2 * i] - x[4 + 2 * i])
        printf "%d %d %d %d %d\n", tx, dr, r[0], r[1], r[2] }')
    pps=$((r1 + r2 + r3))
    local fu=${cpu##*foreign_user=}; fu=${fu%% *}
    local fa=${cpu##*foreign_all=}
    status=ok
    ((fu > NOISE_MAX)) && status=noisy
    line=$(printf '%-10s round %d run %d: delivered %7d pps  offered %7d pps  split rs1/rs2/rs3 %s  veth_drops %d  %s' \
        "$mode" "$round" "$attempt" "$pps" "$off" \
        "$(awk -v a="$r1" -v b="$r2" -v c="$r3" 'BEGIN { s = a + b + c; if (!s) s = 1; printf "%.0f/%.0f/%.0f%%", 100*a/s, 100*b/s, 100*c/s }')" \
        "$drops" "${cpu%% foreign*}")
    line+=" foreign_user=${fu}% (all ${fa}%)"

    if [[ $mode == lvsd* ]]; then
        # lvsd's worker publishes its counters every second and the control thread writes the
        # stats file every second: 2.2 s after the burst the file holds all of this run.
        sleep 2.2
        local rd fw rx te prd pfw prx pte
        rd=$(lvsd_counter ring_drops) fw=$(lvsd_counter forwarded_frames)
        rx=$(lvsd_counter rx_frames) te=$(lvsd_counter transmit_errors)
        read -r prd pfw prx pte <<<"$LAST_STATS"
        line+=" | lvsd this run: rx $((rx - prx)) forwarded $((fw - pfw)) ring_drops $((rd - prd)) tx_errors $((te - pte))"
        R_DROPS[$mode]+="$((rd - prd)) "
        LAST_STATS="$rd $fw $rx $te"
    fi
    say "  $line [$status]"
    local c0 c1
    c0=${cpu#*"cpu${GEN_CPU}="}; c0=${c0%% *}
    c1=${cpu#*"cpu${LVSD_CPU}="}; c1=${c1%% *}
    if [[ $status == ok ]]; then
        R_PPS[$mode]+="$pps " R_OFF[$mode]+="$off " R_C0[$mode]+="$c0 " R_C1[$mode]+="$c1 "
        R_CLEAN[$mode]=$(( ${R_CLEAN[$mode]:-0} + 1 ))
    fi
    N_PPS[$mode]+="$pps " N_OFF[$mode]+="$off " N_C0[$mode]+="$c0 " N_C1[$mode]+="$c1 "
    if [[ $status == ok ]]; then D_PPS[$mode]+="$pps "; else D_PPS[$mode]+="${pps}* "; fi
    N_RUNS[$mode]=$(( ${N_RUNS[$mode]:-0} + 1 ))
    # The round's figure for the paired ratios: its clean run, else its last noisy one.
    if [[ $status == ok || ${RQ[$mode,$round]:-} != ok ]]; then
        RP[$mode,$round]=$pps RQ[$mode,$round]=$status
    fi
    LAST_STATUS=$status
    return 0
}

# One round of one mode: one run; a failed run is retried, and a noisy one while some of the
# quiet-wait budget is left (waiting may help), both within the round and within the mode's
# --retries extra attempts over the whole bench.
run_round() {  # mode cfg round
    local mode=$1 cfg=$2 round=$3
    while :; do
        ATTEMPTS[$mode]=$(( ${ATTEMPTS[$mode]:-0} + 1 ))
        LAST_STATUS=failed
        run_once "$mode" "$cfg" "${ATTEMPTS[$mode]}" "$round" || R_FAIL[$mode]=$(( ${R_FAIL[$mode]:-0} + 1 ))
        [[ $LAST_STATUS == ok ]] && return 0
        (( ${RETRIED[$mode]:-0} < RETRIES )) || return 0
        [[ $LAST_STATUS == noisy ]] && ((WAIT_LEFT == 0)) && return 0
        RETRIED[$mode]=$(( ${RETRIED[$mode]:-0} + 1 ))
        note "$mode round $round: run $LAST_STATUS, retrying (extra attempt ${RETRIED[$mode]} of $RETRIES)"
    done
}
declare -A ATTEMPTS=() RETRIED=() RP=() RQ=()
LAST_STATUS=

# ------------------------------------------------------------------ the modes

setup_nftlb() {
    nftlb_dsr_up "bench-udp9:udp:$UDP_BENCH_PORT" || return 1
    note "nftlb farm up; its ruleset in $NS_DIRECTOR:"
    ip netns exec "$NS_DIRECTOR" nft list table netdev nftlb | sed 's/^/#    /' >>"$OUT"
}

setup_lvsd() {  # kdrop(0/1)
    local i
    udp_rules "$UDP_BENCH_PORT" >"$WORK/rules"
    if (($1)); then
        # lvsd's ETH_P_ALL tap runs before the netdev ingress hook: it still gets the frames.
        ip netns exec "$NS_DIRECTOR" nft -f - <<EOF || return 1
table netdev kdrop {
    chain ingress {
        type filter hook ingress device "$IFACE" priority -500; policy accept;
        ip daddr $VIP drop
    }
}
EOF
        ip netns exec "$NS_DIRECTOR" nft list table netdev kdrop | sed 's/^/#    /' >>"$OUT"
    fi
    rm -f "$WORK/lvsd-stats.json"
    ip netns exec "$NS_DIRECTOR" taskset -c "${LVSD_CPUS:-$LVSD_CPU}" "$LVSD" --interface "$IFACE" --rules "$WORK/rules" \
        --workers "$LVSD_WORKERS" ${LVSD_CPUS:+--cpu-list "$LVSD_CPUS"} --stats-file "$WORK/lvsd-stats.json" --socket "$WORK/lvsd.sock" ${KERNEL_DROP:-} ${LVSD_BACKEND:-} </dev/null >"$WORK/lvsd.log" 2>&1 &
    LVSD_PID=$!
    "$TESTBED" track "$BED" lvsd "$LVSD_PID"
    for ((i = 0; i < READY_TIMEOUT_S * 10; i++)); do
        grep -q 'lvsd: ready' "$WORK/lvsd.log" && break
        kill -0 "$LVSD_PID" 2>/dev/null || break
        sleep 0.1
    done
    if ! grep -q 'lvsd: ready' "$WORK/lvsd.log"; then
        note "lvsd not ready; its log:"; sed 's/^/    /' "$WORK/lvsd.log" >&2
        return 1
    fi
    sed 's/^/#    /' "$WORK/lvsd.log" >>"$OUT"
    return 0
}

teardown_lvsd() {  # mode
    local rc=0
    if [[ -n $LVSD_PID ]]; then
        kill -TERM "$LVSD_PID" 2>/dev/null || true
        if wait_gone "$LVSD_PID" "$STOP_TIMEOUT_S"; then
            wait "$LVSD_PID" || rc=$?
        else
            kill -KILL "$LVSD_PID" 2>/dev/null || true; wait "$LVSD_PID" 2>/dev/null || true
            rc="killed after ${STOP_TIMEOUT_S} s"
        fi
        LVSD_PID=
        say "  $1: lvsd exit status $rc; $(grep 'lvsd: stopped' "$WORK/lvsd.log" | tail -n 1 || true)"
        local l
        while IFS= read -r l; do say "  $l"; done < <(grep 'lvsd: warning\|lvsd: error' "$WORK/lvsd.log" || true)
        LVSD_FINAL[$1]=$(grep 'lvsd: stopped' "$WORK/lvsd.log" | tail -n 1 || true)
    fi
    ip netns exec "$NS_DIRECTOR" nft flush ruleset || true
}
declare -A LVSD_FINAL=()

# The functional check (the first round only: a mode that fails it is left out of the later
# rounds), then the round's run.
check_and_run() {  # mode cfg round
    local mode=$1 cfg=$2 round=$3 got
    if [[ -z ${CHECKED[$mode]:-} ]]; then
        if ! got=$(probe "$cfg" "$PROBE_FRAMES"); then
            say "  $mode: functional check FAILED: $PROBE_FRAMES frames sent, rs1/rs2/rs3 got ${got:-?}"
            return 1
        fi
        CHECKED[$mode]=1
        say "  $mode: functional check: $PROBE_FRAMES frames -> rs1/rs2/rs3 ${got// //}"
    fi
    LAST_STATS="0 0 0 0"   # a new lvsd each round: its counters start at 0
    if [[ $mode == lvsd* ]]; then
        sleep 2.2   # let the stats file catch up with the probe (and show this lvsd's counters)
        LAST_STATS="$(lvsd_counter ring_drops) $(lvsd_counter forwarded_frames) $(lvsd_counter rx_frames) $(lvsd_counter transmit_errors)"
    fi
    run_round "$mode" "$cfg" "$round"
}
declare -A CHECKED=() DEAD=()

declare -A MODE_OK=() MODE_DESC=(
    [direct]="client -> rs1, no director"
    [nftlb]="nftlb $(nftlb -h 2>&1 | awk '/Version/ { print $NF; exit }') DSR, hash srcip srcport"
    [lvsd]="lvsd (rr), $LVSD_WORKERS worker(s), pinned to CPU${LVSD_CPUS:-$LVSD_CPU}"
    [lvsd-no-kernel-drop]="lvsd --no-kernel-drop (the director's IP stack sees VIP frames too)"
    [lvsd-kdrop]="lvsd --no-kernel-drop + a hand-made nft ingress drop of VIP frames (KDROP)"
    [lvsd-kernel-drop]="lvsd --kernel-drop (its default drop, made mandatory)"
    [lvsd-xdp]="lvsd --backend af_xdp (XDP redirect to an AF_XDP socket)"
)

T_START=$SECONDS
say ""
say "runs: ${RUNS} rounds; each round runs every mode once, in a rotated order (round 1: ${MODE_LIST[*]}; round 2 starts with the second, ...), so a slow minute of the host hits every mode alike; ${WARMUP} s warm-up + ${SECONDS_WINDOW} s window; generator on CPU$GEN_CPU:"
say "  ip netns exec ${BED}client taskset -c $GEN_CPU timeout T trafgen -o eth0 -i CFG -n BOUND -P 1 --no-sock-mem -Q -C"
say "  CFG: $(cat "$CFG_DIRECTOR")   (da = rs1's MAC for direct)"
say "  each mode is set up (nftlb farm, lvsd started) and torn down again in every round; its functional check runs in round 1 only"
say "cpuN=busy/softirq % of that CPU over the window; foreign_user = user CPU outside the bed, % of one CPU"
for ((round = 1; round <= RUNS; round++)); do
    mapfile -t ORDER < <(rotated "$round" "${MODE_LIST[@]}")
    say ""
    say "== round $round of $RUNS: ${ORDER[*]}"
    for mode in "${ORDER[@]}"; do
        [[ -z ${DEAD[$mode]:-} ]] || continue
        t0=$SECONDS
        ((round > 1)) || say "  $mode: ${MODE_DESC[$mode]}"
        ok=0
        case $mode in
            direct)
                check_and_run direct "$CFG_DIRECT" "$round" && ok=1 ;;
            nftlb)
                if setup_nftlb; then
                    check_and_run nftlb "$CFG_DIRECTOR" "$round" && ok=1
                else
                    say "  nftlb: setup FAILED (round $round)"
                fi
                nftlb_dsr_down ;;
            lvsd | lvsd-no-kernel-drop | lvsd-kdrop | lvsd-kernel-drop | lvsd-xdp)
                kd=0; [[ $mode == lvsd-kdrop ]] && kd=1
                KERNEL_DROP=; [[ $mode == lvsd-kernel-drop ]] && KERNEL_DROP=--kernel-drop
                [[ $mode == lvsd-no-kernel-drop || $mode == lvsd-kdrop ]] && KERNEL_DROP=--no-kernel-drop
                LVSD_BACKEND=; [[ $mode == lvsd-xdp ]] && LVSD_BACKEND="--backend af_xdp"
                if setup_lvsd "$kd" && { [[ $mode != lvsd-xdp ]] || ! grep -q 'AF_XDP unavailable' "$WORK/lvsd.log" ||
                    { say "  $(grep 'AF_XDP unavailable' "$WORK/lvsd.log")"; false; }; }; then
                    check_and_run "$mode" "$CFG_DIRECTOR" "$round" && ok=1
                else
                    say "  $mode: setup FAILED (round $round)"
                fi
                teardown_lvsd "$mode" ;;
        esac
        if ((ok)); then
            MODE_OK[$mode]=1
        elif [[ -z ${CHECKED[$mode]:-} ]]; then
            DEAD[$mode]=1   # never got past its set-up and check: no point in the later rounds
            say "  $mode: left out of the later rounds"
        fi
        note "$mode (round $round) took $((SECONDS - t0)) s"
    done
done
for mode in "${MODE_LIST[@]}"; do
    ((${R_CLEAN[$mode]:-0} >= RUNS)) || note "$mode: only ${R_CLEAN[$mode]:-0} clean runs out of ${ATTEMPTS[$mode]:-0} attempts"
done

# ------------------------------------------------------------------ summary

# "a b c " -> "a b c"
words() { local -a w; read -r -a w <<<"$1"; echo "${w[*]}"; }
# median of one "/"-separated field of "busy/si" words
field_median() { tr ' ' '\n' <<<"$1" | awk 'NF' | cut -d/ -f"$2" | median; }


# Per mode: the clean runs, or all runs (quality "noisy") when none was clean.
declare -A MED=() OFFM=() C0B=() C0S=() C1B=() C1S=() QUAL=() NUSED=()
for mode in "${MODE_LIST[@]}"; do
    if (( ${R_CLEAN[$mode]:-0} > 0 )); then
        QUAL[$mode]=clean; NUSED[$mode]=${R_CLEAN[$mode]}
        pp=${R_PPS[$mode]} of=${R_OFF[$mode]} c0=${R_C0[$mode]} c1=${R_C1[$mode]}
    else
        QUAL[$mode]=noisy; NUSED[$mode]=${N_RUNS[$mode]:-0}
        pp=${N_PPS[$mode]:-} of=${N_OFF[$mode]:-} c0=${N_C0[$mode]:-} c1=${N_C1[$mode]:-}
        ((${N_RUNS[$mode]:-0} > 0)) || QUAL[$mode]=failed
    fi
    MED[$mode]=$(median <<<"$pp"); OFFM[$mode]=$(median <<<"$of")
    C0B[$mode]=$(field_median "$c0" 1) C0S[$mode]=$(field_median "$c0" 2)
    C1B[$mode]=$(field_median "$c1" 1) C1S[$mode]=$(field_median "$c1" 2)
done
base_direct=${MED[direct]:--}
base_nftlb=${MED[nftlb]:--}

# Paired ratios: each mode's figure over the base's figure of the same round (seconds apart, so
# a slow minute of the host divides out), then the median of those per-round ratios. Rounds
# where both runs were clean; when there is none, every round where both have a figure
# (then marked noisy).
paired() {  # mode base -> "median rounds quality" ("- 0 -" when no round has both)
    local m=$1 b=$2 r clean= any= nc=0 na=0
    for ((r = 1; r <= RUNS; r++)); do
        [[ -n ${RP[$m,$r]:-} && -n ${RP[$b,$r]:-} ]] || continue
        any+=" $(ratio "${RP[$m,$r]}" "${RP[$b,$r]}")"; na=$((na + 1))
        if [[ ${RQ[$m,$r]} == ok && ${RQ[$b,$r]} == ok ]]; then
            clean+=" $(ratio "${RP[$m,$r]}" "${RP[$b,$r]}")"; nc=$((nc + 1))
        fi
    done
    if ((nc > 0)); then echo "$(median_ratio <<<"$clean") $nc clean"
    elif ((na > 0)); then echo "$(median_ratio <<<"$any") $na noisy"
    else echo "- 0 -"; fi
}
declare -A PD=() PN=() PDN=() PNN=() PDQ=() PNQ=()
for mode in "${MODE_LIST[@]}"; do
    read -r PD[$mode] PDN[$mode] PDQ[$mode] < <(paired "$mode" direct)
    read -r PN[$mode] PNN[$mode] PNQ[$mode] < <(paired "$mode" nftlb)
done
# "(rounds)" after a paired ratio, "(rounds*)" when they include noisy runs.
used() { if [[ $2 == noisy ]]; then echo "($1*)"; else echo "($1)"; fi; }

say ""
say "Per round (the mode's pps, then its ratio to nftlb / to direct in that same round; * = noisy run; - = no figure):"
for ((r = 1; r <= RUNS; r++)); do
    line="  round $r:"
    for mode in "${MODE_LIST[@]}"; do
        if [[ -n ${RP[$mode,$r]:-} ]]; then
            mark=; [[ ${RQ[$mode,$r]} == ok ]] || mark='*'
            line+=" $mode ${RP[$mode,$r]}$mark ($(ratio "${RP[$mode,$r]}" "${RP[nftlb,$r]:--}") / $(ratio "${RP[$mode,$r]}" "${RP[direct,$r]:--}"));"
        else
            line+=" $mode -;"
        fi
    done
    say "${line%;}"
done

say ""
say "Summary ($(date -u '+%Y-%m-%d %H:%M UTC'), bed $BED, $((SECONDS - T_START)) s of measuring):"
say "x direct, x nftlb: the ratio of the medians; paired: the median of the per-round ratios above (rounds used: those where both runs were clean; * = no such round, every round with both figures used)"
say "$(printf '%-11s %12s %-6s %12s %9s %8s %-12s %-12s %-10s %-10s %-7s %s' mode 'pps (median)' runs 'offered pps' 'x direct' 'x nftlb' 'paired x dir' 'paired x nft' "CPU$GEN_CPU b/si" "CPU$LVSD_CPU b/si" quality 'every run (pps)')"
fail=0
for mode in "${MODE_LIST[@]}"; do
    [[ -n ${MODE_OK[$mode]:-} && ${QUAL[$mode]} != failed ]] || fail=1
    say "$(printf '%-11s %12s %-6s %12s %9s %8s %-12s %-12s %-10s %-10s %-7s %s' "$mode" "${MED[$mode]}" "${NUSED[$mode]}/$RUNS" \
        "${OFFM[$mode]}" "$(ratio "${MED[$mode]}" "$base_direct")" "$(ratio "${MED[$mode]}" "$base_nftlb")" \
        "${PD[$mode]} $(used "${PDN[$mode]}" "${PDQ[$mode]}")" "${PN[$mode]} $(used "${PNN[$mode]}" "${PNQ[$mode]}")" \
        "${C0B[$mode]}/${C0S[$mode]}" "${C1B[$mode]}/${C1S[$mode]}" "${QUAL[$mode]}" "$(words "${D_PPS[$mode]:-}")")"
done
say "(every run: in the order they ran; * = noisy, left out of the median unless no run was clean; b/si = busy/softirq %)"
say ""
for mode in "${MODE_LIST[@]}"; do
    drops=-
    [[ $mode == lvsd* ]] && drops=$(awk '{ s = 0; for (i = 1; i <= NF; i++) s += $i; print s }' <<<"${R_DROPS[$mode]:-0}")
    say "RESULT mode=$mode pps=${MED[$mode]} quality=${QUAL[$mode]} runs=${NUSED[$mode]}/$RUNS offered_pps=${OFFM[$mode]} x_direct=$(ratio "${MED[$mode]}" "$base_direct") x_nftlb=$(ratio "${MED[$mode]}" "$base_nftlb") x_direct_paired=${PD[$mode]} x_nftlb_paired=${PN[$mode]} paired_rounds_direct=${PDN[$mode]} paired_rounds_nftlb=${PNN[$mode]} paired_quality_direct=${PDQ[$mode]} paired_quality_nftlb=${PNQ[$mode]} cpu${GEN_CPU}_busy=${C0B[$mode]} cpu${GEN_CPU}_si=${C0S[$mode]} cpu${LVSD_CPU}_busy=${C1B[$mode]} cpu${LVSD_CPU}_si=${C1S[$mode]} ring_drops=$drops all_runs=$(words "${D_PPS[$mode]:-}" | tr ' ' ,) seconds=$SECONDS_WINDOW nice=$NICE kernel=$(uname -r) cpus=$NCPU date=$TS"
done
for mode in "${!LVSD_FINAL[@]}"; do say "final lvsd counters ($mode): ${LVSD_FINAL[$mode]}"; done
say "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
note "results in ${OUT#"$ROOT"/}"
exit "$fail"
