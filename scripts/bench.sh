#!/usr/bin/env bash
# The benchmark suite in one command (issue 8): lvsd against its peers in the namespace test bed,
# each figure the median of several short runs, the ratios in one table and one plot.
#
# Interleaved: the host's speed swings 2x within a minute, so the peers are not measured one
# after the other (a slow minute would land on one peer and move the ratios). Round r = 1..R
# runs every peer once, in an order rotated by one each round (round 1: A B C D, round 2:
# B C D A, ...): part 1 in bench-pps.sh's rounds, parts 2 and 3 in rounds here (per round and
# peer: set-up, the four HTTP cases once, one idle and one loaded latency batch, teardown).
# Each figure is the median over the rounds, its ratios the ratio of the medians; the table's
# "↳ paired" rows give the median of the per-round ratios (each peer over the other peer's
# figure from the same round; for latency, the per-round extra over direct) in the same ratio
# columns, with their own met column.
#
#   1. Packet rate (scripts/bench-pps.sh, modes direct, nftlb, lvsd, and lvsd-xdp when both lvsd
#      and bench-pps.sh know it): 60-byte UDP frames from trafgen, counted at the real servers'
#      ingress; lvsd pinned to one CPU.
#   2. HTTP (nginx on rs1-3, port 8080, files of 1 KB and 100 KB; wrk in the client, one
#      thread, C connections), with keep-alive and with "Connection: close", through
#        direct    client -> rs1, no director (the ceiling)
#        lvsd      lvsd (rr, DR), pinned to the director CPU
#        lvsd-xdp  the same with `lvsd --backend af_xdp`; only when `lvsd --help` lists --backend
#        nftlb     nftlb DSR farm (hash on source address and port), in the director's kernel
#        haproxy   haproxy mode tcp on the director's address, one thread, pinned to the
#                  director CPU (a proxy: both directions through it)
#      The director CPU (--lvsd-cpu) is lvsd's or haproxy's alone: wrk, nginx, trafgen and every
#      probe are pinned to the other CPUs, the same for every peer. nftlb has no process: its
#      work runs in softirq on whichever CPU the packets arrive (on veth: the sender's), so the
#      suite reports the director CPU's busy time next to each HTTP figure.
#   3. Connect latency: C sequential TCP connects per peer from the client (Python, timed around
#      connect()), closed with RST; median and p99, and the extra over direct; once on an idle
#      bed and once while trafgen sends 60-byte UDP frames to VIP:9 at half of lvsd's part-1
#      rate (rs1's MAC for direct; the real servers count and drop them at their ingress).
#      One batch per round each; the median of their medians and of their p99s. The probe also reads its
#      own run-queue wait around each connect (it shares a CPU with trafgen); a second p99 row
#      takes that wait out (BENCHMARKS.md, "why lvsd's loaded connect p99 was ~3 ms").
#   4. lvsd's own capacity (scripts/bench-drain.sh, its own bed): 1024 UDP flows opened, then
#      lvsd stopped (SIGSTOP) while trafgen puts F frames of those flows (60 bytes) into its RX
#      ring, then continued; nft counters at the real servers' ingress (and, second figure, at
#      the switch's p-dir ingress) count the forwarded frames, a 1 ms poller of switch-port
#      counters times the first and the last: the director's work with no generator competing
#      for its CPU (on veth it includes the kernel's transmit and the servers' receive, done in
#      lvsd's sendmmsg). The method of TESTBED §4.2 (design notes). Not for nftlb: no ring.
#
# Usage: sudo scripts/bench.sh [options]
#   --runs N        rounds, i.e. runs per figure; the median is reported (default 3)
#   --seconds S     length of one packet-rate window or one wrk run, seconds (default 3)
#   --connections C wrk connections (default 32)
#   --connects N    connects per latency batch (default 300)
#   --skip-pps      leave out part 1
#   --half-load-pps P  rate of the background load in part 3 (default: half of lvsd's part-1
#                   rate; without part 1 and without this option the loaded latency is left out)
#   --peers LIST    comma-separated subset of direct,lvsd,lvsd-xdp,nftlb,haproxy for parts 2
#                   and 3 (default all; lvsd-xdp is left out, with a line saying so, when lvsd
#                   has no --backend option)
#   --lvsd-cpu N    the director CPU: lvsd and haproxy are pinned to it, everything else to the
#                   other CPUs (default 1)
#   --drain-frames F frames for part 4 (default 60000; lvsd runs with a ring of 65536)
#   --autogroup-nice N  run the whole suite in a scheduler autogroup of its own (setsid) at nice
#                   N (e.g. -20), so that other sessions' work takes less of its CPUs: with
#                   kernel.sched_autogroup_enabled=1 a plain nice level only counts inside one
#                   session. The suite then runs in a new session: Ctrl-C does not reach it (it
#                   is bounded and cleans up by itself). Default: not set.
#   --out-dir DIR   results (default bench-results/suite-<UTC timestamp>/): pps.txt, http.txt,
#                   table.md, ratios.dat, ratios.png
# Environment: LVSD_BIN=/path/to/lvsd skips the release build; LVSD_EXTRA="..." more lvsd
# arguments for parts 2 and 3 (e.g. "--busy-poll").
# Every load loop is bounded (wrk -d under `timeout`, trafgen -n under `timeout`, a fixed number
# of connects with a 2 s timeout each); the bed and every process started here are removed on
# exit, failure included.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TESTBED=$ROOT/scripts/testbed.sh
# shellcheck source=lib/bench-common.sh
source "$ROOT/scripts/lib/bench-common.sh"
RUNS=3
SECS=3
CONNS=32
CONNECTS=300
SKIP_PPS=0
HALF_PPS=
LVSD_CPU=1
OUTDIR=
PEER_LIST=direct,lvsd,lvsd-xdp,nftlb,haproxy
DRAIN_FRAMES=60000
DRAIN_RING=65536
HTTP_BENCH_PORT=8080
UDP_BENCH_PORT=9
NFTLB_PORT=5555
READY_TIMEOUT_S=10
STOP_TIMEOUT_S=5
LOAD_WARMUP_S=1          # background load running before the first loaded connect
LOAD_MAX_S=60            # trafgen's bound (-n rate x this, under timeout this + 5)

