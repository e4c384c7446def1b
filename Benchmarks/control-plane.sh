#!/usr/bin/env bash
# Control-plane phases (BENCHMARKS.md, "Control plane (issue 4)"): instructions of each phase of
# `lvsadm -R` and `lvsadm -L -n` for SERVICES services x 4 real servers, in one process
# (Benchmarks/Sources/ControlPlane), counted by callgrind (independent of machine load), and
# the user CPU time of each phase from one plain run.
#   Benchmarks/control-plane.sh [SERVICES]     default 10000 (at most 16383: 4 servers each in 65536 slots)
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
services=${1:-10000}
command -v valgrind >/dev/null || { echo "control-plane.sh: needs valgrind (apt-get install valgrind)" >&2; exit 1; }
swift build -c release --product ControlPlane >&2
bin=$(swift build -c release --show-bin-path)/ControlPlane
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "user CPU per phase (one run):"
"$bin" "$services"
valgrind --tool=callgrind --callgrind-out-file="$tmp/cg" "$bin" "$services" >/dev/null 2>&1
lines=$((services * 5))
echo "instructions per phase (callgrind, inclusive; per line of the $lines-line -R stream):"
annotated=$(callgrind_annotate --inclusive=yes --threshold=100 "$tmp/cg" 2>/dev/null)
for phase in Parse EncodeChange DecodeChange TableChecks EngineApply SavedText Status EncodeStatus DecodeStatus List Save; do
    count=$(grep -E "^ *[0-9,]+ .*main.swift:\\\$s12ControlPlane[0-9]+phase${phase}[y_]" <<<"$annotated" | head -n 1 | awk '{gsub(",", "", $1); print $1}')
    awk -v p="$phase" -v c="${count:-0}" -v n="$lines" 'BEGIN { printf "  %-14s %13.0f  %6.0f/line\n", p, c, c / n }'
done
