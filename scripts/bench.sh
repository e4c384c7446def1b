#!/usr/bin/env bash
# The benchmark suite in one command (issue 8): lvsd against its peers in the namespace test bed,
# each figure the median of several short runs, the ratios in one table and one plot.
#
#   1. Packet rate (scripts/bench-pps.sh, modes direct, nftlb, lvsd): 60-byte UDP frames from
#      trafgen, counted at the real servers' ingress; lvsd pinned to one CPU.
#   2. HTTP (nginx on rs1-3, port 8080, files of 1 KB and 100 KB; wrk in the client, one
#      thread, C connections), with keep-alive and with "Connection: close", through
#        direct   client -> rs1, no director (the ceiling)
#        lvsd     lvsd (rr, DR), pinned to one CPU
#        nftlb    nftlb DSR farm (hash on source address and port), in the director's kernel
#        haproxy  haproxy mode tcp on the director's address (a proxy: both directions through it)
#   3. Connect latency: C sequential TCP connects per peer from the client (Python, timed around
#      connect()), closed with RST; median and p99, and the extra over direct.
#   4. lvsd's own capacity (scripts/bench-drain.sh, its own bed): 1024 UDP flows opened, then
#      lvsd stopped (SIGSTOP) while trafgen puts F frames of those flows (60 bytes) into its RX
#      ring, then continued; nft counters at the real servers' ingress (and, second figure, at
#      the switch's p-dir ingress) count the forwarded frames, a 1 ms poller of switch-port
#      counters times the first and the last: the director's work with no generator competing
#      for its CPU (on veth it includes the kernel's transmit and the servers' receive, done in
#      lvsd's sendmmsg). The method of TESTBED §4.2 (design notes). Not for nftlb: no ring.
# Not measured yet: AF_XDP; see BENCHMARKS.md.
#
# Usage: sudo scripts/bench.sh [options]
#   --runs N        runs per figure, the median is reported (default 3)
#   --seconds S     length of one packet-rate window or one wrk run, seconds (default 3)
#   --connections C wrk connections (default 32)
#   --connects N    connects per peer for the latency figure (default 300)
#   --skip-pps      leave out part 1
#   --peers LIST    comma-separated subset of direct,lvsd,nftlb,haproxy for parts 2 and 3 (default all)
#   --lvsd-cpu N    CPU lvsd and haproxy are pinned to (default 1)
#   --drain-frames F frames for part 4 (default 60000; lvsd runs with a ring of 65536)
#   --out-dir DIR   results (default bench-results/suite-<UTC timestamp>/): pps.txt, http.txt,
#                   table.md, ratios.dat, ratios.png
# Environment: LVSD_BIN=/path/to/lvsd skips the release build.
# Every load loop is bounded (wrk -d under `timeout`, a fixed number of connects with a 2 s
# timeout each); the bed and every process started here are removed on exit, failure included.
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
LVSD_CPU=1
OUTDIR=
PEER_LIST=direct,lvsd,nftlb,haproxy
DRAIN_FRAMES=60000
DRAIN_RING=65536
HTTP_BENCH_PORT=8080
NFTLB_PORT=5555
READY_TIMEOUT_S=10
STOP_TIMEOUT_S=5

usage() { sed -n '/^# Usage:/,/^# Environment/p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2; }
die() { echo "bench: error: $*" >&2; exit 1; }

while (($#)); do
    case $1 in
        --runs) RUNS=${2:?}; shift 2 ;;
        --seconds) SECS=${2:?}; shift 2 ;;
        --connections) CONNS=${2:?}; shift 2 ;;
        --connects) CONNECTS=${2:?}; shift 2 ;;
        --skip-pps) SKIP_PPS=1; shift ;;
        --peers) PEER_LIST=${2:?}; shift 2 ;;
        --lvsd-cpu) LVSD_CPU=${2:?}; shift 2 ;;
        --drain-frames) DRAIN_FRAMES=${2:?}; shift 2 ;;
        --out-dir) OUTDIR=${2:?}; shift 2 ;;
        -h | --help) usage ;;
        *) echo "bench: unknown argument '$1'" >&2; usage ;;
    esac
done
[[ $RUNS =~ ^[1-9]$ ]] || die "--runs: 1..9"
[[ $SECS =~ ^[1-9][0-9]?$ ]] || die "--seconds: 1..99"
[[ $CONNS =~ ^[1-9][0-9]{0,3}$ ]] || die "--connections: 1..9999"
[[ $CONNECTS =~ ^[1-9][0-9]{0,4}$ ]] || die "--connects: 1..99999"
[[ $LVSD_CPU =~ ^[0-9]+$ ]] && ((LVSD_CPU < $(nproc))) || die "--lvsd-cpu: 0..$(($(nproc) - 1))"
[[ $DRAIN_FRAMES =~ ^[1-9][0-9]*$ ]] && ((DRAIN_FRAMES <= DRAIN_RING - 2048)) ||
    die "--drain-frames: 1..$((DRAIN_RING - 2048)) (the ring holds $DRAIN_RING)"
