#!/usr/bin/env bash
# OpenRLHF 0.11.2 GRPO run on the `srl-swe prepare --format openrlhf` export beside this file,
# with the paper's SRL settings (arXiv 2510.25992 App. B: GRPO, 8 rollouts, lr 5e-7, temperature
# 1.0, KL 0, batch 512 for SRL / 128 for RLVR) and clip 0.2/0.28, in 0.11's dotted flag names
# (openrlhf/cli/train_ppo_ray.py). The reward is srl-swe's, over OpenRLHF's remote-reward protocol:
#
#   srl-swe serve reward --bind 0.0.0.0:8080 --scores unit &
#   ray start --head --num-gpus 8
#   REWARD_URL=http://HOST:8080/get_reward MODEL=Qwen/Qwen2.5-7B-Instruct bash run_openrlhf.sh
#   PROMPT_DATA=$PWD/rlvr_train.jsonl TRAIN_BATCH=128 bash run_openrlhf.sh
#
# Dynamic sampling: OpenRLHF keeps a group iff LO < mean(scores) < HI; with `--scores unit` the
# SRL reward's [-1, 1] maps to [0, 1]. It cannot express the paper's std > epsilon filter
# (docs/engines.md). SRL_SWE_PRINT_ARGS=1 prints the arguments one per line and exits.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REWARD_URL="${REWARD_URL:-http://127.0.0.1:8080/get_reward}"
MODEL="${MODEL:-Qwen/Qwen2.5-7B-Instruct}"
PROMPT_DATA="${PROMPT_DATA:-$here/train.jsonl}"
EVAL_DATA="${EVAL_DATA:-$here/val.jsonl}"
TRAIN_BATCH="${TRAIN_BATCH:-512}"
NGPUS="${NGPUS:-8}"
args=(
  --model.pretrain "$MODEL"
  --data.prompt_dataset "$PROMPT_DATA"
  --eval.dataset "$EVAL_DATA"
  --data.input_key input
  --data.label_key label
  --data.apply_chat_template
  --reward.remote_url "$REWARD_URL"
  --algo.advantage.estimator group_norm
  --rollout.n_samples_per_prompt 8
  --rollout.batch_size "$TRAIN_BATCH"
  --train.batch_size "$((TRAIN_BATCH * 8))"
  --rollout.temperature 1.0
  --rollout.max_new_tokens "${MAX_RESPONSE_LENGTH:-4096}"
  --data.max_len "${MAX_LEN:-12288}"
  --actor.learning_rate 5e-7
  --actor.eps_clip_low_high 0.2 0.28
  --algo.kl.init_coef 0
  --algo.dynamic_filtering_enable
  --algo.dynamic_filtering_range 0.0 1.0
  --actor.num_gpus_per_node "$NGPUS"
  --vllm.num_engines "${VLLM_ENGINES:-$NGPUS}"
)
if [ "${SRL_SWE_PRINT_ARGS:-0}" = 1 ]; then
  printf '%s\n' "${args[@]}" "$@"
  exit 0
fi
exec python3 -m openrlhf.cli.train_ppo_ray "${args[@]}" "$@"
