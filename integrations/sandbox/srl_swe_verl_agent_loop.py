"""veRL (0.9.1) agent loop over `srl-swe serve sandbox` sessions (docs/agent.md).

veRL's built-in `tool_agent` loop creates and releases a tool around every single call
(`verl/experimental/agent_loop/tool_agent_loop.py`), so it cannot keep a container across a
trajectory. This loop owns one sandbox session per trajectory instead, in `try/finally`:

    create session -> [generate until </function> -> step] * -> evaluate -> delete

Register it with `actor_rollout_ref.rollout.agent.agent_loop_config_path=<yaml>` holding
`- name: srl_swe_sandbox` / `_target_: srl_swe_verl_agent_loop.SrlSweSandboxAgentLoop` (this
folder on PYTHONPATH), and give rows `agent_name: srl_swe_sandbox` and
`extra_info.instance_id`. The server URL is `SRL_SWE_SANDBOX_URL` (default
http://127.0.0.1:8090) or the YAML entry's `url`. Observation tokens are masked (0), the policy's
tokens are trained (1), and the reward (`resolved`, or `f2p-fraction` with `reward: f2p-fraction`)
is returned as `reward_score`, so veRL skips its reward loop for these trajectories.
"""

import asyncio
import json
import os
import urllib.error
import urllib.request
import uuid

from verl.experimental.agent_loop.agent_loop import AgentLoopBase, AgentLoopMetrics, AgentLoopOutput

STOP = "</function>"


def _call(url, method, path, body=None, timeout=600):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url.rstrip("/") + path, data=data, method=method,
                                 headers={"content-type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return json.loads(r.read())
    except urllib.error.HTTPError as e:
        raise RuntimeError(f"{method} {path}: {e.code} {e.read().decode(errors='replace')}") from None


class SrlSweSandboxAgentLoop(AgentLoopBase):
    def __init__(self, *args, url=None, reward="resolved", max_turns=None, **kwargs):
        kwargs.pop("name", None)
        kwargs.pop("tools", None)
        super().__init__(*args, **kwargs)
        self.url = url or os.environ.get("SRL_SWE_SANDBOX_URL", "http://127.0.0.1:8090")
        self.reward = reward
        self.max_turns = max_turns

    async def _api(self, method, path, body=None):
        return await asyncio.to_thread(_call, self.url, method, path, body)

    def _render(self, messages):
        return self.tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False,
                                                  **self.apply_chat_template_kwargs)

    async def run(self, sampling_params, **kwargs):
        extra = kwargs.get("extra_info") or {}
        instance_id = extra["instance_id"]
        created = await self._api("POST", "/v1/sessions", {"instance_id": instance_id})
        sid = created["session_id"]
        try:
            messages = [dict(m) for m in created["messages"]]
            rendered = self._render(messages)
            prompt_ids = self.tokenizer.encode(rendered, add_special_tokens=False)
            response_ids, mask = [], []
            eot = self.tokenizer.convert_tokens_to_ids("<|im_end|>")
            budget = self.rollout_config.response_length
            turns, done = 0, False
            params = dict(sampling_params)
            params["stop"] = [STOP]
            params["include_stop_str_in_output"] = True
            while not done and len(response_ids) < budget:
                out = await self.server_manager.generate(uuid.uuid4().hex, prompt_ids=prompt_ids + response_ids,
                                                         sampling_params=params)
                ids = list(out.token_ids)[: budget - len(response_ids)]
                response_ids += ids
                mask += [1] * len(ids)
                text = self.tokenizer.decode(ids, skip_special_tokens=True)
                turns += 1
                step = await self._api("POST", f"/v1/sessions/{sid}/step", {"action": text})
                done = step["done"] or (self.max_turns is not None and turns >= self.max_turns)
                if done:
                    break
                # The template text between this turn and the next assistant header (masked).
                messages += [{"role": "assistant", "content": text}, {"role": "user", "content": step["observation"]}]
                full = self._render(messages)
                before = rendered + text
                delta = full[len(before):] if full.startswith(before) else (
                    "<|im_end|>\n<|im_start|>user\n" + step["observation"] + "<|im_end|>\n<|im_start|>assistant\n")
                if ids and ids[-1] == eot and delta.startswith("<|im_end|>"):
                    delta = delta[len("<|im_end|>"):]
                obs_ids = self.tokenizer.encode(delta, add_special_tokens=False)
                response_ids += obs_ids
                mask += [0] * len(obs_ids)
                rendered = full
            response_ids, mask = response_ids[:budget], mask[:budget]
            ev = await self._api("POST", f"/v1/sessions/{sid}/evaluate", {"reward": self.reward})
        finally:
            try:
                await self._api("DELETE", f"/v1/sessions/{sid}")
            except Exception:  # the server's idle reaper removes it
                pass
        return AgentLoopOutput(
            prompt_ids=prompt_ids,
            response_ids=response_ids,
            response_mask=mask,
            reward_score=float(ev["reward"]),
            num_turns=2 * turns + 1,
            metrics=AgentLoopMetrics(),
            extra_fields={"resolved": bool(ev["resolved"]), "turns": turns},
        )
