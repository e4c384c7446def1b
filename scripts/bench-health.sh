#!/usr/bin/env bash
# Health-check scale benchmark (issue 5): lvsd with N real servers, each checked every second
# with TCP_CHECK, and the CPU its health thread (and the whole process) uses over a window.
#
#   scripts/bench-health.sh [--servers N] [--seconds S] [--lvsd PATH] [--no-steering] [--probe-via-vip]
#
# Defaults: 10000 servers, a 10 s window, .build/release/lvsd. --no-steering leaves the real
# servers' side of the handshakes on lvsd's CPU (see below): a pessimistic figure.
# --probe-via-vip adds probe_via_vip to every TCP_CHECK: the rs namespace then holds the VIP on
# lo (arp_ignore 1, arp_announce 2, as a DR real server) and the checks are counted by the
# director's TCP OutRsts (its kernel answers each probe's SYN-ACK with one reset, which goes
# nowhere; see docs/HEALTH.md) instead of the listeners' accepts (a probe is never accepted).
#
# Layout: two namespaces of its own, hb-XXXX-dir (lvsd, eth0 10.201.0.1/16) and hb-XXXX-rs
# (eth0 10.201.0.2/16 plus 10.201.1.1-100), joined by one veth pair. The configuration has 100
# virtual services 10.201.255.1:20000..20099 (rr, DR) with N/100 real servers each:
# 10.201.1.R:PORT for R in 1..N/100, so N distinct (address, port) endpoints. In the rs
# namespace two Python processes listen on 0.0.0.0:20000..20099 with SO_REUSEPORT, accept and
# close, and count accepts per second (the check rate actually achieved). Checks: delay_loop 1,
# connect_timeout 2, retry 1, warmup 1 (spreads the first round over a second).
#
# Measured: utime+stime of lvsd's "lvsd-health" thread and of the whole lvsd process, from
# /proc, over the window, after a 5 s settling time; accepts per second at the listeners;
# real servers declared down during the run (must be 0).
#
# Bounded: every wait has a limit, the listeners exit by themselves after S + 60 s, and the
# namespaces and processes are removed on any exit.
set -euo pipefail

SERVERS=10000
SECONDS_WINDOW=10
LVSD=
STEERING=1
VIA_VIP=0
while (($#)); do
    case $1 in
        --servers) SERVERS=$2; shift 2 ;;
        --seconds) SECONDS_WINDOW=$2; shift 2 ;;
        --lvsd) LVSD=$2; shift 2 ;;
        --no-steering) STEERING=0; shift ;;
        --probe-via-vip) VIA_VIP=1; shift ;;
        -h | --help) sed -n '2,30p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "bench-health: unknown argument $1" >&2; exit 2 ;;
    esac
done
((EUID == 0)) || { echo "bench-health: must run as root (network namespaces)" >&2; exit 1; }
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LVSD=${LVSD:-$ROOT/.build/release/lvsd}
[[ -x $LVSD ]] || { echo "bench-health: no lvsd at $LVSD (swift build -c release --product lvsd)" >&2; exit 1; }
SERVICES=100
((SERVERS % SERVICES == 0 && SERVERS >= SERVICES && SERVERS <= 25000)) || {
    echo "bench-health: --servers must be a multiple of $SERVICES, at most 25000" >&2; exit 2; }
PER_SERVICE=$((SERVERS / SERVICES))
((PER_SERVICE <= 250)) || { echo "bench-health: at most 250 real servers per service" >&2; exit 2; }

P="hb-$(od -An -N2 -tx1 /dev/urandom | tr -d ' \n')-"
DIR_NS=${P}dir
RS_NS=${P}rs
WORK=$(mktemp -d /tmp/bench-health.XXXXXX)
PIDS=()