((EUID == 0)) || die "needs root (network namespaces, packet sockets): sudo $0"

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

# ------------------------------------------------------------------ part 1: packet rate

declare -A PPS=()
if ((!SKIP_PPS)); then
    note "part 1: scripts/bench-pps.sh --modes direct,nftlb,lvsd --runs $RUNS --seconds $SECS --wait-quiet 0"
    LVSD_BIN=$LVSD "$ROOT/scripts/bench-pps.sh" --modes direct,nftlb,lvsd --runs "$RUNS" --seconds "$SECS" \
        --wait-quiet 0 --lvsd-cpu "$LVSD_CPU" --gen-cpu $(((LVSD_CPU + 1) % $(nproc))) \
        --out "$OUTDIR/pps.txt" >&2 || note "bench-pps.sh reported a failed mode (see pps.txt)"
    while read -r mode pps; do PPS[$mode]=$pps; done < <(
        sed -n 's/^RESULT mode=\([a-z-]*\) pps=\([0-9-]*\) .*/\1 \2/p' "$OUTDIR/pps.txt")
fi

# ------------------------------------------------------------------ part 2 and 3: the bed

BED= WORK= LVSD_PID= HAPROXY_PID=
declare -a NGINX_PIDS=() DUMP_PIDS=()

# shellcheck disable=SC2317  # reached through the EXIT trap
cleanup() {
    local rc=$? p
    set +e
    [[ -n $LVSD_PID ]] && kill -CONT "$LVSD_PID" 2>/dev/null
    stop_pid "$LVSD_PID"; stop_pid "$NFTLB_PID"; stop_pid "$HAPROXY_PID"
    for p in "${DUMP_PIDS[@]}"; do stop_pid "$p"; done
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

# Thousands of short connections a second for several runs: without these, the "close" cases of
# the later peers meet ports still in TIME_WAIT from the earlier ones (haproxy's collapsed to a
# few hundred requests a second, with connects of milliseconds). Same for every peer.
for ns in "$NS_CLIENT" "$NS_DIRECTOR" "$NS_RS1" "$NS_RS2" "$NS_RS3"; do
    ip netns exec "$ns" sysctl -q -w net.ipv4.ip_local_port_range="1024 65535" net.ipv4.tcp_tw_reuse=1 ||
        die "sysctl in $ns failed"
done

# nginx on each real server: port 8080 on every address (the VIP on lo included), one worker,
# two static files. Runs in the foreground under our PID so that cleanup can stop it.
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
    ip netns exec "${!ns}" nginx -c "$WORK/nginx-rs$i.conf" </dev/null >"$WORK/nginx-rs$i.log" 2>&1 &
    NGINX_PIDS+=("$!")
    "$TESTBED" track "$BED" "nginx-rs$i" "$!"
done
for i in 1 2 3; do
    ipv=RS${i}_IP ok=0
    for ((t = 0; t < READY_TIMEOUT_S * 10; t++)); do
        if ip netns exec "$NS_CLIENT" curl -s --max-time 1 -o /dev/null "http://${!ipv}:$HTTP_BENCH_PORT/1k"; then
            ok=1; break
        fi
        sleep 0.1
    done
    ((ok)) || { cat "$WORK/nginx-rs$i.err" >&2 || true; die "nginx on rs$i does not answer"; }
done

cat >"$WORK/connlat.py" <<'EOF'
# Times N sequential TCP connects to HOST:PORT; closes each with RST (no TIME_WAIT pile-up).
# Prints "median_us p99_us failures".
import socket, struct, sys, time
host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
times, failures = [], 0
for _ in range(n):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(2)
    t0 = time.perf_counter()
    try:
        s.connect((host, port))
        times.append(time.perf_counter() - t0)
    except OSError:
        failures += 1
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
times.sort()
if not times:
    print("- - %d" % failures)
else:
    med = times[len(times) // 2]
    p99 = times[min(len(times) - 1, int(len(times) * 0.99))]
    print("%.0f %.0f %d" % (med * 1e6, p99 * 1e6, failures))
EOF

# --------------------------------------------------------------- the peers

setup_peer() {  # peer -> sets TARGET_HOST
    local i
    case $1 in
        direct) TARGET_HOST=$RS1_IP ;;
        lvsd)
            TARGET_HOST=$VIP
            {
                echo "-A -t $VIP:$HTTP_BENCH_PORT -s rr"
                for i in 1 2 3; do
                    local ipv=RS${i}_IP
                    echo "-a -t $VIP:$HTTP_BENCH_PORT -r ${!ipv}:$HTTP_BENCH_PORT -g -w 1"
                done
            } >"$WORK/rules"
            ip netns exec "$NS_DIRECTOR" taskset -c "$LVSD_CPU" "$LVSD" --interface "$IFACE" --rules "$WORK/rules" \
                --socket "$WORK/lvsd.sock" </dev/null >"$WORK/lvsd.log" 2>&1 &
            LVSD_PID=$!
            "$TESTBED" track "$BED" lvsd "$LVSD_PID"
            for ((i = 0; i < READY_TIMEOUT_S * 10; i++)); do
                grep -q 'lvsd: ready' "$WORK/lvsd.log" && return 0
                kill -0 "$LVSD_PID" 2>/dev/null || break
                sleep 0.1
            done
            note "lvsd not ready:"; cat "$WORK/lvsd.log" >&2; return 1 ;;
        nftlb)
            TARGET_HOST=$VIP
            nftlb_dsr_up bench-http tcp "$HTTP_BENCH_PORT" ;;
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
            "$TESTBED" track "$BED" haproxy "$HAPROXY_PID"
            return 0 ;;
    esac
}

