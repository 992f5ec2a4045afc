"""OpenRLHF (0.11.2) agent over `srl-swe serve sandbox` sessions (docs/agent.md).

Pass this file as `--train.agent_func_path`; OpenRLHF builds `AgentExecutor()` and its
`MultiTurnAgentExecutor` creates one `AgentInstance` per sample (`openrlhf/utils/agent.py`):
`reset` opens a session for the row's label (`{"instance_id": …}` as JSON, or the bare id), each
`step` sends the policy's turn and returns the observation turn as `environment_feedback`
(masked out of the loss), the final step evaluates the diff (reward `resolved`) and deletes the
session; an exception deletes it too. Server URL: `SRL_SWE_SANDBOX_URL` (default
http://127.0.0.1:8090). Generation should stop at `</function>` (vLLM `stop`).
"""

import asyncio
import json
import os
import urllib.error
import urllib.request

import torch
from openrlhf.utils.agent import AgentInstanceBase, MultiTurnAgentExecutor

URL = os.environ.get("SRL_SWE_SANDBOX_URL", "http://127.0.0.1:8090")
REWARD = os.environ.get("SRL_SWE_SANDBOX_REWARD", "resolved")


def _call(method, path, body=None, timeout=600):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(URL.rstrip("/") + path, data=data, method=method,
                                 headers={"content-type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return json.loads(r.read())
    except urllib.error.HTTPError as e:
        raise RuntimeError(f"{method} {path}: {e.code} {e.read().decode(errors='replace')}") from None


async def _api(method, path, body=None):
    return await asyncio.to_thread(_call, method, path, body)


def _instance_id(label):
    try:
        value = json.loads(label)
    except (TypeError, ValueError):
        return label
    return value["instance_id"] if isinstance(value, dict) else str(value)


class AgentInstance(AgentInstanceBase):
    def __init__(self, *args, **kwargs):
        self.session = None
        self.turns = 0

    async def reset(self, states, **kwargs):
        created = await _api("POST", "/v1/sessions", {"instance_id": _instance_id(states["label"])})
        self.session = created["session_id"]
        return {"observation": states["observation"]}

    async def close(self):
        if self.session is not None:
            sid, self.session = self.session, None
            try:
                await _api("DELETE", f"/v1/sessions/{sid}")
            except Exception:  # the server's idle reaper removes it
                pass

    async def step(self, states, **kwargs):
        try:
            self.turns += 1
            step = await _api("POST", f"/v1/sessions/{self.session}/step", {"action": states["action_text"]})
            reward, extra = 0.0, {"turns": float(self.turns)}
            if step["done"]:
                ev = await _api("POST", f"/v1/sessions/{self.session}/evaluate", {"reward": REWARD})
                reward = float(ev["reward"])
                extra["resolved"] = float(ev["resolved"])
                await self.close()
                feedback = ""
            else:
                end = "" if states["action_text"].endswith("<|im_end|>") else "<|im_end|>"
                feedback = f"{end}\n<|im_start|>user\n{step['observation']}<|im_end|>\n<|im_start|>assistant\n"
            return {"rewards": torch.tensor(reward), "scores": torch.tensor(reward),
                    "environment_feedback": feedback, "done": step["done"], "extra_logs": extra}
        except BaseException:
            await self.close()
            raise


class AgentExecutor(MultiTurnAgentExecutor):
    def __init__(self):
        super().__init__(AgentInstance)
