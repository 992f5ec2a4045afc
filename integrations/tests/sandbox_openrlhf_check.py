"""OpenRLHF 0.11.2's own `MultiTurnAgentExecutor` driving srl-swe's sandbox agent
(`integrations/sandbox/srl_swe_openrlhf_agent.py`) against a real `srl-swe serve sandbox`
(run by crates/serve/tests/sandbox_server.rs). A stand-in engine plays the turns (vLLM is not
installable on CPU): an expert trajectory's turns (must resolve, reward 1) and an immediate submit
(reward 0). Checks that the policy's turns are exactly the executor's action ranges (everything
else, the observations, is masked out of the loss) and that every session is deleted.

Usage: sandbox_openrlhf_check.py --url URL --instance ID --spec EXPERT.json --out FILE
"""

import argparse
import asyncio
import importlib.util
import json
import os
import sys
import urllib.request

import torch


class ByteTokenizer:
    """The two calls MultiTurnAgentExecutor makes of a Hugging Face tokenizer, on UTF-8 bytes."""

    def __call__(self, text, add_special_tokens=False, return_tensors=None):
        return {"input_ids": torch.tensor([list(text.encode())])}

    def decode(self, ids, skip_special_tokens=False):
        return bytes(ids).decode(errors="replace")


class SamplingParams:
    def __init__(self, max_tokens=None):
        self.max_tokens = max_tokens
        self.logprobs = None


class ScriptedEngine:
    """Answers each generate call with the next scripted turn, as vLLM's async engine would."""

    def __init__(self, turns):
        self.turns = list(turns)

    async def generate(self, prompt_token_ids, sampling_params, multi_modal_data=None):
        text = self.turns.pop(0) if self.turns else "<function=submit>\n</function>"

        class Completion:
            pass

        c = Completion()
        c.token_ids, c.text, c.finish_reason, c.logprobs = list(text.encode()), text, "stop", None

        class Output:
            outputs = [c]

        return Output()


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--url", required=True)
    p.add_argument("--instance", required=True)
    p.add_argument("--spec", required=True)
    p.add_argument("--out", required=True)
    args = p.parse_args()
    os.environ["SRL_SWE_SANDBOX_URL"] = args.url
    here = os.path.dirname(os.path.abspath(__file__))
    path = os.path.join(here, "..", "sandbox", "srl_swe_openrlhf_agent.py")
    spec = importlib.util.spec_from_file_location("srl_swe_openrlhf_agent", path)
    agent = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(agent)

    with open(args.spec) as f:
        expert = json.load(f)
    actions = []
    for s in expert["steps"]:
        params = "".join(f"\n<parameter={k}>{v if not isinstance(v, list) else '[' + ', '.join(map(str, v)) + ']'}</parameter>"
                         for k, v in s["args"].items())
        actions.append(f"<function={s['tool']}>{params}\n</function>")
    tok = ByteTokenizer()
    label = json.dumps({"instance_id": args.instance})
    prompt = "<|im_start|>user\ntask<|im_end|>\n<|im_start|>assistant\n"
    results = {}

    async def run(name, turns):
        executor = agent.AgentExecutor()
        out = await executor.execute(prompt, label, SamplingParams(max_tokens=4096), 10**7, tok, ScriptedEngine(turns))
        tokens = out["observation_tokens"]
        spans = [bytes(tokens[a:b]).decode() for a, b in out["action_ranges"]]
        expected = turns + ["<function=submit>\n</function>"] * (len(spans) - len(turns))
        assert spans == expected[: len(spans)], (spans[:2], expected[:2])
        masked = sum(b - a for a, b in out["action_ranges"])
        results[name] = {"reward": out["reward"], "turns": len(spans), "trained_tokens": masked,
                         "masked_tokens": len(tokens) - masked - len(prompt.encode()),
                         "extra_logs": out["extra_logs"]}

    asyncio.run(run("expert", actions))
    asyncio.run(run("submit", []))
    with urllib.request.urlopen(args.url.rstrip("/") + "/v1/sessions") as r:
        results["active_after"] = json.loads(r.read())["active"]
    with open(args.out, "w") as f:
        json.dump(results, f)
    print("sandbox_openrlhf_check:", json.dumps(results))


if __name__ == "__main__":
    sys.exit(main())
