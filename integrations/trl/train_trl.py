"""TRL 1.16 GRPO run on the `srl-swe prepare --format trl` export beside this file, with the
paper's SRL settings (arXiv 2510.25992 App. B: GRPO, 8 rollouts, lr 5e-7, temperature 1.0, KL 0,
batch 512 prompts for SRL / 128 for RLVR) and clip 0.2/0.28. The reward is srl-swe's, served by
`srl-swe serve reward` and called through srl_swe_trl_reward.py (same folder), one batched
request per generation batch.

    srl-swe serve reward &
    accelerate launch train_trl.py --model Qwen/Qwen2.5-7B-Instruct
    accelerate launch train_trl.py --train rlvr_train.jsonl --prompts-per-step 128

TRL has no dynamic sampling (it only logs `frac_reward_zero_std`): groups whose rewards have
(near-)zero variance stay in the batch with zero advantage (docs/engines.md). `--smoke` runs one
step on CPU with a tiny local model (what the engine tests do).
"""

import argparse
import os
import sys

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)

from datasets import load_dataset  # noqa: E402
from trl import GRPOConfig, GRPOTrainer  # noqa: E402

from srl_swe_trl_reward import make_srl_reward  # noqa: E402


def grpo_config(args, world_size):
    rollouts = 8 if not args.smoke else 2
    prompts = args.prompts_per_step
    per_device = max(1, prompts * rollouts // (world_size * args.grad_accum))
    return GRPOConfig(
        output_dir=args.output_dir,
        learning_rate=5e-7,
        lr_scheduler_type="constant",
        warmup_steps=0,
        max_grad_norm=1.0,
        num_generations=rollouts,
        per_device_train_batch_size=per_device,
        gradient_accumulation_steps=args.grad_accum,
        temperature=1.0,
        beta=0.0,
        epsilon=0.2,
        epsilon_high=0.28,
        loss_type="dapo",
        scale_rewards="group",
        max_completion_length=args.max_completion_length,
        num_train_epochs=args.epochs,
        max_steps=args.max_steps,
        bf16=not args.smoke,
        use_cpu=args.smoke,
        report_to="none",
        logging_steps=1,
        save_strategy="no" if args.smoke else "steps",
        use_vllm=args.vllm,
        vllm_mode="colocate" if args.vllm else "server",
    )


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", default="Qwen/Qwen2.5-7B-Instruct")
    p.add_argument("--train", default=os.path.join(here, "train.jsonl"))
    p.add_argument("--reward-url", default=os.environ.get("REWARD_URL", "http://127.0.0.1:8080"))
    p.add_argument("--output-dir", default="out/trl-srl")
    p.add_argument("--prompts-per-step", type=int, default=512)
    p.add_argument("--grad-accum", type=int, default=8)
    p.add_argument("--max-completion-length", type=int, default=4096)
    p.add_argument("--epochs", type=float, default=30.0)
    p.add_argument("--max-steps", type=int, default=-1)
    p.add_argument("--vllm", action="store_true", help="generate with vLLM (colocate)")
    p.add_argument("--smoke", action="store_true", help="one CPU step with tiny sizes")
    args = p.parse_args(argv)
    if args.smoke:
        args.prompts_per_step, args.grad_accum, args.max_completion_length, args.max_steps = 1, 1, 16, 1
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    dataset = load_dataset("json", data_files=args.train, split="train")
    trainer = GRPOTrainer(
        model=args.model,
        reward_funcs=[make_srl_reward(args.reward_url)],
        args=grpo_config(args, world_size),
        train_dataset=dataset,
    )
    result = trainer.train()
    print({"global_step": trainer.state.global_step, "train_loss": result.training_loss})


if __name__ == "__main__":
    main()
