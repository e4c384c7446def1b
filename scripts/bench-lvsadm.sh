#!/usr/bin/env bash
# Control-plane benchmark (issue 4): a real lvsd in the namespace bed, driven by the real lvsadm.
#   restore   `lvsadm -R` of 10 000 services x 4 real servers into an empty table (then -C)
#   list      `lvsadm -L -n` of that table (output to /dev/null)
#   save      `lvsadm -S -n` of that table
#   live      UDP datagrams through the director while 100 `lvsadm -e` weight edits are applied,
#             against the same stream with no edits: datagrams lost in each
# Each timing is the median of --runs runs. Usage: sudo scripts/bench-lvsadm.sh [--runs N] [--services N]
# Environment: LVSD_BIN / LVSADM_BIN skip the release build.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
TESTBED=$ROOT/scripts/testbed.sh
RUNS=5
SERVICES=10000
while [ $# -gt 0 ]; do
    case "$1" in
        --runs) RUNS=$2; shift 2 ;;
        --services) SERVICES=$2; shift 2 ;;
        *) sed -n '2,9p' "${BASH_SOURCE[0]}" >&2; exit 2 ;;
    esac
done
[ "$(id -u)" = 0 ] || { echo "bench-lvsadm.sh: run as root (namespaces, packet sockets)" >&2; exit 1; }

if [ -z "${LVSD_BIN:-}" ] || [ -z "${LVSADM_BIN:-}" ]; then
    (cd "$ROOT" && swift build -c release --product lvsd >&2 && swift build -c release --product lvsadm >&2)
    BIN=$(cd "$ROOT" && swift build -c release --show-bin-path)
    LVSD_BIN=${LVSD_BIN:-$BIN/lvsd}
    LVSADM_BIN=${LVSADM_BIN:-$BIN/lvsadm}
fi

WORK=$(mktemp -d /tmp/bench-lvsadm.XXXXXX)
PREFIX=
LVSD_PID=
cleanup() {
    if [ -n "$LVSD_PID" ] && kill -0 "$LVSD_PID" 2>/dev/null; then
        kill "$LVSD_PID"; for _ in $(seq 50); do kill -0 "$LVSD_PID" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$LVSD_PID" 2>/dev/null || true
    fi
    [ -n "$PREFIX" ] && "$TESTBED" down "$PREFIX" >/dev/null 2>&1 || true
    rm -rf "$WORK"
}
trap cleanup EXIT

PREFIX=$("$TESTBED" up | tail -n 1)
SOCK=$WORK/lvsd.sock
export LVSD_SOCKET=$SOCK
ip netns exec "${PREFIX}director" "$LVSD_BIN" --interface eth0 --socket "$SOCK" --save-file "$WORK/saved.rules" \
    --stats-file "$WORK/stats.json" >"$WORK/lvsd.log" 2>&1 &
LVSD_PID=$!
for _ in $(seq 100); do grep -q 'lvsd: ready' "$WORK/lvsd.log" && break; sleep 0.1; done
grep -q 'lvsd: ready' "$WORK/lvsd.log" || { cat "$WORK/lvsd.log" >&2; exit 1; }

# 10 000 services on one VIP (ports 1..10000), each with the three bed servers and a fourth.
python3 - "$SERVICES" >"$WORK/table.rules" <<'PY'
import sys
n = int(sys.argv[1])
for port in range(1, n + 1):
    print("-A -t 10.200.0.100:%d -s wlc" % port)
    for rs in (11, 12, 13, 14):
        print("-a -t 10.200.0.100:%d -r 10.200.0.%d:%d -g -w 1" % (port, rs, port))
PY

ms() { date +%s%N; }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
: >"$WORK/restore.t"; : >"$WORK/list.t"; : >"$WORK/save.t"
for _ in $(seq "$RUNS"); do
    "$LVSADM_BIN" -C
    t0=$(ms); "$LVSADM_BIN" -R <"$WORK/table.rules"; t1=$(ms)
    echo $(( (t1 - t0) / 1000000 )) >>"$WORK/restore.t"
    t0=$(ms); "$LVSADM_BIN" -L -n >/dev/null; t1=$(ms)
    echo $(( (t1 - t0) / 1000000 )) >>"$WORK/list.t"
    t0=$(ms); "$LVSADM_BIN" -S -n >/dev/null; t1=$(ms)
    echo $(( (t1 - t0) / 1000000 )) >>"$WORK/save.t"
done
lines=$("$LVSADM_BIN" -L -n | wc -l)
RESTORE_MS=$(median <"$WORK/restore.t"); LIST_MS=$(median <"$WORK/list.t"); SAVE_MS=$(median <"$WORK/save.t")

# Live changes: a small UDP service, a 20 000-datagram stream at 5 000/s, edits every 50 ms.
"$LVSADM_BIN" -C
"$LVSADM_BIN" -A -u 10.200.0.100:9000 -s rr
for rs in 11 12 13; do "$LVSADM_BIN" -a -u 10.200.0.100:9000 -r 10.200.0.$rs -w 1; done
sleep 1
quiet=$(ip netns exec "${PREFIX}client" python3 "$ROOT/scripts/udp-count.py" 10.200.0.100 9000 --count 20000 --rate 5000)
ip netns exec "${PREFIX}client" python3 "$ROOT/scripts/udp-count.py" 10.200.0.100 9000 --count 20000 --rate 5000 >"$WORK/live.out" &
STREAM=$!
edits=0
for i in $(seq 100); do
    "$LVSADM_BIN" -e -u 10.200.0.100:9000 -r 10.200.0.1$(( i % 3 + 1 )) -w $(( i % 5 + 1 )); edits=$((edits + 1))
    sleep 0.03
done
wait "$STREAM"
live=$(cat "$WORK/live.out")

cat <<REPORT
control plane: $SERVICES services x 4 real servers, medians of $RUNS runs (ms)
  lvsadm -R      $RESTORE_MS
  lvsadm -L -n   $LIST_MS   ($lines lines)
  lvsadm -S -n   $SAVE_MS
UDP stream through the director (20 000 datagrams at 5 000/s, echoed by the real servers):
  no edits             $quiet
  $edits weight edits   $live
REPORT
