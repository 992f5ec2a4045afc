//! GRPO trainer on tch: rollouts, SRL and RLVR rewards, dynamic sampling, checkpoints, resume, math eval.
