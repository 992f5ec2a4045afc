"""TRL side of the `update_vs_trl` bench (crates/train/benches/update_vs_trl.rs): one GRPO
optimizer step of TRL's own `GRPOTrainer` (trl/trainer/grpo_trainer.py) on the same checkpoint and
the same batch as srl-train's `grpo_update`. Generation is taken out of the timing the same way
on both sides: `_generate_and_score_completions` is replaced by the fixed rollout batch (token
ids, masks, advantages), so what a step times is TRL's `training_step` per micro-batch (forward
with its fused LM head, clipped token-level loss, backward) plus the Trainer's grad clip and AdamW
step. Run by the Rust bench with the TRL venv (scripts/venvs/engines.sh); usage:
    python trl_update.py SPEC.json
SPEC: {"dir", "threads", "steps", "micro", "group", "prompt_ids", "completion_ids", "advantages",
       "lr", "clip_low", "clip_high"}. Prints one JSON line: {"step_s": [...], "trl": version}.
"""
import json
import os
import sys
import tempfile
import time

import torch

spec = json.load(open(sys.argv[1]))
torch.set_num_threads(spec["threads"])
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

import trl  # noqa: E402
from datasets import Dataset  # noqa: E402
from transformers import AutoTokenizer, Qwen2ForCausalLM, TrainerCallback  # noqa: E402
from trl import GRPOConfig, GRPOTrainer  # noqa: E402

prompt = torch.tensor(spec["prompt_ids"], dtype=torch.long)
completion = torch.tensor(spec["completion_ids"], dtype=torch.long)
adv = torch.tensor(spec["advantages"], dtype=torch.float32)
n, g, micro = prompt.shape[0], spec["group"], spec["micro"]
fixed = {
    "prompt_ids": prompt,
    "prompt_mask": torch.ones_like(prompt),
    "completion_ids": completion,
    "completion_mask": torch.ones_like(completion),
    "advantages": adv,
    "num_items_in_batch": torch.tensor(float(completion.numel())),
}

model = Qwen2ForCausalLM.from_pretrained(spec["dir"], dtype=torch.float32)
tok = AutoTokenizer.from_pretrained(spec["dir"])
out_dir = tempfile.mkdtemp(prefix="trl-bench-")
args = GRPOConfig(
    output_dir=out_dir,
    per_device_train_batch_size=micro,
    gradient_accumulation_steps=n // micro,
    num_generations=g,
    max_completion_length=completion.shape[1],
    learning_rate=spec["lr"],
    weight_decay=0.0,
    max_grad_norm=1.0,
    lr_scheduler_type="constant",
    warmup_steps=0,
    beta=0.0,
    epsilon=spec["clip_low"],
    epsilon_high=spec["clip_high"],
    loss_type="dapo",  # token-mean over the whole batch, like srl-train's default `token-mean`
    max_steps=spec["steps"] + 1,
    use_cpu=True,
    bf16=False,
    report_to=[],
    logging_steps=1000,
    save_strategy="no",
    disable_tqdm=True,
    seed=0,
    dataloader_num_workers=0,
)
train = Dataset.from_dict({"prompt": ["x"] * (n * (spec["steps"] + 2))})
trainer = GRPOTrainer(
    model=model,
    reward_funcs=lambda completions, **kw: [0.0] * len(completions),
    args=args,
    train_dataset=train,
    processing_class=tok,
)
trainer._generate_and_score_completions = lambda batch: {k: v.clone() for k, v in fixed.items()}


class Timer(TrainerCallback):
    def __init__(self):
        self.t = None
        self.steps = []

    def on_step_begin(self, args, state, control, **kw):
        self.t = time.perf_counter()

    def on_step_end(self, args, state, control, **kw):
        self.steps.append(time.perf_counter() - self.t)


timer = Timer()
trainer.add_callback(timer)
trainer.train()
# The first step builds the optimizer state and warms up the allocator: not timed.
print(json.dumps({"step_s": timer.steps[1:], "trl": trl.__version__, "torch": torch.__version__}))
