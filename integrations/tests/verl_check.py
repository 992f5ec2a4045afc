"""veRL 0.9.1's own code on srl-swe's export and reward server (run by tests/e2e/serve.rs).

1. Composes veRL's `ppo_trainer` config with the overrides of the exported run_verl.sh and passes
   `verl.utils.config.validate_config`.
2. Loads the exported parquet with `RLHFDataset` and batches it with `collate_fn`.
3. Builds `RewardLoopWorker` (the class veRL's Ray reward actors wrap) with our shim, scores a
   DataProto of tokenized responses on the worker's own event loop, and writes what each sample
   scored to --out (JSONL: the pair and veRL's reward_score / reward_extra_info), so the Rust test
   can compare with `srl-swe reward` on the same pairs.

Usage: verl_check.py --export DIR [--export DIR] --model DIR --url URL --out FILE
"""

import argparse
import json
import os
import subprocess
import sys


def overrides_of(run_file, env):
    out = subprocess.run(["bash", run_file], env={**os.environ, **env, "SRL_SWE_PRINT_OVERRIDES": "1"},
                         check=True, capture_output=True, text=True)
    return [line for line in out.stdout.splitlines() if line]


def responses_for(row):
    """Three responses per row: the expert's action, a variant, and a format error."""
    truth = row["reward_model"]["ground_truth"]
    if row["data_source"] == "rlvr_math":
        return ["<think>so</think>The answer is \\boxed{" + truth + "}.", "<think>hm</think>\\boxed{-12345}", "no think"]
    variant = truth.replace("/testbed", "/testbed/src", 1) if "/testbed" in truth else truth[: max(1, len(truth) // 2)]
    return ["<think>follow the plan</think>\n" + truth, "<think>try</think>" + variant, "I would " + truth]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--export", required=True, action="append", help="repeatable")
    p.add_argument("--model", required=True)
    p.add_argument("--url", required=True)
    p.add_argument("--out", required=True)
    args = p.parse_args()

    import torch
    from hydra import compose, initialize_config_dir
    from omegaconf import OmegaConf, open_dict
    import verl
    from verl import DataProto
    from verl.experimental.reward_loop.reward_loop import RewardLoopWorker
    from verl.utils.config import validate_config
    from verl.utils.dataset.rl_dataset import RLHFDataset, collate_fn
    from transformers import AutoTokenizer

    parquets = [os.path.join(d, f) for d in args.export for f in ("train.parquet", "rlvr_train.parquet")
                if os.path.exists(os.path.join(d, f))]
    env = {"MODEL": args.model, "REWARD_URL": args.url, "TRAIN_FILES": parquets[0],
           "VAL_FILES": parquets[0], "TRAIN_BATCH": "8", "NGPUS": "8"}
    overrides = overrides_of(os.path.join(args.export[0], "run_verl.sh"), env)
    config_dir = os.path.join(os.path.dirname(verl.__file__), "trainer", "config")
    with initialize_config_dir(config_dir=config_dir, version_base=None):
        config = compose(config_name="ppo_trainer", overrides=overrides)
    validate_config(config, use_reference_policy=False, use_critic=False)
    assert config.reward.custom_reward_function.path.endswith("srl_swe_verl_reward.py")
    assert config.reward.custom_reward_function.reward_kwargs.url == args.url
    assert config.actor_rollout_ref.rollout.n == 8 and config.algorithm.adv_estimator == "grpo"

    tokenizer = AutoTokenizer.from_pretrained(args.model)
    rows = []
    for path in parquets:
        dataset = RLHFDataset(data_files=[path], tokenizer=tokenizer, config=config.data)
        items = [dataset[i] for i in range(len(dataset))]
        batch = collate_fn(items)
        assert len(batch["raw_prompt"]) == len(dataset) > 0
        first = items[0]
        assert first["raw_prompt"][0]["role"] == "system", first["raw_prompt"][0]
        assert first["extra_info"]["id"], first["extra_info"]
        rows.extend(items[:3])

    # One DataProto: responses tokenized, right-padded; prompts are not read by the reward path.
    pairs = []
    for row in rows:
        for response in responses_for(row):
            pairs.append((row, response))
    pad = tokenizer.pad_token_id
    eos = tokenizer.convert_tokens_to_ids("<|im_end|>")
    encoded = [tokenizer(r, add_special_tokens=False)["input_ids"] + [eos] for _, r in pairs]
    width = max(len(e) for e in encoded)
    responses = torch.full((len(pairs), width), pad, dtype=torch.long)
    mask = torch.zeros((len(pairs), 4 + width), dtype=torch.long)
    mask[:, :4] = 1
    for i, ids in enumerate(encoded):
        responses[i, : len(ids)] = torch.tensor(ids)
        mask[i, 4 : 4 + len(ids)] = 1
    prompts = torch.full((len(pairs), 4), pad, dtype=torch.long)
    import numpy as np
    data = DataProto.from_dict(
        tensors={"prompts": prompts, "responses": responses, "attention_mask": mask,
                 "input_ids": torch.cat([prompts, responses], dim=1)},
        non_tensors={
            "data_source": np.array([r["data_source"] for r, _ in pairs], dtype=object),
            "reward_model": np.array([dict(r["reward_model"]) for r, _ in pairs], dtype=object),
            "extra_info": np.array([dict(r["extra_info"]) for r, _ in pairs], dtype=object),
            "raw_prompt": np.array([list(r["raw_prompt"]) for r, _ in pairs], dtype=object),
        },
    )
    worker = RewardLoopWorker(config)
    outputs = worker.loop.run_until_complete(worker.compute_score_batch(data))
    with open(args.out, "w") as f:
        for (row, response), out in zip(pairs, outputs):
            record = {"data_source": row["data_source"], "output": response,
                      "expert": row["extra_info"]["expert"], "answer": row["extra_info"]["answer"],
                      "kind": row["extra_info"]["kind"], "reward_score": out["reward_score"],
                      "reward_extra_info": out["reward_extra_info"]}
            f.write(json.dumps(record) + "\n")
    print(f"verl_check: {len(pairs)} samples scored, config valid, {len(rows)} rows loaded")


if __name__ == "__main__":
    sys.exit(main())
