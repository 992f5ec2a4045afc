#!/usr/bin/env bash
# Benchmark of `srl-swe prepare` against what a user would run instead, side by side in one run
# (issue 13): a single-process pyarrow + json script doing the same job (prepare_pyarrow.py).
#
# Data: the real size of the SWE-smith `tool` split (24,015 trajectories, 8 parquet shards) with
# SWE-smith-like step counts and observation lengths and row groups of several MB
# (make_synthetic.py), generated once (seeded) into $SRL_SWE_CACHE/bench/ and reused.
# Reports wall time, CPU time (user + system), trajectories/s and peak RSS (/usr/bin/time -v) of
# both, and the ratios (wall: what a user waits; CPU: robust to a busy machine).
# Goal: >= 10x the script, peak RSS <= 1.5 GB. A benchmark, not a timed test: run it by hand on
# a quiet machine.
#   bash crates/trajectory/benches/prepare_bench.sh [--rows N]
# Env: SRL_SWE_BIN=path/to/srl-swe runs the binary (default: the `prepare_swe` example, the same
# library call without building libtorch); SRL_SWE_BENCH_REFERENCE=path/to/another prepare_swe
# also runs that build and checks the outputs are byte-identical; SRL_SWE_BENCH_CPUS=0,1 pins
# every run to those CPUs (taskset).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
source "$root/scripts/env.sh"
rows=24015
if [ "${1:-}" = "--rows" ]; then rows="$2"; fi
data="$SRL_SWE_CACHE/bench/swe-smith-tool-$rows"
out="$SRL_SWE_CACHE/bench/prepare-out"
py_out="$SRL_SWE_CACHE/bench/pyarrow-out"
"$SRL_SWE_PYTHON" "$here/make_synthetic.py" "$data" --rows "$rows"
du -sh "$data/data"
pin=()
if [ -n "${SRL_SWE_BENCH_CPUS:-}" ]; then pin=(taskset -c "$SRL_SWE_BENCH_CPUS"); fi
bin="${SRL_SWE_BIN:-}"
if [ -z "$bin" ]; then
  (cd "$root" && cargo build --release -p srl-trajectory --example prepare_swe)
  cmd=("$CARGO_TARGET_DIR/release/examples/prepare_swe" "$data" "$out")
else
  cmd=("$bin" prepare "$data" --out "$out")
fi

# timed LABEL CMD...: runs CMD under /usr/bin/time -v; sets secs and rss_mib.
timed() {
  local label="$1"; shift
  local log; log="$(mktemp)"
  /usr/bin/time -v "${pin[@]}" "$@" 2> "$log" > /dev/null || { tail -n 30 "$log"; exit 1; }
  grep -E "prepare|pyarrow script" "$log" | sed "s/^/  [$label] /" || true
  local wall; wall="$(grep 'Elapsed (wall clock)' "$log" | awk '{print $NF}')"
  secs="$("$SRL_SWE_PYTHON" -c "import sys; p=[float(x) for x in sys.argv[1].split(':')]; print(sum(v*60**i for i,v in enumerate(reversed(p))))" "$wall")"
  rss_mib="$(( $(grep 'Maximum resident set size' "$log" | awk '{print $NF}') / 1024 ))"
  cpu="$(grep 'Percent of CPU' "$log" | awk '{print $NF}')"
  cpu_secs="$(awk '/User time|System time/ {s += $NF} END {print s}' "$log")"
  echo "  [$label] wall ${secs} s, CPU ${cpu_secs} s (${cpu}), peak RSS ${rss_mib} MiB"
  rm -f "$log"
}

rm -rf "$out" "$py_out"
echo "srl-swe prepare:"
timed srl-swe "${cmd[@]}"
rust_secs="$secs"; rust_rss="$rss_mib"; rust_cpu="$cpu_secs"
n="$("$SRL_SWE_PYTHON" -c "import json,sys; print(json.load(open(sys.argv[1]))['records']['read'])" "$out/stats.json")"
# The script builds the same instances: give it the same system prompt.
"$SRL_SWE_PYTHON" -c "import json,sys; print(json.loads(open(sys.argv[1]).readline())['messages'][0]['content'], end='')" \
  "$out/train.jsonl" > "$SRL_SWE_CACHE/bench/system_prompt.txt"
echo "pyarrow + json script:"
timed pyarrow "$SRL_SWE_PYTHON" "$here/prepare_pyarrow.py" "$data/data" "$py_out" "$SRL_SWE_CACHE/bench/system_prompt.txt"
py_secs="$secs"; py_rss="$rss_mib"; py_cpu="$cpu_secs"
rust_lines="$(cat "$out/train.jsonl" "$out/val.jsonl" | wc -l)"
py_lines="$(cat "$py_out/train.jsonl" "$py_out/val.jsonl" | wc -l)"
echo "instances: srl-swe $rust_lines, script $py_lines"
if [ -n "${SRL_SWE_BENCH_REFERENCE:-}" ]; then
  ref_out="$SRL_SWE_CACHE/bench/reference-out"
  rm -rf "$ref_out"
  echo "reference build:"
  timed reference "$SRL_SWE_BENCH_REFERENCE" "$data" "$ref_out"
  for f in train.jsonl val.jsonl stats.json; do
    if cmp -s "$out/$f" "$ref_out/$f"; then echo "  $f: byte-identical"; else echo "  $f: DIFFERS"; fi
  done
fi
"$SRL_SWE_PYTHON" - "$n" "$rust_secs" "$rust_rss" "$py_secs" "$py_rss" "$rust_cpu" "$py_cpu" <<'PY'
import sys
n, rs, rr, ps, pr = int(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5])
rc, pc = float(sys.argv[6]), float(sys.argv[7])
print(f"trajectories: {n}")
print(f"srl-swe prepare : {rs:7.1f} s  {n / rs:8.0f} trajectories/s  CPU {rc:6.1f} s  peak RSS {rr} MiB")
print(f"pyarrow script  : {ps:7.1f} s  {n / ps:8.0f} trajectories/s  CPU {pc:6.1f} s  peak RSS {pr} MiB")
print(f"ratio           : {ps / rs:.1f}x wall, {pc / rc:.1f}x CPU time")
PY
du -sh "$out"/*