usage() { sed -n '/^# Usage:/,/^# arguments for parts 2 and 3/p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2; }
die() { echo "bench: error: $*" >&2; exit 1; }

ARGS=("$@")
AGNICE=
while (($#)); do
    case $1 in
        --runs) RUNS=${2:?}; shift 2 ;;
        --seconds) SECS=${2:?}; shift 2 ;;
        --connections) CONNS=${2:?}; shift 2 ;;
        --connects) CONNECTS=${2:?}; shift 2 ;;
        --skip-pps) SKIP_PPS=1; shift ;;
        --half-load-pps) HALF_PPS=${2:?}; shift 2 ;;
        --peers) PEER_LIST=${2:?}; shift 2 ;;
        --lvsd-cpu) LVSD_CPU=${2:?}; shift 2 ;;
        --drain-frames) DRAIN_FRAMES=${2:?}; shift 2 ;;
        --out-dir) OUTDIR=${2:?}; shift 2 ;;
        --autogroup-nice) AGNICE=${2:?}; shift 2 ;;
        -h | --help) usage ;;
        *) echo "bench: unknown argument '$1'" >&2; usage ;;
    esac
done
[[ $RUNS =~ ^[1-9]$ ]] || die "--runs: 1..9"
[[ $SECS =~ ^[1-9][0-9]?$ ]] || die "--seconds: 1..99"
[[ $CONNS =~ ^[1-9][0-9]{0,3}$ ]] || die "--connections: 1..9999"
[[ $CONNECTS =~ ^[1-9][0-9]{0,4}$ ]] || die "--connects: 1..99999"
[[ -z $HALF_PPS || $HALF_PPS =~ ^[1-9][0-9]{0,6}$ ]] || die "--half-load-pps: 1..9999999 frames/s"
((CONNECTS <= 20000)) || die "--connects: at most 20000 (the loaded batches must end within ${LOAD_MAX_S} s)"
NCPU=$(nproc)
((NCPU >= 2)) || die "needs at least 2 CPUs (the director's and the others'); this machine has $NCPU"
[[ $LVSD_CPU =~ ^[0-9]+$ ]] && ((LVSD_CPU < NCPU)) || die "--lvsd-cpu: 0..$((NCPU - 1))"
[[ $DRAIN_FRAMES =~ ^[1-9][0-9]*$ ]] && ((DRAIN_FRAMES <= DRAIN_RING - 2048)) ||
    die "--drain-frames: 1..$((DRAIN_RING - 2048)) (the ring holds $DRAIN_RING)"
((EUID == 0)) || die "needs root (network namespaces, packet sockets): sudo $0"
if [[ -n $AGNICE ]]; then
    [[ $AGNICE =~ ^-?[0-9]+$ ]] && ((AGNICE >= -20 && AGNICE <= 19)) || die "--autogroup-nice: -20..19"
    if [[ -z ${BENCH_OWN_SESSION:-} ]]; then
        # A new session is a new autogroup; setsid -w waits and passes the exit status on.
        BENCH_OWN_SESSION=1 exec setsid -w "${BASH_SOURCE[0]}" "${ARGS[@]}"
    fi
    echo "$AGNICE" >/proc/self/autogroup || die "cannot set the autogroup's nice level (/proc/self/autogroup)"
fi
# Every CPU but the director's: the client, the real servers and the generator share them.
OTHER_CPUS=$(seq 0 $((NCPU - 1)) | grep -vx "$LVSD_CPU" | paste -sd, -)
GEN_CPU=${OTHER_CPUS%%,*}

TS=$(date -u +%Y%m%dT%H%M%SZ)
OUTDIR=${OUTDIR:-$ROOT/bench-results/suite-$TS}
mkdir -p "$OUTDIR"
HTTP_OUT=$OUTDIR/http.txt
: >"$HTTP_OUT"
say() { echo "$*"; echo "$*" >>"$HTTP_OUT"; }
note() { echo "bench: $*" >&2; echo "# $*" >>"$HTTP_OUT"; }

"$ROOT/scripts/install-deps.sh" >&2
for tool in trafgen nftlb nft jq curl wrk haproxy nginx gnuplot python3 taskset timeout; do
    command -v "$tool" >/dev/null || die "$tool not found (scripts/install-deps.sh should have installed it)"
done
LVSD=$(lvsd_release_binary "$ROOT") || die "no lvsd: the release build failed or ${LVSD_BIN:-its binary} is not executable"
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)

IFS=, read -r -a PEERS <<<"$PEER_LIST"
for p in "${PEERS[@]}"; do
    case $p in direct | lvsd | lvsd-xdp | nftlb | haproxy) ;; *) die "unknown peer '$p'" ;; esac
done
# lvsd's AF_XDP data plane, where this lvsd has one.
XDP_OK=0 XDP_WHY=
# (Captured first: with pipefail, `cmd | grep -q` fails when grep's early exit kills cmd.)
LVSD_HELP=$("$LVSD" --help 2>&1 || true)
if [[ $LVSD_HELP == *--backend* ]]; then
    XDP_OK=1
else
    XDP_WHY="$LVSD --help lists no --backend option (this lvsd has no AF_XDP data plane)"
fi
if ((!XDP_OK)) && [[ ,$PEER_LIST, == *,lvsd-xdp,* ]]; then
    say "peer lvsd-xdp left out: $XDP_WHY"
    mapfile -t PEERS < <(printf '%s\n' "${PEERS[@]}" | grep -vx lvsd-xdp)
fi

# ------------------------------------------------------------------ part 1: packet rate

declare -A PPS=()
PPS_MODES=direct,nftlb,lvsd
if ((XDP_OK && !SKIP_PPS)); then
    PPS_HELP=$("$ROOT/scripts/bench-pps.sh" --help 2>&1 || true)   # its usage exits 2
    if [[ $PPS_HELP == *lvsd-xdp* ]]; then
        PPS_MODES+=,lvsd-xdp
    else
        note "part 1 without lvsd-xdp: scripts/bench-pps.sh has no mode lvsd-xdp yet"
    fi
fi
if ((!SKIP_PPS)); then
    note "part 1: scripts/bench-pps.sh --modes $PPS_MODES --runs $RUNS --seconds $SECS --wait-quiet 0 --lvsd-cpu $LVSD_CPU --gen-cpu $GEN_CPU"
    LVSD_BIN=$LVSD "$ROOT/scripts/bench-pps.sh" --modes "$PPS_MODES" --runs "$RUNS" --seconds "$SECS" \
        --wait-quiet 0 --lvsd-cpu "$LVSD_CPU" --gen-cpu "$GEN_CPU" \
        --out "$OUTDIR/pps.txt" >&2 || note "bench-pps.sh reported a failed mode (see pps.txt)"
    while read -r mode pps; do PPS[$mode]=$pps; done < <(
        sed -n 's/^RESULT mode=\([a-z-]*\) pps=\([0-9-]*\) .*/\1 \2/p' "$OUTDIR/pps.txt")
fi
HALF_FROM="--half-load-pps"
if [[ -z $HALF_PPS && ${PPS[lvsd]:--} =~ ^[0-9]+$ ]] && ((PPS[lvsd] >= 2)); then
    HALF_PPS=$((PPS[lvsd] / 2)) HALF_FROM="half of lvsd's part-1 rate ${PPS[lvsd]}"