cleanup() {
    set +e
    local pid
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null; done
    for _ in $(seq 30); do
        local alive=0
        for pid in "${PIDS[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
        ((alive)) || break
        sleep 0.1
    done
    for pid in "${PIDS[@]}"; do kill -KILL "$pid" 2>/dev/null; done
    ip netns del "$DIR_NS" 2>/dev/null
    ip netns del "$RS_NS" 2>/dev/null
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

echo "bench-health: $SERVERS real servers ($SERVICES services × $PER_SERVICE), TCP_CHECK$( ((VIA_VIP)) && echo " with probe_via_vip") every 1 s, window ${SECONDS_WINDOW} s; namespaces ${P}*; steering $( ((STEERING)) && echo on || echo off)" >&2
ip netns add "$DIR_NS"
ip netns add "$RS_NS"
ip -n "$DIR_NS" link set lo up
ip -n "$RS_NS" link set lo up
ip -n "$DIR_NS" link add eth0 type veth peer name eth0 netns "$RS_NS"
ip -n "$DIR_NS" link set eth0 address 02:00:0a:c9:00:01 up
ip -n "$RS_NS" link set eth0 address 02:00:0a:c9:00:02 up
ip -n "$DIR_NS" addr add 10.201.0.1/16 dev eth0
ip -n "$RS_NS" addr add 10.201.0.2/16 dev eth0
{
    for r in $(seq 1 "$PER_SERVICE"); do echo "addr add 10.201.1.$r/16 dev eth0"; done
} | ip -n "$RS_NS" -batch -
ip netns exec "$DIR_NS" sysctl -qw net.ipv4.ip_forward=0 net.ipv4.ip_local_port_range="1024 65000" >/dev/null
ip netns exec "$RS_NS" sysctl -qw net.core.somaxconn=8192 net.ipv4.tcp_max_syn_backlog=8192 >/dev/null
if ((VIA_VIP)); then
    ip -n "$RS_NS" addr add 10.201.255.1/32 dev lo
    ip netns exec "$RS_NS" sysctl -qw net.ipv4.conf.all.arp_ignore=1 net.ipv4.conf.all.arp_announce=2 \
        net.ipv4.conf.eth0.arp_ignore=1 net.ipv4.conf.eth0.arp_announce=2 >/dev/null
fi

# Real-server MACs for lvsd (it never ARPs for them then).
for r in $(seq 1 "$PER_SERVICE"); do echo "02:00:0a:c9:00:02 10.201.1.$r"; done >"$WORK/neighbors"

# The keepalived.conf.
{
    for s in $(seq 0 $((SERVICES - 1))); do
        port=$((20000 + s))
        echo "virtual_server 10.201.255.1 $port {"
        echo "  delay_loop 1"
        echo "  lb_algo rr"
        echo "  lb_kind DR"
        echo "  protocol TCP"
        for r in $(seq 1 "$PER_SERVICE"); do
            echo "  real_server 10.201.1.$r $port {"
            echo "    TCP_CHECK {"
            echo "      connect_timeout 2"
            echo "      retry 1"
            echo "      warmup 1"
            ((VIA_VIP)) && echo "      probe_via_vip"
            echo "    }"
            echo "  }"
        done
        echo "}"
    done
} >"$WORK/keepalived.conf"

# Listeners: accept and close, count accepts per second, exit after a bound.
cat >"$WORK/listen.py" <<'PY'
import os, selectors, socket, sys, time
first, count, out, lifetime = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], float(sys.argv[4])
sel = selectors.EpollSelector()
for port in range(first, first + count):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    s.bind(("0.0.0.0", port))
    s.listen(4096)
    s.setblocking(False)
    sel.register(s, selectors.EVENT_READ)
open(out + ".ready", "w").close()
end = time.time() + lifetime
accepted = 0
next_report = time.time() + 1
with open(out, "w", buffering=1) as report:
    while time.time() < end:
        for key, _ in sel.select(timeout=0.2):
            while True:
                try:
                    c, _ = key.fileobj.accept()
                except (BlockingIOError, ConnectionError):
                    break
                c.close()
                accepted += 1
        now = time.time()
        if now >= next_report:
            report.write("%.3f %d\n" % (now, accepted))
            next_report = now + 1
PY
LIFETIME=$((SECONDS_WINDOW + 60))
# CPU 0 is lvsd's, CPU 1 the real servers': the listeners run there, and receive packet steering
# moves the rs namespace's side of every handshake there too. On veth, the receiving stack
# runs in the sender's context, so without this lvsd would be charged for the real servers'
# kernel work, which on a real network happens on other machines.
if ((STEERING)); then
    ip netns exec "$RS_NS" sh -c 'echo 2 > /sys/class/net/eth0/queues/rx-0/rps_cpus'
fi
for i in 1 2; do
    ip netns exec "$RS_NS" taskset -c 1 python3 "$WORK/listen.py" 20000 "$SERVICES" "$WORK/accepts.$i" "$LIFETIME" </dev/null >"$WORK/listen.$i.log" 2>&1 &
    PIDS+=("$!")
done
for _ in $(seq 100); do
    [[ -e $WORK/accepts.1.ready && -e $WORK/accepts.2.ready ]] && break
    sleep 0.1
done
[[ -e $WORK/accepts.1.ready && -e $WORK/accepts.2.ready ]] || { cat "$WORK"/listen.*.log >&2; echo "bench-health: listeners not ready" >&2; exit 1; }

ip netns exec "$DIR_NS" taskset -c 0 "$LVSD" --interface eth0 --config "$WORK/keepalived.conf" --neighbors "$WORK/neighbors" \
    --no-save --socket "$WORK/lvsd.sock" --connections 65536 --ring-frames 256 </dev/null >"$WORK/lvsd.log" 2>&1 &
