"""TRL (1.16) `environment_factory` over `srl-swe serve sandbox` sessions (docs/agent.md).

`GRPOTrainer(..., environment_factory=SrlSweSandboxEnv)` builds one instance per rollout:
`reset(**row)` opens a session for the row's `instance_id` and returns the task text; the public
methods `bash`, `str_replace_editor` and `submit` are the tools (each sends the canonical action
to the session and returns the observation); `get_reward()` grades the final diff (reward
`resolved`) and deletes the session. Server URL: `SRL_SWE_SANDBOX_URL` (default
http://127.0.0.1:8090).
"""

import json
import os
import urllib.error
import urllib.request

URL = os.environ.get("SRL_SWE_SANDBOX_URL", "http://127.0.0.1:8090")


def _call(method, path, body=None, timeout=600):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(URL.rstrip("/") + path, data=data, method=method,
                                 headers={"content-type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return json.loads(r.read())
    except urllib.error.HTTPError as e:
        raise RuntimeError(f"{method} {path}: {e.code} {e.read().decode(errors='replace')}") from None


def _action(tool, **params):
    lines = [f"<function={tool}>"]
    lines += [f"<parameter={k}>{v}</parameter>" for k, v in params.items() if v is not None]
    lines.append("</function>")
    return "\n".join(lines)


class SrlSweSandboxEnv:
    def __init__(self):
        self.session = None
        self.done = False

    def reset(self, instance_id=None, **row):
        self.close()
        created = _call("POST", "/v1/sessions", {"instance_id": instance_id})
        self.session, self.done = created["session_id"], False
        return created["observation"]

    def _step(self, text):
        if self.done:
            return "The episode is over."
        out = _call("POST", f"/v1/sessions/{self.session}/step", {"action": text})
        self.done = out["done"]
        return out["observation"]

    def bash(self, command: str) -> str:
        """Runs a command in bash in the repository (/testbed).

        Args:
            command: The bash command to run.
        """
        return self._step(_action("bash", command=command))

    def str_replace_editor(self, command: str, path: str, file_text: str = None, old_str: str = None,
                           new_str: str = None, insert_line: int = None) -> str:
        """Views, creates and edits files (view, create, str_replace, insert, undo_edit).

        Args:
            command: One of view, create, str_replace, insert, undo_edit.
            path: Absolute path of the file or folder.
            file_text: Content of a created file.
            old_str: Text to replace (must occur once).
            new_str: Replacement or inserted text.
            insert_line: Line after which to insert.
        """
        return self._step(_action("str_replace_editor", command=command, path=path, file_text=file_text,
                                  old_str=old_str, new_str=new_str, insert_line=insert_line))

    def submit(self) -> str:
        """Submits the current changes of the repository as the solution."""
        return self._step(_action("submit"))

    def get_reward(self) -> float:
        try:
            ev = _call("POST", f"/v1/sessions/{self.session}/evaluate", {"reward": "resolved"})
            return float(ev["reward"])
        finally:
            self.close()

    def close(self):
        if self.session is not None:
            sid, self.session = self.session, None
            try:
                _call("DELETE", f"/v1/sessions/{sid}")
            except Exception:  # the server's idle reaper removes it
                pass
