#!/usr/bin/env bash
# The main job on the shipped samples (README command 1), end to end on a CPU:
#   set-up → environment images → prepare (SWE-smith + s1K) → reward → replay expert trajectories
#   → train (GRPO + SRL reward) → eval (Agentless-mini oracle with the gold and the trained model,
#   math accuracy).
# Set-up is included and reused when present. Outputs go to out/demo/ (or the first argument).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/setup.sh"
cd "$here/.."
out="${1:-out/demo}"
mkdir -p "$out"
step() { printf '\n== %s\n' "$*" >&2; }

step "build srl-swe (release)"
cargo build --release --locked -p srl-swe 2>&1 | tail -n 2 >&2
bin="$CARGO_TARGET_DIR/release/srl-swe"

step "sandbox: build the task-environment images (skipped when present)"
"$bin" sandbox build

step "prepare: SWE-smith sample trajectories (tool/xml/ticks parquet, JSONL, .traj) → step instances"
"$bin" prepare datasets/swe-smith --out "$out/prepare-swe"
step "prepare: s1K-1.1 sample → math step instances + RLVR items"
"$bin" prepare --math datasets/s1k --out "$out/prepare-math"

step "reward: score sample (model output, expert action) pairs"
"$bin" reward --input datasets/reward/pairs.jsonl --output "$out/reward.jsonl"

step "replay: re-run the expert trajectories in their containers and grade the final state"
"$bin" replay --out "$out/replay"

step "model: create the tiny Qwen2 checkpoint (random weights, BPE tokenizer trained on the samples)"
[ -f "$out/models/tiny/config.json" ] || "$bin" model init --preset tiny --out "$out/models/tiny"

step "train: GRPO with the SRL reward on the prepared SWE step instances (tiny model, a few steps)"
"$bin" train --config configs/demo-swe.toml \
  --set "output-dir=$out/train-swe" --set "model.path=$out/models/tiny" \
  --set "stages.0.data=$out/prepare-swe/train.jsonl" --set "stages.0.val-data=$out/prepare-swe/val.jsonl"

step "train: the toy step-wise task, where the tiny model learns within minutes (configs/demo.toml)"
"$bin" train --config configs/demo.toml --set "output-dir=$out/train-toy"

step "eval: Agentless-mini oracle with the gold patches (validates the environments: 100% expected)"
"$bin" eval --mode oracle --model gold --out "$out/eval-oracle-gold"

step "eval: Agentless-mini oracle with the SRL-trained tiny model"
"$bin" eval --mode oracle --model local --checkpoint "$out/train-swe/checkpoint-3" --max-tokens 64 --out "$out/eval-oracle-local"

step "eval: math greedy accuracy with the SRL-trained tiny model"
"$bin" eval --mode math --checkpoint "$out/train-swe/checkpoint-3" --max-tokens 64 --limit 5 --out "$out/eval-math"

step "done: outputs in $out/"