LVSD_PID=$!
PIDS+=("$LVSD_PID")
for _ in $(seq 300); do
    grep -q "health: checking" "$WORK/lvsd.log" 2>/dev/null && break
    kill -0 "$LVSD_PID" 2>/dev/null || { cat "$WORK/lvsd.log" >&2; echo "bench-health: lvsd exited" >&2; exit 1; }
    sleep 0.1
done
grep -q "health: checking" "$WORK/lvsd.log" || { tail "$WORK/lvsd.log" >&2; echo "bench-health: lvsd did not start checking" >&2; exit 1; }
HEALTH_TID=
for t in /proc/"$LVSD_PID"/task/*; do
    [[ $(cat "$t/comm" 2>/dev/null) == lvsd-health ]] && HEALTH_TID=${t##*/}
done
[[ -n $HEALTH_TID ]] || { echo "bench-health: no lvsd-health thread" >&2; exit 1; }

ticks() {  # utime+stime of a /proc stat file
    local stat
    read -r stat <"$1"
    stat=${stat##*) }
    local -a f
    read -r -a f <<<"$stat"
    echo $((f[11] + f[12]))
}
systicks() {  # stime alone
    local stat
    read -r stat <"$1"
    stat=${stat##*) }
    local -a f
    read -r -a f <<<"$stat"
    echo $((f[12]))
}
accepted_total() {  # sum over the listeners of their last reported count
    if ((VIA_VIP)); then  # the director's TCP OutRsts: one per probe answered
        ip netns exec "$DIR_NS" awk '/^Tcp:/ { if (!c) { for (i = 1; i <= NF; i++) if ($i == "OutRsts") c = i } else print $c }' /proc/net/snmp
        return
    fi
    local total=0 f n
    for f in "$WORK"/accepts.*; do
        n=$(tail -n1 "$f" 2>/dev/null | awk '{print $2}')
        total=$((total + ${n:-0}))
    done
    echo "$total"
}

sleep 5
HZ=$(getconf CLK_TCK)
s0=$(systicks /proc/"$LVSD_PID"/task/"$HEALTH_TID"/stat)
t0=$(date +%s.%N); h0=$(ticks /proc/"$LVSD_PID"/task/"$HEALTH_TID"/stat); p0=$(ticks /proc/"$LVSD_PID"/stat); a0=$(accepted_total)
sleep "$SECONDS_WINDOW"
s1=$(systicks /proc/"$LVSD_PID"/task/"$HEALTH_TID"/stat)
t1=$(date +%s.%N); h1=$(ticks /proc/"$LVSD_PID"/task/"$HEALTH_TID"/stat); p1=$(ticks /proc/"$LVSD_PID"/stat); a1=$(accepted_total)
down=$(grep -c "Removing service" "$WORK/lvsd.log" || true)
failed=$(grep -c "failed" "$WORK/lvsd.log" || true)
rss=$(awk '/VmRSS/ {print $2}' /proc/"$LVSD_PID"/status)

awk -v t0="$t0" -v t1="$t1" -v h0="$h0" -v h1="$h1" -v p0="$p0" -v p1="$p1" -v a0="$a0" -v a1="$a1" -v hz="$HZ" -v s0="$s0" -v s1="$s1" \
    -v n="$SERVERS" -v down="$down" -v failed="$failed" -v rss="$rss" \
    -v what="$( ((VIA_VIP)) && echo "probes answered (director resets)" || echo "checks completed at the listeners")" 'BEGIN {
    w = t1 - t0
    printf "servers %d  window %.1f s\n", n, w
    printf "%s: %.0f/s (%.0f%% of %d/s)\n", what, (a1 - a0) / w, 100 * (a1 - a0) / w / n, n
    printf "lvsd-health thread CPU: %.3f cores (%.1f us per check; system %.3f, user %.3f)\n", (h1 - h0) / hz / w, 1e6 * (h1 - h0) / hz / ((a1 - a0) > 0 ? (a1 - a0) : 1), (s1 - s0) / hz / w, ((h1 - h0) - (s1 - s0)) / hz / w
    printf "lvsd process CPU:       %.3f cores\n", (p1 - p0) / hz / w
    printf "lvsd RSS: %.1f MiB; failed-check log lines: %d; servers removed: %d\n", rss / 1024, failed, down
}'
if [[ -n ${BENCH_HEALTH_LOG:-} ]]; then cp "$WORK/lvsd.log" "$BENCH_HEALTH_LOG"; fi
if ((down > 0)); then
    echo "bench-health: $down real servers were declared down during the run:" >&2
    grep -m5 "failed\|Removing" "$WORK/lvsd.log" >&2
    exit 1
fi