fi
[[ -n $HALF_PPS ]] || note "no rate for the loaded connect latency (part 1 skipped or failed, no --half-load-pps): left out"

# ------------------------------------------------------------------ part 2 and 3: the bed

BED= WORK= LVSD_PID= HAPROXY_PID= TPID=
declare -a NGINX_PIDS=()

# shellcheck disable=SC2317  # reached through the EXIT trap
cleanup() {
    local rc=$? p
    set +e
    stop_pid "$TPID"
    stop_pid "$LVSD_PID"; stop_pid "$NFTLB_PID"; stop_pid "$HAPROXY_PID"
    for p in "${NGINX_PIDS[@]}"; do stop_pid "$p"; done
    [[ -n $BED ]] && "$TESTBED" down "$BED" >&2
    [[ -n $WORK ]] && rm -rf "$WORK"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
WORK=$(mktemp -d /tmp/bench-suite.XXXXXX)
chmod 755 "$WORK"

note "building the test bed"
BED=$(LVS_TESTBED_OWNER="scripts/bench.sh pid $$" "$TESTBED" up | tail -n 1)
eval "$("$TESTBED" env "$BED")"
# Everything in the client and the real servers runs on the other CPUs, for every peer.
client() { ip netns exec "$NS_CLIENT" taskset -c "$OTHER_CPUS" "$@"; }
client_tx() { ip netns exec "$NS_CLIENT" cat "/sys/class/net/$IFACE/statistics/tx_packets"; }

# Thousands of short connections a second for several runs: without these, the "close" cases of
# the later peers meet ports still in TIME_WAIT from the earlier ones (haproxy's collapsed to a
# few hundred requests a second, with connects of milliseconds). Same for every peer.
for ns in "$NS_CLIENT" "$NS_DIRECTOR" "$NS_RS1" "$NS_RS2" "$NS_RS3"; do
    ip netns exec "$ns" sysctl -q -w net.ipv4.ip_local_port_range="1024 65535" net.ipv4.tcp_tw_reuse=1 ||
        die "sysctl in $ns failed"
done
# The background load of part 3 ends here: counted and dropped at each real server's ingress.
for ns in "$NS_RS1" "$NS_RS2" "$NS_RS3"; do udp_sink_add "$ns" "$IFACE" bench "$UDP_BENCH_PORT"; done
rs_load_count() { echo $(($(udp_sink_count "$NS_RS1" bench) + $(udp_sink_count "$NS_RS2" bench) + $(udp_sink_count "$NS_RS3" bench))); }

# nginx on each real server, pinned to the other CPUs: port 8080 on every address (the VIP on lo
# included), one worker, two static files. Runs in the foreground under our PID so that cleanup
# can stop it.
mkdir -p "$WORK/www"
head -c 1024 /dev/zero | tr '\0' a >"$WORK/www/1k"
head -c 102400 /dev/zero | tr '\0' b >"$WORK/www/100k"
chmod -R a+rX "$WORK/www"
for i in 1 2 3; do
    ns=NS_RS$i
    cat >"$WORK/nginx-rs$i.conf" <<EOF
worker_processes 1;
daemon off;
pid $WORK/nginx-rs$i.pid;
error_log $WORK/nginx-rs$i.err;
events { worker_connections 4096; }
http {
    access_log off;
    sendfile on;
    keepalive_requests 1000000;
    client_body_temp_path $WORK/nginx-rs$i.tmp;
    proxy_temp_path $WORK/nginx-rs$i.tmp;
    fastcgi_temp_path $WORK/nginx-rs$i.tmp;
    uwsgi_temp_path $WORK/nginx-rs$i.tmp;
    scgi_temp_path $WORK/nginx-rs$i.tmp;
    server { listen $HTTP_BENCH_PORT reuseport; root $WORK/www; }
}
EOF
    ip netns exec "${!ns}" taskset -c "$OTHER_CPUS" nginx -c "$WORK/nginx-rs$i.conf" </dev/null >"$WORK/nginx-rs$i.log" 2>&1 &
    NGINX_PIDS+=("$!")
    "$TESTBED" track "$BED" "nginx-rs$i" "$!"
done
for i in 1 2 3; do
    ipv=RS${i}_IP ok=0
    for ((t = 0; t < READY_TIMEOUT_S * 10; t++)); do
        if client curl -s --max-time 1 -o /dev/null "http://${!ipv}:$HTTP_BENCH_PORT/1k"; then
            ok=1; break
        fi
        sleep 0.1
    done
    ((ok)) || { cat "$WORK/nginx-rs$i.err" >&2 || true; die "nginx on rs$i does not answer"; }
done

cat >"$WORK/connlat.py" <<'EOF'
# Times N sequential TCP connects to HOST:PORT; closes each with RST (no TIME_WAIT pile-up).
# Also reads this thread's run-queue wait (schedstat field 2: time runnable but not running)
# around each connect: on a CPU shared with the load generator the probe itself may wait
# milliseconds for the CPU after the SYN-ACK arrived, which is no part of the path measured.
# Prints "median_us p99_us failures median_us p99_us", the last two with that wait taken out
# ("-" where the kernel has no schedstat).
import socket, struct, sys, time
host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def run_delay():
    try:
        with open("/proc/thread-self/schedstat") as f:
            return int(f.read().split()[1]) / 1e9
    except (OSError, IndexError, ValueError):
        return None
times, own, failures = [], [], 0
for _ in range(n):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(2)
    w0 = run_delay()
    t0 = time.perf_counter()
    try:
        s.connect((host, port))
        t = time.perf_counter() - t0
        w1 = run_delay()
        times.append(t)
        if w0 is not None and w1 is not None:
            own.append(max(0.0, t - (w1 - w0)))
    except OSError:
        failures += 1
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
def mid_p99(v):
    if not v or len(v) != len(times):
        return "- -"
    v = sorted(v)
    return "%.0f %.0f" % (v[len(v) // 2] * 1e6, v[min(len(v) - 1, int(len(v) * 0.99))] * 1e6)
if not times:
    print("- - %d - -" % failures)
else:
    m, p = mid_p99(times).split()
    print("%s %s %d %s" % (m, p, failures, mid_p99(own)))
EOF

# --------------------------------------------------------------- CPU accounting

CLK_TCK=$(getconf CLK_TCK)
cpu_jiffies() {  # cpu -> "busy softirq total" jiffies of that CPU so far (/proc/stat)
    awk -v c="cpu$1" '$1 == c { t = 0; for (i = 2; i <= 9; i++) t += $i; print t - $5 - $6, $8, t }' /proc/stat
}
proc_ticks() {  # pid -> utime + stime of the whole process (every thread), clock ticks; 0 if none
    local stat
    [[ -n ${1:-} ]] && read -r stat 2>/dev/null <"/proc/$1/stat" || { echo 0; return; }
    stat=${stat##*) }
    awk '{ print $12 + $13 }' <<<"$stat"
}
# Where a peer's process may run: its thread count and the union of its threads' CPU lists.
pin_report() {  # pid
    local t cpus
    cpus=$(for t in /proc/"$1"/task/*; do awk '/^Cpus_allowed_list/ { print $2 }' "$t/status"; done 2>/dev/null | sort -u | paste -sd' ' -)
    echo "$(find /proc/"$1"/task -mindepth 1 -maxdepth 1 2>/dev/null | wc -l) threads, allowed CPUs: $cpus"
}

# --------------------------------------------------------------- the peers

PEER_PID=       # the peer's process (lvsd, haproxy), for its CPU time; none for direct and nftlb

start_lvsd() {  # extra lvsd arguments...
    local i ipv
    {
        echo "-A -t $VIP:$HTTP_BENCH_PORT -s rr"
        for i in 1 2 3; do
            ipv=RS${i}_IP
            echo "-a -t $VIP:$HTTP_BENCH_PORT -r ${!ipv}:$HTTP_BENCH_PORT -g -w 1"
        done
        udp_rules "$UDP_BENCH_PORT"
    } >"$WORK/rules"
    ip netns exec "$NS_DIRECTOR" taskset -c "$LVSD_CPU" "$LVSD" --interface "$IFACE" --rules "$WORK/rules" \
        --socket "$WORK/lvsd.sock" --no-save "$@" ${LVSD_EXTRA:-} </dev/null >"$WORK/lvsd.log" 2>&1 &
    LVSD_PID=$!
    PEER_PID=$LVSD_PID
    "$TESTBED" track "$BED" lvsd "$LVSD_PID"
    for ((i = 0; i < READY_TIMEOUT_S * 10; i++)); do
        grep -q 'lvsd: ready' "$WORK/lvsd.log" && return 0
        kill -0 "$LVSD_PID" 2>/dev/null || break
        sleep 0.1
    done
    note "lvsd $* not ready:"; sed 's/^/    /' "$WORK/lvsd.log" >&2; return 1
}

setup_peer() {  # peer -> sets TARGET_HOST and LOAD_MAC (where the part-3 load goes)
    PEER_PID= LOAD_MAC=$DIRECTOR_MAC
    case $1 in
        direct) TARGET_HOST=$RS1_IP LOAD_MAC=$RS1_MAC ;;
        lvsd) TARGET_HOST=$VIP; start_lvsd ;;
        lvsd-xdp) TARGET_HOST=$VIP; start_lvsd --backend af_xdp ;;
        nftlb)
            TARGET_HOST=$VIP
            nftlb_dsr_up "bench-http:tcp:$HTTP_BENCH_PORT" "bench-udp9:udp:$UDP_BENCH_PORT" ;;
        haproxy)
            TARGET_HOST=$DIRECTOR_IP
            cat >"$WORK/haproxy.cfg" <<EOF
global
    maxconn 4096
    nbthread 1
defaults
    mode tcp
    timeout connect 5s
    timeout client 30s
    timeout server 30s
frontend bench
    bind $DIRECTOR_IP:$HTTP_BENCH_PORT
    default_backend servers
backend servers
    balance roundrobin
    server rs1 $RS1_IP:$HTTP_BENCH_PORT
    server rs2 $RS2_IP:$HTTP_BENCH_PORT
    server rs3 $RS3_IP:$HTTP_BENCH_PORT
EOF
            ip netns exec "$NS_DIRECTOR" taskset -c "$LVSD_CPU" haproxy -db -f "$WORK/haproxy.cfg" \
                </dev/null >"$WORK/haproxy.log" 2>&1 &
            HAPROXY_PID=$!
            PEER_PID=$HAPROXY_PID
            "$TESTBED" track "$BED" haproxy "$HAPROXY_PID"
            return 0 ;;
    esac
}

teardown_peer() {
    case $1 in
        lvsd | lvsd-xdp) stop_pid "$LVSD_PID"; LVSD_PID= ;;
        haproxy) stop_pid "$HAPROXY_PID"; HAPROXY_PID= ;;
        nftlb) nftlb_dsr_down ;;
    esac
    PEER_PID=
}

# One wrk run -> "req/s director-CPU-busy% director-CPU-softirq% peer-process-CPU%" ("-" each
# where there is no figure). The director CPU's busy time includes what other sessions ran there.
wrk_once() {  # url close(0/1)
    local out a b pa pb
    local -a hdr=()
    (($2)) && hdr=(-H "Connection: close")
    a=$(cpu_jiffies "$LVSD_CPU"); pa=$(proc_ticks "$PEER_PID")
    out=$(client timeout $((SECS + 15)) wrk -t1 -c"$CONNS" -d"${SECS}s" "${hdr[@]}" "$1" 2>&1) || true
    b=$(cpu_jiffies "$LVSD_CPU"); pb=$(proc_ticks "$PEER_PID")
    echo "$out" >>"$WORK/wrk.log"
    awk -v a="$a" -v b="$b" -v pa="$pa" -v pb="$pb" -v hz="$CLK_TCK" -v peer="${PEER_PID:-}" '
        /^Requests\/sec:/ { rps = sprintf("%.0f", $2) }
        END {
            split(a, x, " "); split(b, y, " "); t = y[3] - x[3]; if (t <= 0) t = 1
            proc = "-"; if (peer != "") proc = sprintf("%.0f", 100 * (pb - pa) / t)
            printf "%s %.0f %.0f %s\n", (rps == "" ? "-" : rps), 100 * (y[1] - x[1]) / t, 100 * (y[2] - x[2]) / t, proc
        }' <<<"$out"
}

# One batch of C connects -> "median p99 failures median-own p99-own" (the last two with the
# probe's own run-queue wait taken out, see connlat.py); "-" figures when it failed.
latency_batch() {  # host timeout label
    local m p f mo po
    read -r m p f mo po < <(client timeout "$2" python3 "$WORK/connlat.py" "$1" "$HTTP_BENCH_PORT" "$CONNECTS" ||
        echo "- - $CONNECTS - -")
    echo "$3: median $m us, p99 $p us, failures $f; without the probe's own CPU wait: median $mo us, p99 $po us" >>"$WORK/connlat.log"
    echo "$m $p $f $mo $po"
}

# The part-3 background load: 60-byte UDP frames to VIP:9 (new source port each) at HALF_PPS,
# from the client's generator CPU, bounded by -n and timeout; the real servers drop them.
load_start() {  # dst-mac
    udp_frame_cfg "$1" "$UDP_BENCH_PORT" 1024 65000 >"$WORK/load.cfg"
    ip netns exec "$NS_CLIENT" taskset -c "$GEN_CPU" timeout $((LOAD_MAX_S + 5)) \
        trafgen -o "$IFACE" -i "$WORK/load.cfg" -n $((HALF_PPS * LOAD_MAX_S)) -b "${HALF_PPS}pps" \
        --no-sock-mem -Q -C >"$WORK/load.log" 2>&1 &
    TPID=$!
}

CASES=(1k-keepalive 1k-close 100k-keepalive 100k-close)
declare -A RPS=() DCPU=() DSI=() PCPU=() LAT_MED=() LAT_P99=() LAT_FAIL=() LLAT_MED=() LLAT_P99=() LLAT_FAIL=() LAT_P99_OWN=() LLAT_P99_OWN=() LOAD_RATE=() LOAD_SHARE=()
# Per round: R<figure>[peer,case-or-kind,round]; lists of every round's figure: L<figure>[...].
declare -A RR=() LRPS=() LCPU=() LSI=() LPROC=() RLAT=() LLAT=() PEER_DEAD=() PEER_CHECKED=()
say "SwiftLVS benchmark suite, $(date -u '+%Y-%m-%d %H:%M:%S UTC'); bed $BED; load average at start $LOAD_START; autogroup: $(cat /proc/self/autogroup 2>/dev/null || echo none)"
say "machine: $NCPU CPUs ($(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)), kernel $(uname -r); git $(cd "$ROOT" && git describe --always --dirty 2>/dev/null || echo unknown)"
say "placement: director CPU $LVSD_CPU (lvsd, haproxy: taskset, haproxy nbthread 1); wrk, nginx, the load generator and the probes on CPU(s) $OTHER_CPUS, for every peer"
say "interleaved: $RUNS rounds; each round sets up every peer in turn (order rotated by one each round: round 1 ${PEERS[*]}, round 2 starts with the second, ...), runs each HTTP case once, one idle and one loaded latency batch, and tears it down; figures: the median over the rounds, plus paired ratios (per round, over the same round's peer; their median)"
say "wrk: ip netns exec ${BED}client taskset -c $OTHER_CPUS wrk -t1 -c$CONNS -d${SECS}s [-H 'Connection: close'] http://TARGET:$HTTP_BENCH_PORT/{1k,100k}; one run each per round, median of $RUNS"
say "connect latency: one batch of $CONNECTS connects (connlat.py) per round, idle and under ${HALF_PPS:-no} frames/s of UDP load (${HALF_FROM}); median of the batches' medians and p99s"
for ((round = 1; round <= RUNS; round++)); do
    mapfile -t ORDER < <(rotated "$round" "${PEERS[@]}")
    say "== round $round of $RUNS: ${ORDER[*]}"
    for peer in "${ORDER[@]}"; do
        [[ -z ${PEER_DEAD[$peer]:-} ]] || continue
        note "round $round: peer $peer"
        if ! setup_peer "$peer"; then
            say "$peer: setup FAILED (round $round)"; teardown_peer "$peer"
            [[ -n ${PEER_CHECKED[$peer]:-} ]] || { PEER_DEAD[$peer]=1; say "$peer: left out of the later rounds"; }
            continue
        fi
        url=http://$TARGET_HOST:$HTTP_BENCH_PORT
        ok=0
        for ((t = 0; t < READY_TIMEOUT_S * 10; t++)); do
            if client curl -s --max-time 1 -o /dev/null "$url/1k"; then ok=1; break; fi
            sleep 0.1
        done
        if ((!ok)); then
            say "$peer: functional check FAILED (GET $url/1k, round $round)"
            for log in "$WORK/${peer%-xdp}.log"; do [[ -f $log ]] && sed 's/^/    /' "$log" >&2; done
            teardown_peer "$peer"
            [[ -n ${PEER_CHECKED[$peer]:-} ]] || { PEER_DEAD[$peer]=1; say "$peer: left out of the later rounds"; }
            continue
        fi
        if [[ -z ${PEER_CHECKED[$peer]:-} && -n $PEER_PID ]]; then
            say "$(printf '%-8s process %s: %s' "$peer" "$PEER_PID" "$(pin_report "$PEER_PID")")"
        fi
        PEER_CHECKED[$peer]=1
        for case in "${CASES[@]}"; do
            size=${case%%-*} close=0
            [[ $case == *close ]] && close=1
            read -r rps busy si proc < <(wrk_once "$url/$size" "$close")
            RR[$peer,$case,$round]=$rps
            LRPS[$peer,$case]+=" $rps" LCPU[$peer,$case]+=" $busy" LSI[$peer,$case]+=" $si" LPROC[$peer,$case]+=" $proc"
            say "$(printf '%-8s %-15s round %d: %8s req/s; CPU%s busy %s%% (softirq %s%%), %s process %s%% of one CPU' \
                "$peer" "$case" "$round" "$rps" "$LVSD_CPU" "$busy" "$si" "$peer" "$proc")"
        done
        read -r m p f mo po < <(latency_batch "$TARGET_HOST" $((CONNECTS * 2 + 30)) "$peer idle round $round")
        RLAT[$peer,idle_med,$round]=$m RLAT[$peer,idle_p99,$round]=$p RLAT[$peer,idle_p99_own,$round]=$po
        LLAT[$peer,idle_med]+=" $m" LLAT[$peer,idle_p99]+=" $p" LLAT[$peer,idle_p99_own]+=" $po"
        LLAT[$peer,idle_med_own]+=" $mo" LLAT[$peer,idle_fail]=$(( ${LLAT[$peer,idle_fail]:-0} + ${f//-/0} ))
        say "$(printf '%-8s connect latency, idle, round %d: median %s us, p99 %s us, failures %s; without the probe'"'"'s own CPU wait: median %s us, p99 %s us' "$peer" "$round" "$m" "$p" "$f" "$mo" "$po")"
        # Loaded: not for haproxy (its handshake ends on the director, and the UDP load has no
        # VIP to go to there).
        if [[ -n $HALF_PPS && $peer != haproxy ]]; then
            # Offered: the client's transmit counter (a cheap sysfs read) around the connects;
            # delivered: the real servers' counts over the whole load, as a share of what was
            # sent. trafgen's rate mode overshoots somewhat: the rate it really sent.
            r0=$(rs_load_count) x0=$(client_tx) t0=$EPOCHREALTIME
            load_start "$LOAD_MAC"
            sleep "$LOAD_WARMUP_S"
            read -r m p f mo po < <(latency_batch "$TARGET_HOST" $((LOAD_MAX_S - LOAD_WARMUP_S - 5)) "$peer loaded round $round")
            alive=1
            kill -0 "$TPID" 2>/dev/null || alive=0
            stop_pid "$TPID"; TPID=
            x1=$(client_tx) t1=$EPOCHREALTIME
            sleep 0.2
            r1=$(rs_load_count)
            rate=$(awk -v a="$t0" -v b="$t1" -v n=$((x1 - x0)) 'BEGIN { printf "%.0f", (b > a) ? n / (b - a) : 0 }')
            share=$(awk -v r=$((r1 - r0)) -v x=$((x1 - x0)) 'BEGIN { printf "%.0f", (x > 0) ? 100 * r / x : 0 }')
            if ((!alive)); then
                say "$peer: the background load ended before the connects did (trafgen's bound or an error): loaded latency of round $round discarded"
                sed 's/^/    /' "$WORK/load.log" >&2
                m=- p=- f=- mo=- po=-
            fi
            RLAT[$peer,load_med,$round]=$m RLAT[$peer,load_p99,$round]=$p RLAT[$peer,load_p99_own,$round]=$po
            LLAT[$peer,load_med]+=" $m" LLAT[$peer,load_p99]+=" $p" LLAT[$peer,load_p99_own]+=" $po"
            LLAT[$peer,load_fail]=$(( ${LLAT[$peer,load_fail]:-0} + ${f//-/0} ))
            LLAT[$peer,load_rate]+=" $rate" LLAT[$peer,load_share]+=" $share"
            say "$(printf '%-8s connect latency under load, round %d (%s frames/s asked, %s sent on average, %s %% of them delivered to the servers): median %s us, p99 %s us, failures %s; without the probe'"'"'s own CPU wait: median %s us, p99 %s us' \
                "$peer" "$round" "$HALF_PPS" "$rate" "$share" "$m" "$p" "$f" "$mo" "$po")"
        fi
        teardown_peer "$peer"
    done
done

# Medians over the rounds, per peer.
for peer in "${PEERS[@]}"; do
    [[ -n ${PEER_CHECKED[$peer]:-} ]] || continue
    for case in "${CASES[@]}"; do
        RPS[$peer,$case]=$(median <<<"${LRPS[$peer,$case]:-}")
        DCPU[$peer,$case]=$(median <<<"${LCPU[$peer,$case]:-}") DSI[$peer,$case]=$(median <<<"${LSI[$peer,$case]:-}")
        PCPU[$peer,$case]=$(median <<<"${LPROC[$peer,$case]:-}")
        say "$(printf '%-8s %-15s %8s req/s (median; rounds:%s); CPU%s busy %s%% (softirq %s%%), %s process %s%% of one CPU' \
            "$peer" "$case" "${RPS[$peer,$case]}" "${LRPS[$peer,$case]:-}" "$LVSD_CPU" "${DCPU[$peer,$case]}" "${DSI[$peer,$case]}" \
            "$peer" "${PCPU[$peer,$case]}")"
    done
    LAT_MED[$peer]=$(median <<<"${LLAT[$peer,idle_med]:-}") LAT_P99[$peer]=$(median <<<"${LLAT[$peer,idle_p99]:-}")
    LAT_P99_OWN[$peer]=$(median <<<"${LLAT[$peer,idle_p99_own]:-}") LAT_FAIL[$peer]=${LLAT[$peer,idle_fail]:-0}
    say "$(printf '%-8s connect latency, idle: median %s us, p99 %s us, failures %s; without the probe'"'"'s own CPU wait: median %s us, p99 %s us' \
        "$peer" "${LAT_MED[$peer]}" "${LAT_P99[$peer]}" "${LAT_FAIL[$peer]}" "$(median <<<"${LLAT[$peer,idle_med_own]:-}")" "${LAT_P99_OWN[$peer]}")"
    if [[ -n ${LLAT[$peer,load_p99]:-} ]]; then
        LLAT_MED[$peer]=$(median <<<"${LLAT[$peer,load_med]}") LLAT_P99[$peer]=$(median <<<"${LLAT[$peer,load_p99]}")
        LLAT_P99_OWN[$peer]=$(median <<<"${LLAT[$peer,load_p99_own]}") LLAT_FAIL[$peer]=${LLAT[$peer,load_fail]:-0}
        LOAD_RATE[$peer]=$(median <<<"${LLAT[$peer,load_rate]}") LOAD_SHARE[$peer]=$(median <<<"${LLAT[$peer,load_share]}")
        say "$(printf '%-8s connect latency under load (median of the rounds: %s frames/s sent, %s %% delivered): median %s us, p99 %s us, failures %s; without the probe'"'"'s own CPU wait: p99 %s us' \
            "$peer" "${LOAD_RATE[$peer]}" "${LOAD_SHARE[$peer]}" "${LLAT_MED[$peer]}" "${LLAT_P99[$peer]}" "${LLAT_FAIL[$peer]}" "${LLAT_P99_OWN[$peer]}")"
    fi
done

# Paired figures: per round, a peer's figure over (or, for latency, minus) the same round's
# figure of another peer; the median of those. Rounds where either has no figure are left out.
paired_ratio() {  # case peer base -> median of RR[peer,case,r] / RR[base,case,r]
    local r l=
    for ((r = 1; r <= RUNS; r++)); do l+=" $(ratio "${RR[$2,$1,$r]:--}" "${RR[$3,$1,$r]:--}")"; done
    median_ratio <<<"$l"
}
paired_extra() {  # kind peer -> median of RLAT[peer,kind,r] - RLAT[direct,kind,r], signed
    local r l=
    for ((r = 1; r <= RUNS; r++)); do l+=" $(extra "${RLAT[$2,$1,$r]:--}" "${RLAT[direct,$1,$r]:--}")"; done
    l=$(median <<<"${l//+/}")
    [[ $l == - ]] && echo - || printf '%+d\n' "$l"
}
# The packet-rate paired ratios, from bench-pps.sh's RESULT lines.
declare -A PPS_PD=() PPS_PN=()
if ((!SKIP_PPS)) && [[ -f $OUTDIR/pps.txt ]]; then
    while read -r mode pd pn; do PPS_PD[$mode]=$pd PPS_PN[$mode]=$pn; done < <(
        sed -n 's/^RESULT mode=\([a-z-]*\) .* x_direct_paired=\([0-9.-]*\) x_nftlb_paired=\([0-9.-]*\) .*/\1 \2 \3/p' "$OUTDIR/pps.txt")
fi
sed 's/^/connlat: /' "$WORK/connlat.log" >>"$HTTP_OUT" 2>/dev/null || true

# ------------------------------------------------------------------ part 4: lvsd's drain rate

# scripts/bench-drain.sh (its own bed): counted by nft at the real servers' ingress and at the
# switch's p-dir ingress, as TESTBED §4.2 counted the C prototype (not tcpdump, whose capture
# ran in lvsd's transmit context and cost it most of its rate).
DRAIN_RS=- DRAIN_PDIR=-
if LVSD_BIN=$LVSD LVSD_CPU=$LVSD_CPU "$ROOT/scripts/bench-drain.sh" --runs "$RUNS" --frames "$DRAIN_FRAMES" \
    --modes lvsd --sink both >"$WORK/drain.txt" 2>&1; then
    DRAIN_RS=$(awk -F'|' '$2 ~ /^ lvsd $/ && $3 ~ / rs / { gsub(/ /, "", $4); print $4 }' "$WORK/drain.txt")
    DRAIN_PDIR=$(awk -F'|' '$2 ~ /^ lvsd $/ && $3 ~ / pdir / { gsub(/ /, "", $4); print $4 }' "$WORK/drain.txt")
else
    note "drain: bench-drain.sh failed:"; tail -n 20 "$WORK/drain.txt" >&2
fi
{ grep '^run\|^|' "$WORK/drain.txt" || true; } | while read -r line; do say "drain: $line"; done
say "lvsd drain rate, median of $RUNS: $DRAIN_RS frames/s to the real servers, $DRAIN_PDIR to a p-dir ingress drop"

# ------------------------------------------------------------------ the table and the plot

LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)
TABLE=$OUTDIR/table.md
DAT=$OUTDIR/ratios.dat
extra() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-") print "-"; else printf "%+d", a - b }'; }
# yes/no for "a >= f x b" (or "a <= b" with le), "-" when a figure is missing; all() joins them.
ge() { awk -v a="$1" -v b="$2" -v f="$3" 'BEGIN { if (a == "-" || b == "-" || a == "" || b == "") print "-"; else print (a >= f * b) ? "yes" : "no" }'; }
le() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || a == "") print "-"; else print (a <= b) ? "yes" : "no" }'; }
all() { local w r=yes; for w; do [[ $w == - ]] && { echo -; return; }; [[ $w == no ]] && r=no; done; echo "$r"; }
v() { local -n arr=$1; echo "${arr[$2]:--}"; }   # array key -> value or "-"

# One row: label, the five peers' cells, the five ratio cells, target, met.
row() { local IFS='|'; echo "| $* |" | sed 's/ *| */ | /g; s/^ //; s/ *$//'; }
# The ratio cells of a figure held in array A under keys PREFIX<peer>SUFFIX.
ratios() {  # array prefix suffix -> five cells
    local a=$1 p=$2 s=$3 l x n h d
    l=$(v "$a" "${p}lvsd$s") x=$(v "$a" "${p}lvsd-xdp$s") n=$(v "$a" "${p}nftlb$s") h=$(v "$a" "${p}haproxy$s") d=$(v "$a" "${p}direct$s")
    echo "$(ratio "$l" "$n")|$(ratio "$l" "$h")|$(ratio "$l" "$d")|$(ratio "$x" "$n")|$(ratio "$x" "$h")"
}
cells() {  # array prefix suffix -> the five peers' cells
    local p
    for p in lvsd lvsd-xdp nftlb haproxy direct; do printf '%s|' "$(v "$1" "$2$p$3")"; done
}
met_pair() {  # expression-producing function name -> "lvsd; lvsd-xdp" (lvsd-xdp "-" when not run)
    local x=-
    ((XDP_OK)) && x=$("$1" lvsd-xdp)
    echo "$("$1" lvsd); $x"
}
met_pps() { all "$(ge "$(v PPS "$1")" "$(v PPS nftlb)" 1.5)" "$(ge "$(v PPS "$1")" "$(v PPS direct)" 0.8)"; }
met_small() { ge "$(v RPS "$1,$CASE")" "$(v RPS "nftlb,$CASE")" 1; }
met_big() { all "$(ge "$(v RPS "$1,$CASE")" "$(v RPS "nftlb,$CASE")" 1)" "$(ge "$(v RPS "$1,$CASE")" "$(v RPS "haproxy,$CASE")" 3)"; }
# The same checks on the paired ratios (one ratio each).
gef() { awk -v a="$1" -v f="$2" 'BEGIN { if (a == "-" || a == "") print "-"; else print (a >= f) ? "yes" : "no" }'; }
met_pps_paired() { all "$(gef "$(v PPS_PN "$1")" 1.5)" "$(gef "$(v PPS_PD "$1")" 0.8)"; }
met_small_paired() { gef "$(paired_ratio "$CASE" "$1" nftlb)" 1; }
met_big_paired() { all "$(gef "$(paired_ratio "$CASE" "$1" nftlb)" 1)" "$(gef "$(paired_ratio "$CASE" "$1" haproxy)" 3)"; }
met_lat_paired() { le "$(paired_extra load_p99 "$1")" 50; }
paired_cells() {  # case -> the five ratio cells, paired
    echo "$(paired_ratio "$1" lvsd nftlb)|$(paired_ratio "$1" lvsd haproxy)|$(paired_ratio "$1" lvsd direct)|$(paired_ratio "$1" lvsd-xdp nftlb)|$(paired_ratio "$1" lvsd-xdp haproxy)"
}
PAIRED_LABEL="↳ paired: median of the per-round ratios"
met_lat() { le "$(extra "$(v LLAT_P99 "$1")" "$(v LLAT_P99 direct)")" 50; }
lat_cells() {  # array -> five cells "value (extra over direct)"
    local p d
    d=$(v "$1" direct)
    for p in lvsd lvsd-xdp nftlb haproxy; do printf '%s (%s)|' "$(v "$1" "$p")" "$(extra "$(v "$1" "$p")" "$d")"; done
    printf '%s|' "$d"
}
{
    echo "Suite run $(date -u '+%Y-%m-%d %H:%M UTC'), \`sudo scripts/bench.sh --runs $RUNS --seconds $SECS --connections $CONNS --connects $CONNECTS${AGNICE:+ --autogroup-nice $AGNICE}\`${HALF_PPS:+ (load $HALF_PPS frames/s: $HALF_FROM)};"
    echo "load average at start $LOAD_START, at end $LOAD_END ($NCPU CPUs, shared with other work: figures are noisy, read the ratios)."
    echo "Director CPU $LVSD_CPU: lvsd and haproxy pinned there (haproxy nbthread 1); wrk, nginx, trafgen and the probes on CPU(s) $OTHER_CPUS for every peer."
    echo "nftlb has no process: its work runs in softirq where the packets arrive (on veth: the sending CPU, mostly $OTHER_CPUS), so its director CPU budget is not the same one CPU; see the CPU$LVSD_CPU row."
    ((XDP_OK)) || echo "lvsd-xdp: left out, $XDP_WHY."
    echo
    echo "Interleaved: round r = 1..$RUNS runs every peer once, in an order rotated by one each round. Each figure is the median over the rounds and its ratio columns the ratio of those medians; the \"↳ paired\" row under it holds, in the same ratio columns, the median of the per-round ratios (each peer over the other peer's figure of the same round; for latency the per-round extra over direct), which a slow minute of the host moves less. Its met column checks the paired ratios."
    echo
    echo "| figure | lvsd | lvsd-xdp | nftlb | haproxy | direct | lvsd / nftlb | lvsd / haproxy | lvsd / direct | lvsd-xdp / nftlb | lvsd-xdp / haproxy | target | met (lvsd; lvsd-xdp) |"
    echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
    if ((!SKIP_PPS)); then
        row " UDP packets/s delivered (60-byte frames) " "$(cells PPS '' '')$(ratios PPS '' '')" " ≥ 1.5 × nftlb, ≥ 0.8 × direct " " $(met_pair met_pps) "
        row " $PAIRED_LABEL " "|||||$(v PPS_PN lvsd)|-|$(v PPS_PD lvsd)|$(v PPS_PN lvsd-xdp)|-" " ≥ 1.5 × nftlb, ≥ 0.8 × direct " " $(met_pair met_pps_paired) "
    fi
    for CASE in "${CASES[@]}"; do
        if [[ $CASE == 100k* ]]; then
            row " HTTP req/s, $CASE " "$(cells RPS '' ",$CASE")$(ratios RPS '' ",$CASE")" " ≥ 1 × nftlb, ≥ 3 × haproxy " " $(met_pair met_big) "
            row " $PAIRED_LABEL " "|||||$(paired_cells "$CASE")" " ≥ 1 × nftlb, ≥ 3 × haproxy " " $(met_pair met_big_paired) "
        else
            row " HTTP req/s, $CASE " "$(cells RPS '' ",$CASE")$(ratios RPS '' ",$CASE")" " ≥ 1 × nftlb " " $(met_pair met_small) "
            row " $PAIRED_LABEL " "|||||$(paired_cells "$CASE")" " ≥ 1 × nftlb " " $(met_pair met_small_paired) "
        fi
    done
    for CASE in 100k-keepalive 1k-close; do
        busy=
        for p in lvsd lvsd-xdp nftlb haproxy direct; do
            busy+="$(v DCPU "$p,$CASE")/$(v DSI "$p,$CASE") ($(v PCPU "$p,$CASE"))|"
        done
        row " CPU$LVSD_CPU (the director's) busy/softirq % during HTTP $CASE (the peer process's CPU, % of one CPU) " "$busy||||" " same budget: ≤ 100 % of one CPU " ""
    done
    row " lvsd's drain rate to the real servers, frames/s on one core (its ring filled while stopped: $DRAIN_FRAMES 60-byte frames of 1024 known UDP flows, counted by nft at their ingress; median of $RUNS), next to the direct UDP ceiling " "$DRAIN_RS||||$(v PPS direct)|||$(ratio "$DRAIN_RS" "$(v PPS direct)")||" " " ""
    row " lvsd's drain rate to a p-dir ingress drop, frames/s on one core (same, lvsd's transmit alone) " "$DRAIN_PDIR||||$(v PPS direct)|||$(ratio "$DRAIN_PDIR" "$(v PPS direct)")||" " " ""
    row " connect latency median, µs, idle (extra over direct) " "$(lat_cells LAT_MED)||||" " reported " ""
    row " connect latency p99, µs, idle (extra over direct) " "$(lat_cells LAT_P99)||||" " reported " ""
    row " connect latency p99, µs, idle, the probe's own wait for its CPU taken out (extra over direct) " "$(lat_cells LAT_P99_OWN)||||" " reported " ""
    if [[ -n $HALF_PPS ]]; then
        row " connect latency median, µs, at half load ($HALF_PPS UDP frames/s through the VIP; extra over direct) " "$(lat_cells LLAT_MED)||||" " reported " ""
        row " connect latency p99, µs, at half load (extra over direct) " "$(lat_cells LLAT_P99)||||" " p99 extra ≤ 50 µs " " $(met_pair met_lat) "
        row " ↳ paired: median of the per-round extras over direct, µs " "($(paired_extra load_p99 lvsd))|($(paired_extra load_p99 lvsd-xdp))|($(paired_extra load_p99 nftlb))|-|-|||||" " p99 extra ≤ 50 µs " " $(met_pair met_lat_paired) "
        row " connect latency p99, µs, at half load, the probe's own wait for its CPU taken out (extra over direct) " "$(lat_cells LLAT_P99_OWN)||||" " reported " ""
        row " the half load: frames/s sent, averaged over the load (% of them delivered to the real servers) " "$(for p in lvsd lvsd-xdp nftlb haproxy direct; do printf '%s (%s %%)|' "$(v LOAD_RATE "$p")" "$(v LOAD_SHARE "$p")"; done)||||" " $HALF_PPS " ""
    fi
} >"$TABLE"
{
    echo "# figure lvsd/nftlb lvsd/haproxy lvsd/direct lvsd-xdp/nftlb lvsd-xdp/haproxy"
    # Each figure twice: the ratio of the medians, then the paired ratio (median of per-round).
    ((SKIP_PPS)) || echo "\"UDP pps\" $(ratios PPS '' '' | tr '|' ' ')"
    ((SKIP_PPS)) || echo "\"(paired)\" $(v PPS_PN lvsd) - $(v PPS_PD lvsd) $(v PPS_PN lvsd-xdp) -"
    for case in "${CASES[@]}"; do
        echo "\"$case\" $(ratios RPS '' ",$case" | tr '|' ' ')"
        echo "\"(paired)\" $(paired_cells "$case" | tr '|' ' ')"
    done
} >"$DAT"
PLOT="plot \"$DAT\" using 2:xtic(1) title \"lvsd / nftlb\", \"\" using 3 title \"lvsd / haproxy\", \"\" using 4 title \"lvsd / direct\""
((XDP_OK)) && PLOT+=", \"\" using 5 title \"lvsd-xdp / nftlb\", \"\" using 6 title \"lvsd-xdp / haproxy\""
gnuplot <<EOF || note "gnuplot failed; the table is still in $TABLE"
set terminal pngcairo size 1200,500 noenhanced
set output "$OUTDIR/ratios.png"
set title "lvsd relative to its peers, $RUNS interleaved rounds: each figure's ratio of the medians, then (paired) the median of its per-round ratios\nload average $LOAD_START .. $LOAD_END"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set datafile missing "-"
set ylabel "ratio (lvsd / peer)"
set logscale y 2
set yrange [0.25:*]
set grid ytics
set key top left
set arrow from graph 0, first 1 to graph 1, first 1 nohead dt 2
$PLOT
EOF
cat "$TABLE"
note "results in ${OUTDIR#"$ROOT"/}: table.md, ratios.png, http.txt, pps.txt"
