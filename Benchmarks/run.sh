#!/usr/bin/env bash
# Core micro-benchmarks (BENCHMARKS.md, "Core"): instructions and allocations per packet on the
# hit path, measured as the difference between two run sizes so set-up cancels out, and the
# Maglev table build: wall clock, and instructions per build (21 vs 1 builds). Instruction
# counts (callgrind) do not depend on machine load.
#   Benchmarks/run.sh [SMALL LARGE]     default 100000 1100000 packets
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
small=${1:-100000}
large=${2:-1100000}
command -v valgrind >/dev/null || { echo "run.sh: needs valgrind (apt-get install valgrind)" >&2; exit 1; }
scratch=.build-bench
swift build -c release --scratch-path "$scratch" --product HitPath >&2
swift build -c release --scratch-path "$scratch" --product MaglevBuild >&2
swift build -c release --scratch-path "$scratch" --product ServiceSnapshot >&2
bin=$(swift build -c release --scratch-path "$scratch" --show-bin-path)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

batch=64   # the worker's default ring batch (RingOptions.batchSize)
instructions() {  # packets [batch] -> total instructions
    valgrind --tool=callgrind --callgrind-out-file="$tmp/cg.$1.${2:-0}" "$bin/HitPath" "$1" ${2:-} 2>&1 \
        | sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}
engine_instructions() {  # packets [batch] -> instructions inside process / processBatch (inclusive)
    callgrind_annotate --inclusive=yes "$tmp/cg.$1.${2:-0}" 2>/dev/null \
        | awk '/ForwardingEngineC7process_3now|ForwardingEngineC12processBatch_5count/ && !found {
                   gsub(",", "", $1); print $1; found = 1 }'
}
allocations() {  # packets [batch] -> heap allocations
    valgrind "$bin/HitPath" "$1" ${2:-} 2>&1 | sed -n 's/.*total heap usage: \([0-9,]*\) allocs.*/\1/p' | tr -d ,
}
i_small=$(instructions "$small"); i_large=$(instructions "$large")
a_small=$(allocations "$small"); a_large=$(allocations "$large")
per_packet=$(( (i_large - i_small) / (large - small) ))
e_small=$(engine_instructions "$small"); e_large=$(engine_instructions "$large")
engine_per_packet=$(( (e_large - e_small) / (large - small) ))
allocs_per_packet=$(awk -v a="$a_small" -v b="$a_large" -v n=$((large - small)) 'BEGIN { printf "%.6f", (b - a) / n }')
echo "hit path: $per_packet instructions/packet (callgrind, $small vs $large packets; includes the harness's loop, call and restore)"
echo "hit path: $engine_per_packet of them inside ForwardingEngine.process (callgrind_annotate --inclusive=yes)"
echo "hit path: $allocs_per_packet allocations/packet ($a_small vs $a_large heap allocations)"
b_small=$(instructions "$small" "$batch"); b_large=$(instructions "$large" "$batch")
be_small=$(engine_instructions "$small" "$batch"); be_large=$(engine_instructions "$large" "$batch")
ba_small=$(allocations "$small" "$batch"); ba_large=$(allocations "$large" "$batch")
echo "batch path ($batch frames a call, as the worker runs it): $(( (b_large - b_small) / (large - small) )) instructions/packet (includes the harness's loop, verdict check and restore)"
echo "batch path: $(( (be_large - be_small) / (large - small) )) of them inside ForwardingEngine.processBatch (inclusive; its per-call work amortised over the batch)"
echo "batch path: $(awk -v a="$ba_small" -v b="$ba_large" -v n=$((large - small)) 'BEGIN { printf "%.6f", (b - a) / n }') allocations/packet ($ba_small vs $ba_large heap allocations)"
"$bin/MaglevBuild" 1000 20
maglev_instructions() {  # builds -> total instructions of MaglevBuild 1000 builds
    valgrind --tool=callgrind --callgrind-out-file=/dev/null "$bin/MaglevBuild" 1000 "$1" 2>&1 \
        | sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}
m_one=$(maglev_instructions 1); m_many=$(maglev_instructions 21)
echo "maglev table: $(( (m_many - m_one) / 20 )) instructions/build (callgrind, 21 vs 1 builds of 65537 slots x 1000 servers)"
# valgrind gives up on this binary's DWARF (LVSDataPlane's, "possibly corrupted debuginfo"):
# it runs a copy without it.
objcopy --strip-debug "$bin/ServiceSnapshot" "$tmp/ServiceSnapshot"
snapshot_instructions() {  # services snapshots [each] -> total instructions of ServiceSnapshot
    valgrind --tool=callgrind --callgrind-out-file=/dev/null "$tmp/ServiceSnapshot" "$@" 2>&1 \
        | sed -n 's/.*Collected : \([0-9]*\).*/\1/p'
}
# The worker's once-a-second DataPlaneSnapshot at 1 000 and 10 000 services (two servers each),
# as the difference between 2 and 1 snapshots; then the services' totals alone read one
# stats(service:) a service, a sweep of all slots each (how the snapshot read them before
# serviceTotals), at the same sizes.
for n in 1000 10000; do
    one=$(snapshot_instructions "$n" 1); two=$(snapshot_instructions "$n" 2)
    echo "service snapshot: $n services, $((2 * n)) server slots: $(( two - one )) instructions/snapshot, $(( (two - one) / n )) per service (callgrind, 2 vs 1 snapshots)"
done
for n in 1000 10000; do
    one=$(snapshot_instructions "$n" 1 each); two=$(snapshot_instructions "$n" 2 each)
    echo "service totals one stats(service:) a service: $n services: $(( two - one )) instructions, $(( (two - one) / n )) per service"
done
echo "connection entry: 32 bytes (MemoryLayout<ConnectionEntry>.stride, asserted in ConnectionTableTests)"
echo "callgrind profile of the large run: callgrind_annotate $tmp/cg.$large.0 (removed on exit; rerun by hand to keep it)"
