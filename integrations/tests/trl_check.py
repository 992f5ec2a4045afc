"""One TRL 1.16 GRPOTrainer step on CPU on srl-swe's export, scored by `srl-swe serve reward`
through integrations/trl/srl_swe_trl_reward.py (run by tests/e2e/serve.rs).

The model is the tiny random-weight Qwen2 that `srl-swe model init --preset tiny` writes; the
dataset is the exported train.jsonl read with `datasets`. The reward function is wrapped to record
what TRL passed it and what it returned (--out, JSONL), so the Rust test can compare with
`srl-swe reward` on the same pairs.

Usage: trl_check.py --export DIR --model DIR --url URL --out FILE
"""

import argparse
import json
import os
import sys


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--export", required=True)
    p.add_argument("--model", required=True)
    p.add_argument("--url", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--workdir", required=True)
    args = p.parse_args()
    sys.path.insert(0, args.export)

    from datasets import load_dataset
    from trl import GRPOConfig, GRPOTrainer
    import train_trl
    from srl_swe_trl_reward import completion_text, make_srl_reward

    dataset = load_dataset("json", data_files=os.path.join(args.export, "train.jsonl"), split="train")
    assert {"prompt", "expert", "kind", "answer", "id"} <= set(dataset.column_names), dataset.column_names
    dataset = dataset.select(range(2))
    reward = make_srl_reward(args.url)
    calls = []

    def srl_reward(prompts, completions, completion_ids=None, **kwargs):
        scores = reward(prompts, completions, completion_ids, **kwargs)
        for c, e, k, a, s in zip(completions, kwargs["expert"], kwargs["kind"], kwargs["answer"], scores):
            calls.append({"output": completion_text(c), "expert": e, "kind": k, "answer": a, "score": s})
        return scores

    srl_reward.__name__ = "srl_reward"
    # The shipped script's GRPOConfig with --smoke sizes: the paper's settings at 1 prompt x 2 rollouts.
    run_args = argparse.Namespace(
        smoke=True, prompts_per_step=1, grad_accum=1, max_completion_length=16, epochs=1.0, max_steps=1,
        output_dir=os.path.join(args.workdir, "trl-out"), vllm=False)
    config = train_trl.grpo_config(run_args, world_size=1)
    assert (config.learning_rate, config.beta, config.epsilon, config.epsilon_high) == (5e-7, 0.0, 0.2, 0.28)
    trainer = GRPOTrainer(model=args.model, reward_funcs=[srl_reward], args=config, train_dataset=dataset)
    trainer.train()
    assert trainer.state.global_step == 1, trainer.state.global_step
    assert calls, "the reward function was not called"
    with open(args.out, "w") as f:
        for c in calls:
            f.write(json.dumps(c) + "\n")
    print(f"trl_check: 1 GRPO step, {len(calls)} completions scored")


if __name__ == "__main__":
    sys.exit(main())
