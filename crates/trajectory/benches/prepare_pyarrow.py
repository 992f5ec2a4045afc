#!/usr/bin/env python3
"""What a user would write instead of `srl-swe prepare`: one process, pyarrow + json.

Reads SWE-smith `tool`-split shards (DATA/*.parquet) row group by row group with pyarrow, keeps
resolved rows, parses `messages` with `json.loads`, replays the tool calls into (action,
observation) steps, builds the same step instances as `srl-swe prepare` with its defaults
(system prompt, task, last 2 (action, observation) pairs, observations clipped to 8000 characters
around a marker, canonical `<function=…>` targets, the expert's thought as `target_thought`;
docs/prepare.md), drops exact duplicates, holds out the 30 trajectories with the smallest seeded
hash, and writes train.jsonl / val.jsonl.

Used by prepare_bench.sh as the side-by-side baseline. Usage:
  python prepare_pyarrow.py DATA OUT SYSTEM_PROMPT_FILE
"""

import hashlib
import heapq
import json
import sys
from pathlib import Path

import pyarrow.parquet as pq

SCHEMA = {"bash": ["command"],
          "str_replace_editor": ["command", "path", "file_text", "old_str", "new_str", "insert_line", "view_range"],
          "submit": []}
MAX_OBS = 8000
HISTORY = 2
VAL = 30
SEED = 42


def canonical(name, args):
    out = [f"<function={name}>\n"]
    for key in SCHEMA[name]:
        if key not in args or args[key] is None:
            continue
        v = args[key]
        if isinstance(v, list):
            v = "[" + ", ".join(str(int(x)) for x in v) + "]"
        elif not isinstance(v, str):
            v = str(v)
        out.append(f"<parameter={key}>{v}</parameter>\n")
    out.append("</function>")
    return "".join(out)


def text_of(content):
    if isinstance(content, str):
        return content
    return "".join(b if isinstance(b, str) else b.get("text", "") for b in content or [])


def clip(text):
    if len(text) <= MAX_OBS:
        return text
    head = MAX_OBS // 2
    tail = MAX_OBS - head
    return f"{text[:head]}\n[... {len(text) - head - tail} characters of this observation clipped ...]\n{text[-tail:]}"


def replay(messages):
    task, steps, pending = None, [], None
    for m in messages:
        role = m["role"]
        if role == "system":
            continue
        if role in ("user", "tool"):
            text = text_of(m.get("content"))
            if task is None and not steps:
                task = text
                continue
            if not steps:
                task += "\n\n" + text
                continue
            obs = text[len("OBSERVATION:\n"):] if text.startswith("OBSERVATION:\n") else text
            pending = obs if pending is None else pending + "\n" + obs
        elif role == "assistant":
            if steps and pending is not None:
                steps[-1][1] = pending
                pending = None
            calls = m.get("tool_calls") or []
            if len(calls) != 1:
                return None
            fn = calls[0]["function"]
            thought = m.get("thought")
            if not isinstance(thought, str):
                thought = text_of(m.get("content"))
            steps.append([canonical(fn["name"], json.loads(fn["arguments"] or "{}")), "", thought.strip()])
    if steps and pending is not None:
        steps[-1][1] = pending
    return (task, steps) if task is not None and steps else None


def instances(system, traj_id, source, row, task, steps):
    obs = ["OBSERVATION:\n" + clip(o) for _, o, _ in steps]
    out = []
    for k, (action, _, thought) in enumerate(steps):
        msgs = [{"role": "system", "content": system}, {"role": "user", "content": task}]
        for j in range(max(0, k - HISTORY), k):
            msgs.append({"role": "assistant", "content": steps[j][0]})
            msgs.append({"role": "user", "content": obs[j]})
        inst = {"type": "srl_step", "version": 1, "id": f"{traj_id}#{k}", "kind": "swe", "messages": msgs,
                "target": action, "target_tool": action[len("<function="):action.index(">")]}
        if thought:
            inst["target_thought"] = thought
        inst["provenance"] = {"source": source, "row": row, "trajectory_id": traj_id, "step_index": k,
                              "num_steps": len(steps)}
        out.append(inst)
    return out


def key(inst):
    h = hashlib.sha256()
    for m in inst["messages"]:
        h.update(m["role"].encode())
        h.update(m["content"].encode())
    h.update(b"\xff")
    h.update(inst["target"].encode())
    return h.digest()[:16]


def seeded(traj_id):
    return int.from_bytes(hashlib.sha256(SEED.to_bytes(8, "little") + traj_id.encode()).digest()[:8], "big")


def main():
    data, out, system_file = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])
    system = system_file.read_text()
    out.mkdir(parents=True, exist_ok=True)
    seen, seen_traj, held, n_read, n_train = set(), set(), [], 0, 0
    with open(out / "train.jsonl", "w") as train:
        def write(lines):
            nonlocal n_train
            for line in lines:
                train.write(line)
            n_train += len(lines)

        for path in sorted(data.rglob("*.parquet")):
            source = str(path.relative_to(data))
            f = pq.ParquetFile(path)
            row = 0
            for batch in f.iter_batches(columns=["messages", "instance_id", "resolved", "traj_id"]):
                for rec in batch.to_pylist():
                    n_read += 1
                    r = row
                    row += 1
                    if not rec["resolved"] or rec["traj_id"] in seen_traj:
                        continue
                    seen_traj.add(rec["traj_id"])
                    replayed = replay(json.loads(rec["messages"]))
                    if replayed is None:
                        continue
                    lines = []
                    for inst in instances(system, rec["traj_id"], source, r, *replayed):
                        k = key(inst)
                        if k in seen:
                            continue
                        seen.add(k)
                        lines.append(json.dumps(inst, ensure_ascii=False, separators=(",", ":")) + "\n")
                    if not lines:
                        continue
                    # Streaming hold-out: keep the VAL smallest seeded hashes (max-heap by negation).
                    item = (-seeded(rec["traj_id"]), rec["traj_id"], lines)
                    if len(held) < VAL:
                        heapq.heappush(held, item)
                    elif item[0] > held[0][0]:
                        write(heapq.heapreplace(held, item)[2])
                    else:
                        write(lines)
    with open(out / "val.jsonl", "w") as val:
        for _, _, lines in held:
            val.writelines(lines)
    print(f"pyarrow script: {n_read} trajectories read, {n_train} train instances, {len(seen)} unique instances")


if __name__ == "__main__":
    main()
