"""srl-swe reward for veRL 0.9.x: a custom reward function that asks `srl-swe serve reward`.

veRL calls `compute_score` once per sample from its reward-loop workers
(verl/experimental/reward_loop/reward_manager/naive.py, `run_single`), with keywords
`data_source`, `solution_str` (the response decoded with skip_special_tokens=True),
`ground_truth` (= reward_model.ground_truth: the expert action, or the reference answer for RLVR
rows) and `extra_info`, plus `reward_kwargs` from the config:

    reward.custom_reward_function.path=srl_swe_verl_reward.py
    reward.custom_reward_function.name=compute_score
    +reward.custom_reward_function.reward_kwargs.url=http://127.0.0.1:8080
    reward.reward_manager.name=naive

It always returns the same four keys, with numbers, on every path (veRL assembles the batch from
the first sample's keys and raises KeyError on a difference): a server that stays unreachable
after the retries scores -1 with error=1, as the server itself does for an item it cannot score.
`compute_score_sync` is the same for the `remote` manager, which rejects coroutines.
Protocol and limits: docs/engines.md.
"""

import asyncio
import json
import time
import urllib.error
import urllib.request

DEFAULT_URL = "http://127.0.0.1:8080"
KEYS = ("score", "format_ok", "srl_ratio", "error")
FAILED = {"score": -1.0, "format_ok": 0.0, "srl_ratio": 0.0, "error": 1.0}
# data_source of `srl-swe prepare --format verl` rows -> item kind of POST /score.
KIND_OF_SOURCE = {"srl_swe": "swe", "srl_math": "math", "rlvr_math": "rlvr", "rlvr_swe": "rlvr"}


def _item(data_source, solution_str, ground_truth, extra_info):
    extra_info = extra_info or {}
    kind = KIND_OF_SOURCE.get(data_source) or extra_info.get("kind") or "swe"
    if kind == "rlvr":
        return {"response": solution_str, "kind": "rlvr", "answer": ground_truth, "expert": None}
    return {"response": solution_str, "kind": kind, "expert": ground_truth, "answer": extra_info.get("answer")}


def _result(body):
    result = json.loads(body)["results"][0]
    return {k: float(result[k]) for k in KEYS}


async def compute_score(data_source, solution_str, ground_truth, extra_info=None, url=DEFAULT_URL,
                        timeout=30.0, retries=3, **kwargs):
    """Scores one sample through POST {url}/score; see the module docs."""
    import aiohttp  # veRL depends on aiohttp; imported here so the sync path does not need it

    payload = {"items": [_item(data_source, solution_str, ground_truth, extra_info)]}
    for attempt in range(retries):
        try:
            client_timeout = aiohttp.ClientTimeout(total=timeout)
            async with aiohttp.ClientSession(timeout=client_timeout) as session:
                async with session.post(url.rstrip("/") + "/score", json=payload) as response:
                    if response.status == 200:
                        return _result(await response.read())
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError, KeyError):
            pass
        await asyncio.sleep(min(2.0 ** attempt * 0.5, 5.0))
    return dict(FAILED)


def compute_score_sync(data_source, solution_str, ground_truth, extra_info=None, url=DEFAULT_URL,
                       timeout=30.0, retries=3, **kwargs):
    """`compute_score` without asyncio (for veRL's `remote` reward manager)."""
    payload = json.dumps({"items": [_item(data_source, solution_str, ground_truth, extra_info)]}).encode()
    for attempt in range(retries):
        request = urllib.request.Request(url.rstrip("/") + "/score", data=payload,
                                         headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return _result(response.read())
        except (urllib.error.URLError, OSError, ValueError, KeyError):
            time.sleep(min(2.0 ** attempt * 0.5, 5.0))
    return dict(FAILED)
