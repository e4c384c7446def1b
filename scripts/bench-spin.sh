#!/usr/bin/env bash
# Where an idle `--busy-poll` worker's spin goes (issue 8): lvsd (each BIN given, in turn, in
# one bed) runs with --busy-poll pinned to LVSD_CPU and no traffic at all; `perf record -e
# cpu-clock` samples the process for S seconds, and the script prints which share of the
# samples fell in the clock read (clock_gettime, vDSO), in Swift's dynamic exclusivity checks
# (swift_beginAccess, AccessSet::insert, the TLS look-up they do) and in the rest (the ring
# check itself). Binaries alternate within each run, so their figures share the machine's state.
#
#   sudo scripts/bench-spin.sh [--runs N] [--seconds S] BIN...
#   LVSD_CPU (default 1). perf is Debian's linux-perf (software cpu-clock events suffice).
#
# No load is generated; lvsd and the bed are removed on exit, failure included.
set -euo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
TESTBED=$HERE/testbed.sh
LVSD_CPU=${LVSD_CPU:-1}
RUNS=2 SECS=3
die() { echo "bench-spin.sh: $*" >&2; exit 1; }
while (($#)); do
    case $1 in
        --runs) RUNS=${2:?}; shift 2 ;;
        --seconds) SECS=${2:?}; shift 2 ;;
        -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
        *) break ;;
    esac
done
(($#)) || die "name at least one lvsd binary"
for bin in "$@"; do [[ -x $bin ]] || die "$bin is not an executable"; done
command -v perf >/dev/null || die "perf not found (Debian: linux-perf)"
[[ $RUNS =~ ^[0-9]+$ && $RUNS -ge 1 && $RUNS -le 10 ]] || die "--runs: 1-10"
[[ $SECS =~ ^[0-9]+$ && $SECS -ge 1 && $SECS -le 30 ]] || die "--seconds: 1-30"

WORK=$(mktemp -d)
PREFIX=
LVSD_PID=
cleanup() {
    if [[ -n $LVSD_PID ]] && kill -0 "$LVSD_PID" 2>/dev/null; then
        kill "$LVSD_PID"; wait "$LVSD_PID" 2>/dev/null || true
    fi
    [[ -z $PREFIX ]] || "$TESTBED" down "$PREFIX" >/dev/null 2>&1 || true
    rm -rf "$WORK"
}
trap cleanup EXIT
PREFIX=$("$TESTBED" up 2>/dev/null | tail -n1)
printf -- '-A -u 10.200.0.100:9000 -s rr\n-a -u 10.200.0.100:9000 -r 10.200.0.11:9000 -g -w 1\n' >"$WORK/rules"

echo "idle --busy-poll spin, lvsd pinned to CPU$LVSD_CPU, perf cpu-clock ${SECS} s per binary and run; $(date -u +%FT%TZ); load: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| run | lvsd | samples | clock read % | exclusivity checks + TLS % | rest (the ring check) % |"
echo "|---|---|---|---|---|---|"
for run in $(seq "$RUNS"); do
    for bin in "$@"; do
        rm -f "$WORK/log" "$WORK/sock"
        ip netns exec "${PREFIX}director" "$bin" --interface eth0 --rules "$WORK/rules" --busy-poll \
            --cpu-list "$LVSD_CPU" --socket "$WORK/sock" --save-file "$WORK/saved" \
            --stats-file "$WORK/stats.json" >"$WORK/log" 2>&1 &
        LVSD_PID=$!
        "$TESTBED" track "$PREFIX" lvsd "$LVSD_PID"
        for _ in $(seq 100); do grep -q "ready" "$WORK/log" && break; sleep 0.1; done
        grep -q "ready" "$WORK/log" || die "lvsd ($bin) not ready: $(cat "$WORK/log")"
        sleep 1
        timeout $((SECS + 20)) perf record -q -e cpu-clock -F 5000 -p "$LVSD_PID" -o "$WORK/perf.data" -- sleep "$SECS" >/dev/null 2>&1
        perf report -i "$WORK/perf.data" --stdio --sort symbol 2>/dev/null | grep -E '^ +[0-9.]+%' >"$WORK/report" || true
        samples=$(perf report -i "$WORK/perf.data" --stdio 2>/dev/null | sed -n 's/^# Samples: \([0-9kKmM.]*\).*/\1/p' | head -1)
        share() { awk -v re="$1" '$3 ~ re { sub("%", "", $1); s += $1 } END { printf "%.1f", s }' "$WORK/report"; }
        clock=$(share 'clock_gettime')
        checks=$(share 'swift_beginAccess|AccessSet|tls_get_addr|SwiftTLSContext|swift_endAccess')
        rest=$(awk -v a="$clock" -v b="$checks" 'BEGIN { printf "%.1f", 100 - a - b }')
        echo "| $run | $bin | $samples | $clock | $checks | $rest |"
        kill "$LVSD_PID"; wait "$LVSD_PID" 2>/dev/null || true
        LVSD_PID=
    done
done
