"""OpenRLHF 0.11.2's own code on srl-swe's export and reward server (run by tests/e2e/serve.rs).

1. `openrlhf.datasets.prompts_dataset.preprocess_data` on every exported row, with the model's chat
   template as OpenRLHF applies it (`--data.input_key input --data.label_key label
   --data.apply_chat_template`); the rendered prompt must equal the export's `input_text`.
2. `openrlhf.utils.agent.SingleTurnAgentExecutor([url]).execute(...)` per sample, against
   `srl-swe serve reward`'s POST /get_reward, with a stand-in engine that returns fixed token ids
   (vLLM is not installable on CPU); the executor tokenizes, decodes prompt + response with special
   tokens and posts as in training. Writes the pair and OpenRLHF's reward/scores/extra_logs to --out.

Usage: openrlhf_check.py --export DIR [--export DIR] --model DIR --url URL --out FILE
"""

import argparse
import asyncio
import json
import os
import sys


class SamplingParams:
    """The two fields SingleTurnAgentExecutor reads from vLLM's SamplingParams."""

    def __init__(self, max_tokens=None):
        self.max_tokens = max_tokens
        self.logprobs = None


class Completion:
    def __init__(self, token_ids):
        self.token_ids = token_ids
        self.finish_reason = "stop"
        self.logprobs = None


class FixedEngine:
    """Returns the queued responses' token ids, as vLLM's async engine would."""

    def __init__(self, tokenizer):
        self.tokenizer = tokenizer
        self.next_ids = None

    async def generate(self, prompt_token_ids, sampling_params, multi_modal_data=None):
        class Output:
            pass

        out = Output()
        out.outputs = [Completion(self.next_ids)]
        return out


def responses_for(label):
    if label["kind"] == "rlvr":
        return ["<think>so</think>The answer is \\boxed{" + label["answer"] + "}.", "no think"]
    expert = label["expert"]
    return ["<think>plan</think>\n" + expert, "<think>try</think>" + expert[: max(1, len(expert) // 2)], "oops " + expert]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--export", required=True, action="append", help="repeatable")
    p.add_argument("--model", required=True)
    p.add_argument("--url", required=True)
    p.add_argument("--out", required=True)
    args = p.parse_args()

    from openrlhf.datasets.prompts_dataset import preprocess_data
    from openrlhf.utils.agent import SingleTurnAgentExecutor
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(args.model)
    samples = []
    for path in [os.path.join(d, n) for d in args.export for n in ("train.jsonl", "rlvr_train.jsonl")]:
        if not os.path.exists(path):
            continue
        with open(path) as f:
            rows = [json.loads(line) for line in f if line.strip()]
        assert rows, path
        for row in rows:
            prompt, label = preprocess_data(row, input_key="input", label_key="label",
                                            apply_chat_template=tokenizer.apply_chat_template)
            assert prompt == row["input_text"], (prompt[-200:], row["input_text"][-200:])
            assert json.loads(label)["id"] == row["id"]
            samples.append((prompt, label))
    assert samples

    # --reward.remote_url takes the full endpoint URL (openrlhf/cli/serve_rm.py serves /get_reward).
    executor = SingleTurnAgentExecutor(args.url.rstrip("/") + "/get_reward")
    engine = FixedEngine(tokenizer)
    eos = tokenizer.convert_tokens_to_ids("<|im_end|>")
    records = []

    async def run():
        for prompt, label in samples[:4] + samples[-2:]:
            for response in responses_for(json.loads(label)):
                engine.next_ids = tokenizer(response, add_special_tokens=False)["input_ids"] + [eos]
                out = await executor.execute(prompt, label, SamplingParams(max_tokens=4096), 16384, tokenizer, engine)
                assert out["reward"] is not None, "no reward came back"
                records.append({"output": response, "label": json.loads(label), "reward": out["reward"],
                                "scores": out["scores"], "extra_logs": out["extra_logs"]})

    asyncio.run(run())
    with open(args.out, "w") as f:
        for r in records:
            f.write(json.dumps(r) + "\n")
    print(f"openrlhf_check: {len(samples)} rows preprocessed, {len(records)} samples scored")


if __name__ == "__main__":
    sys.exit(main())
