#!/usr/bin/env bash
# Benchmark of `srl-swe prepare` at the real size of the SWE-smith `tool` split (issue 2):
# ~24k trajectories, ~1 GB of parquet over 8 shards, generated once (seeded) into
# ~/.cache/srl-swe/bench/ and reused. Runs the release binary with the default options and
# reports wall time, trajectories/s and peak RSS (/usr/bin/time -v). Goal: <= 30 s, <= 1.5 GB.
# A benchmark, not a timed test: run it by hand on a quiet machine.
#   bash crates/trajectory/benches/prepare_bench.sh [extra prepare flags]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
source "$root/scripts/env.sh"
data="$SRL_SWE_CACHE/bench/swe-smith-tool"
out="$SRL_SWE_CACHE/bench/prepare-out"
"$SRL_SWE_PYTHON" "$here/make_synthetic.py" "$data"
du -sh "$data/data"
# The release binary; SRL_SWE_BENCH_EXAMPLE=1 runs the same library call through the small
# `prepare_swe` example instead (no libtorch build needed).
if [ "${SRL_SWE_BENCH_EXAMPLE:-0}" = 1 ]; then
  (cd "$root" && cargo build --release -p srl-trajectory --example prepare_swe)
  cmd=("$CARGO_TARGET_DIR/release/examples/prepare_swe" "$data" "$out" "$@")
else
  bin="${SRL_SWE_BIN:-}"
  if [ -z "$bin" ]; then
    (cd "$root" && cargo build --release -p srl-swe)
    bin="$CARGO_TARGET_DIR/release/srl-swe"
  fi
  cmd=("$bin" prepare "$data" --out "$out" "$@")
fi
rm -rf "$out"
log="$(mktemp)"
/usr/bin/time -v "${cmd[@]}" 2> "$log" || { tail -n 30 "$log"; exit 1; }
grep -E "prepare: |Elapsed|Maximum resident" "$log" | sed 's/^\s*//'
wall="$(grep 'Elapsed (wall clock)' "$log" | awk '{print $NF}')"
rss_kb="$(grep 'Maximum resident set size' "$log" | awk '{print $NF}')"
read_n="$("$SRL_SWE_PYTHON" -c "import json,sys; print(json.load(open(sys.argv[1]))['records']['read'])" "$out/stats.json")"
"$SRL_SWE_PYTHON" - "$wall" "$rss_kb" "$read_n" <<'PY'
import sys
wall, rss_kb, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
parts = [float(x) for x in wall.split(":")]
secs = sum(v * 60 ** i for i, v in enumerate(reversed(parts)))
print(f"trajectories: {n}  wall: {secs:.1f} s  throughput: {n / secs:.0f} trajectories/s  peak RSS: {rss_kb / 1024:.0f} MiB")
PY
du -sh "$out"/*
rm -f "$log"
