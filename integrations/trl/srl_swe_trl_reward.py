"""srl-swe reward for TRL's GRPOTrainer (trl 1.16): one batched POST /score per generation batch.

TRL calls each reward function once per batch as f(prompts=..., completions=...,
completion_ids=..., **columns) where `columns` holds every other dataset column as a list aligned
with the completions (trl/trainer/grpo_trainer.py, `_calculate_rewards`). The datasets that
`srl-swe prepare --format trl` writes carry `expert`, `kind` and `answer` columns, so:

    from srl_swe_trl_reward import make_srl_reward
    trainer = GRPOTrainer(model=..., reward_funcs=[make_srl_reward("http://127.0.0.1:8080")], ...)

A conversational completion is [{"role": "assistant", "content": text}]; when TRL has split a
`<think>` block into `reasoning_content`, it is joined back so the format check sees the whole
output. The server's `error` items score -1, as in srl-swe's own trainer; if the server stays
unreachable after the retries, the batch raises (TRL has no per-item fallback worth hiding a
dead server behind). Protocol and limits: docs/engines.md.
"""

import json
import time
import urllib.error
import urllib.request

DEFAULT_URL = "http://127.0.0.1:8080"


def completion_text(completion):
    """The text of one TRL completion (a string, or a list of chat messages)."""
    if isinstance(completion, str):
        return completion
    parts = []
    for message in completion:
        reasoning = message.get("reasoning_content")
        if reasoning:
            parts.append("<think>" + reasoning + "</think>")
        parts.append(message.get("content") or "")
    return "".join(parts)


def score_batch(url, items, timeout=120.0, retries=3):
    """POSTs {"items": items} to {url}/score and returns the results list."""
    payload = json.dumps({"items": items}).encode()
    last = None
    for attempt in range(retries):
        request = urllib.request.Request(url.rstrip("/") + "/score", data=payload,
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return json.loads(response.read())["results"]
        except (urllib.error.URLError, OSError, ValueError, KeyError) as error:
            last = error
            time.sleep(min(2.0 ** attempt * 0.5, 5.0))
    raise RuntimeError(f"srl-swe serve reward at {url} did not answer after {retries} tries: {last}")


def make_srl_reward(url=DEFAULT_URL, timeout=120.0, retries=3):
    """A TRL reward function scoring completions against the `expert`/`answer` columns."""

    def srl_reward(prompts, completions, completion_ids=None, expert=None, kind=None, answer=None, **kwargs):
        n = len(completions)
        expert = expert if expert is not None else [None] * n
        kind = kind if kind is not None else ["swe"] * n
        answer = answer if answer is not None else [None] * n
        items = [
            {"response": completion_text(c), "kind": k, "expert": e, "answer": a}
            for c, k, e, a in zip(completions, kind, expert, answer)
        ]
        results = score_batch(url, items, timeout=timeout, retries=retries)
        log_metric = kwargs.get("log_metric")
        if callable(log_metric) and results:
            log_metric("srl/format_ok", sum(r["format_ok"] for r in results) / len(results))
            log_metric("srl/error", sum(r["error"] for r in results) / len(results))
        return [float(r["score"]) for r in results]

    srl_reward.__name__ = "srl_reward"
    return srl_reward