teardown_peer() {
    case $1 in
        lvsd) stop_pid "$LVSD_PID"; LVSD_PID= ;;
        haproxy) stop_pid "$HAPROXY_PID"; HAPROXY_PID= ;;
        nftlb) nftlb_dsr_down ;;
    esac
}


wrk_once() {  # url close(0/1) -> req/s, or "-"
    local out
    if (($2)); then
        out=$(ip netns exec "$NS_CLIENT" timeout $((SECS + 15)) wrk -t1 -c"$CONNS" -d"${SECS}s" \
            -H "Connection: close" "$1" 2>&1) || true
    else
        out=$(ip netns exec "$NS_CLIENT" timeout $((SECS + 15)) wrk -t1 -c"$CONNS" -d"${SECS}s" "$1" 2>&1) || true
    fi
    echo "$out" >>"$WORK/wrk.log"
    awk '/^Requests\/sec:/ { printf "%.0f\n", $2; f = 1 } END { if (!f) print "-" }' <<<"$out"
}

IFS=, read -r -a PEERS <<<"$PEER_LIST"
for p in "${PEERS[@]}"; do
    case $p in direct | lvsd | nftlb | haproxy) ;; *) die "unknown peer '$p'" ;; esac
done
CASES=(1k-keepalive 1k-close 100k-keepalive 100k-close)
declare -A RPS=() ALL=() LAT_MED=() LAT_P99=() LAT_FAIL=()
say "SwiftLVS benchmark suite, $(date -u '+%Y-%m-%d %H:%M:%S UTC'); bed $BED; load average at start $LOAD_START"
say "machine: $(nproc) CPUs ($(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo)), kernel $(uname -r); git $(cd "$ROOT" && git describe --always --dirty 2>/dev/null || echo unknown)"
say "wrk: ip netns exec ${BED}client wrk -t1 -c$CONNS -d${SECS}s [-H 'Connection: close'] http://TARGET:$HTTP_BENCH_PORT/{1k,100k}; $RUNS runs each, median"
for peer in "${PEERS[@]}"; do
    note "peer $peer"
    if ! setup_peer "$peer"; then
        say "$peer: setup FAILED"; teardown_peer "$peer"; continue
    fi
    url=http://$TARGET_HOST:$HTTP_BENCH_PORT
    ok=0
    for ((t = 0; t < READY_TIMEOUT_S * 10; t++)); do
        if ip netns exec "$NS_CLIENT" curl -s --max-time 1 -o /dev/null "$url/1k"; then ok=1; break; fi
        sleep 0.1
    done
    if ((!ok)); then
        say "$peer: functional check FAILED (GET $url/1k)"
        for log in "$WORK/$peer.log"; do [[ -f $log ]] && sed 's/^/    /' "$log" >&2; done
        teardown_peer "$peer"; continue
    fi
    for case in "${CASES[@]}"; do
        size=${case%%-*} close=0
        [[ $case == *close ]] && close=1
        runs=
        for ((r = 1; r <= RUNS; r++)); do runs+=" $(wrk_once "$url/$size" "$close")"; done
        RPS[$peer,$case]=$(median <<<"$runs")
        ALL[$peer,$case]=${runs# }
        say "$(printf '%-8s %-15s %8s req/s (median; runs:%s)' "$peer" "$case" "${RPS[$peer,$case]}" "$runs")"
    done
    read -r m p f < <(ip netns exec "$NS_CLIENT" timeout $((CONNECTS * 2 + 30)) \
        python3 "$WORK/connlat.py" "$TARGET_HOST" "$HTTP_BENCH_PORT" "$CONNECTS" || echo "- - $CONNECTS")
    LAT_MED[$peer]=$m LAT_P99[$peer]=$p LAT_FAIL[$peer]=$f
    say "$(printf '%-8s connect latency over %d connects: median %s us, p99 %s us, failures %s' "$peer" "$CONNECTS" "$m" "$p" "$f")"
    teardown_peer "$peer"
done

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
{
    echo "Suite run $(date -u '+%Y-%m-%d %H:%M UTC'), \`sudo scripts/bench.sh --runs $RUNS --seconds $SECS --connections $CONNS --connects $CONNECTS\`;"
    echo "load average at start $LOAD_START, at end $LOAD_END ($(nproc) CPUs, shared with other work: figures are noisy, read the ratios)."
    echo
    echo "| figure | lvsd | nftlb | haproxy | direct | lvsd / nftlb | lvsd / haproxy | lvsd / direct | target |"
    echo "|---|---|---|---|---|---|---|---|---|"
    if ((!SKIP_PPS)); then
        echo "| UDP packets/s delivered (60-byte frames) | ${PPS[lvsd]:--} | ${PPS[nftlb]:--} | | ${PPS[direct]:--} | $(ratio "${PPS[lvsd]:--}" "${PPS[nftlb]:--}") | | $(ratio "${PPS[lvsd]:--}" "${PPS[direct]:--}") | ≥ 1.5 × nftlb, ≥ 0.8 × direct |"
    fi
    for case in "${CASES[@]}"; do
        echo "| HTTP req/s, $case | ${RPS[lvsd,$case]:--} | ${RPS[nftlb,$case]:--} | ${RPS[haproxy,$case]:--} | ${RPS[direct,$case]:--} | $(ratio "${RPS[lvsd,$case]:--}" "${RPS[nftlb,$case]:--}") | $(ratio "${RPS[lvsd,$case]:--}" "${RPS[haproxy,$case]:--}") | $(ratio "${RPS[lvsd,$case]:--}" "${RPS[direct,$case]:--}") | |"
    done
    echo "| lvsd's drain rate to the real servers, frames/s (its ring filled while stopped: $DRAIN_FRAMES 60-byte frames of 1024 known UDP flows, counted by nft at their ingress; median of $RUNS) | $DRAIN_RS | | | | | | | |"
    echo "| lvsd's drain rate to a p-dir ingress drop, frames/s (same, lvsd's transmit alone) | $DRAIN_PDIR | | | | | | | |"
    echo "| connect latency median, µs (extra over direct) | ${LAT_MED[lvsd]:--} ($(extra "${LAT_MED[lvsd]:--}" "${LAT_MED[direct]:--}")) | ${LAT_MED[nftlb]:--} ($(extra "${LAT_MED[nftlb]:--}" "${LAT_MED[direct]:--}")) | ${LAT_MED[haproxy]:--} ($(extra "${LAT_MED[haproxy]:--}" "${LAT_MED[direct]:--}")) | ${LAT_MED[direct]:--} | | | | |"
    echo "| connect latency p99, µs (extra over direct) | ${LAT_P99[lvsd]:--} ($(extra "${LAT_P99[lvsd]:--}" "${LAT_P99[direct]:--}")) | ${LAT_P99[nftlb]:--} ($(extra "${LAT_P99[nftlb]:--}" "${LAT_P99[direct]:--}")) | ${LAT_P99[haproxy]:--} ($(extra "${LAT_P99[haproxy]:--}" "${LAT_P99[direct]:--}")) | ${LAT_P99[direct]:--} | | | | |"
} >"$TABLE"
{
    echo "# figure lvsd/nftlb lvsd/haproxy lvsd/direct"
    ((SKIP_PPS)) || echo "\"UDP pps\" $(ratio "${PPS[lvsd]:--}" "${PPS[nftlb]:--}") - $(ratio "${PPS[lvsd]:--}" "${PPS[direct]:--}")"
    for case in "${CASES[@]}"; do
        echo "\"$case\" $(ratio "${RPS[lvsd,$case]:--}" "${RPS[nftlb,$case]:--}") $(ratio "${RPS[lvsd,$case]:--}" "${RPS[haproxy,$case]:--}") $(ratio "${RPS[lvsd,$case]:--}" "${RPS[direct,$case]:--}")"
    done
} >"$DAT"
gnuplot <<EOF || note "gnuplot failed; the table is still in $TABLE"
set terminal pngcairo size 900,480 noenhanced
set output "$OUTDIR/ratios.png"
set title "lvsd relative to its peers (median of $RUNS runs; load $LOAD_START .. $LOAD_END)"
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
plot "$DAT" using 2:xtic(1) title "lvsd / nftlb", "" using 3 title "lvsd / haproxy", "" using 4 title "lvsd / direct"
EOF
cat "$TABLE"
note "results in ${OUTDIR#"$ROOT"/}: table.md, ratios.png, http.txt${SKIP_PPS:+}, pps.txt"
