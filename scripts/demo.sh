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
# The response budget of the SRL stage (configs/demo-swe.toml, rollout.max-new-tokens).
srl_tokens=64

step "eval: held-out greedy SRL reward of the untrained tiny model (before)"
"$bin" eval --mode srl --checkpoint "$out/models/tiny" --instances "$out/prepare-swe/val.jsonl" \
  --max-tokens "$srl_tokens" --out "$out/eval-srl-before" >/dev/null

step "train: SFT warm start, then GRPO with the SRL reward, on the prepared SWE step instances (configs/demo-swe.toml)"
rm -rf "$out/train-swe"
"$bin" train --config configs/demo-swe.toml \
  --set "output-dir=$out/train-swe" --set "model.path=$out/models/tiny" \
  --set "stages.0.data=$out/prepare-swe/train.jsonl" --set "stages.0.val-data=$out/prepare-swe/val.jsonl" \
  --set "stages.1.data=$out/prepare-swe/train.jsonl" --set "stages.1.val-data=$out/prepare-swe/val.jsonl" \
  >"$out/train-swe.json"
ckpt="$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["last_checkpoint"])' "$out/train-swe.json")"

step "eval: held-out greedy SRL reward of the trained checkpoint (after)"
"$bin" eval --mode srl --checkpoint "$ckpt" --instances "$out/prepare-swe/val.jsonl" \
  --max-tokens "$srl_tokens" --out "$out/eval-srl-after" >/dev/null
python3 - "$out" <<'PY' >&2
import json, sys
out = sys.argv[1]
b = json.load(open(f"{out}/eval-srl-before/report.json"))
a = json.load(open(f"{out}/eval-srl-after/report.json"))
recs = [json.loads(l) for l in open(f"{out}/train-swe/metrics.jsonl")]
srl = [r["reward_mean"] for r in recs if r.get("kind") == "grpo"]
sft = [r["loss"] for r in recs if r.get("kind") == "sft"]
print(f"held-out SRL reward ({a['instances']} val instances, greedy): {b['mean_reward']:+.3f} -> {a['mean_reward']:+.3f}")
print(f"held-out format-error rate:                        {b['format_error_rate']:.0%} -> {a['format_error_rate']:.0%}")
if sft:
    print(f"SFT loss: {sft[0]:.3f} -> {sft[-1]:.3f} over {len(sft)} steps")
if srl:
    h = max(1, len(srl) // 3)
    print(f"SRL stage training reward (mean of first/last {h} steps): {sum(srl[:h])/h:+.3f} -> {sum(srl[-h:])/h:+.3f}")
print(f"curves: {out}/train-swe/curves.png")
PY

step "train: the toy step-wise task, where the tiny model learns within minutes (configs/demo.toml)"
"$bin" train --config configs/demo.toml --set "output-dir=$out/train-toy"

step "eval: Agentless-mini oracle with the gold patches (validates the environments: 100% expected)"
"$bin" eval --mode oracle --model gold --out "$out/eval-oracle-gold"

step "eval: Agentless-mini oracle with the SRL-trained tiny model"
"$bin" eval --mode oracle --model local --checkpoint "$ckpt" --max-tokens 64 --out "$out/eval-oracle-local"

step "eval: math greedy accuracy with the SRL-trained tiny model"
"$bin" eval --mode math --checkpoint "$ckpt" --max-tokens 64 --limit 5 --out "$out/eval-math"

step "done: outputs in $out/"
