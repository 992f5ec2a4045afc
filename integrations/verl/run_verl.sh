#!/usr/bin/env bash
# veRL 0.9.1 GRPO run on the `srl-swe prepare --format verl` export beside this file, with the
# paper's SRL settings (arXiv 2510.25992 App. B: GRPO, 8 rollouts, lr 5e-7, temperature 1.0, KL 0,
# batch 512 for SRL / 128 for RLVR) and DAPO's clip 0.2/0.28. The reward is srl-swe's, served by
# `srl-swe serve reward` and called through srl_swe_verl_reward.py (same folder).
#
#   srl-swe serve reward --bind 0.0.0.0:8080 &           # on a CPU node the GPU nodes reach
#   REWARD_URL=http://HOST:8080 MODEL=Qwen/Qwen2.5-7B-Instruct bash run_verl.sh
#   TRAIN_FILES=$PWD/rlvr_train.parquet VAL_FILES=$PWD/rlvr_val.parquet TRAIN_BATCH=128 bash run_verl.sh
#
# Extra Hydra overrides go after the script name. SRL_SWE_PRINT_OVERRIDES=1 prints the overrides
# one per line and exits (the engine tests compose them with veRL's own config code).
# Dynamic sampling: veRL's filter_groups drops a group only when its rewards have std exactly 0;
# the paper's std > epsilon with epsilon > 0 needs a custom sampler (docs/engines.md).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REWARD_URL="${REWARD_URL:-http://127.0.0.1:8080}"
MODEL="${MODEL:-Qwen/Qwen2.5-7B-Instruct}"
TRAIN_FILES="${TRAIN_FILES:-$here/train.parquet}"
VAL_FILES="${VAL_FILES:-$here/val.parquet}"
TRAIN_BATCH="${TRAIN_BATCH:-512}"
MINI_BATCH="${MINI_BATCH:-$TRAIN_BATCH}"
NGPUS="${NGPUS:-8}"
NNODES="${NNODES:-1}"
overrides=(
  algorithm.adv_estimator=grpo
  algorithm.use_kl_in_reward=False
  algorithm.filter_groups.enable=True
  algorithm.filter_groups.metric=reward
  data.train_files="$TRAIN_FILES"
  data.val_files="$VAL_FILES"
  data.prompt_key=prompt
  data.train_batch_size="$TRAIN_BATCH"
  data.max_prompt_length="${MAX_PROMPT_LENGTH:-8192}"
  data.max_response_length="${MAX_RESPONSE_LENGTH:-4096}"
  data.filter_overlong_prompts=True
  data.truncation=error
  actor_rollout_ref.model.path="$MODEL"
  actor_rollout_ref.actor.optim.lr=5e-7
  actor_rollout_ref.actor.optim.lr_warmup_steps_ratio=0.0
  actor_rollout_ref.actor.grad_clip=1.0
  actor_rollout_ref.actor.ppo_mini_batch_size="$MINI_BATCH"
  actor_rollout_ref.actor.ppo_micro_batch_size_per_gpu="${MICRO_BATCH:-2}"
  actor_rollout_ref.actor.clip_ratio_low=0.2
  actor_rollout_ref.actor.clip_ratio_high=0.28
  actor_rollout_ref.actor.use_kl_loss=False
  actor_rollout_ref.actor.kl_loss_coef=0.0
  actor_rollout_ref.actor.entropy_coeff=0
  actor_rollout_ref.actor.loss_agg_mode=token-mean
  actor_rollout_ref.rollout.name=vllm
  actor_rollout_ref.rollout.n=8
  actor_rollout_ref.rollout.temperature=1.0
  actor_rollout_ref.rollout.tensor_model_parallel_size="${TP:-1}"
  actor_rollout_ref.rollout.gpu_memory_utilization=0.6
  actor_rollout_ref.rollout.log_prob_micro_batch_size_per_gpu="${MICRO_BATCH:-2}"
  actor_rollout_ref.ref.log_prob_micro_batch_size_per_gpu="${MICRO_BATCH:-2}"
  reward.reward_manager.name=naive
  reward.custom_reward_function.path="$here/srl_swe_verl_reward.py"
  reward.custom_reward_function.name=compute_score
  +reward.custom_reward_function.reward_kwargs.url="$REWARD_URL"
  trainer.n_gpus_per_node="$NGPUS"
  trainer.nnodes="$NNODES"
  trainer.project_name=srl-swe
  trainer.experiment_name="${EXPERIMENT:-srl}"
  trainer.logger=console
)
if [ "${SRL_SWE_PRINT_OVERRIDES:-0}" = 1 ]; then
  printf '%s\n' "${overrides[@]}" "$@"
  exit 0
fi
exec python3 -m verl.trainer.main_ppo "${overrides[@]}" "$@"
