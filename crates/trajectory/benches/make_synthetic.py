#!/usr/bin/env python3
"""Synthetic SWE-smith `tool`-split shards of the real size, for the prepare benchmark.

Writes OUT/data/tool-0000K-of-00008.parquet (K = 0..7) with the six SWE-smith columns
(docs/prepare.md; SWE-bench/SWE-smith `swesmith/train/traj_mgr/collect_trajs.py`): 24,015
trajectories, about 1 GB of parquet in all, shaped like SWE-smith's real SWE-agent 1.0.1 runs
(the three `.traj` files of SWE-smith's `tests/test_logs/trajectories/`):

- calls per run: normal around 27 (sd 12), 3..75 (SWE-smith's generation config caps a run at 75);
- observations: log-normal, median ~900 characters, p90 ~3.5k, capped at 20k (SWE-agent's own
  truncation), empty outputs get SWE-agent's "Your command ran successfully…" message;
- task (PR description in SWE-agent's instance template): 2k..8k characters;
- thoughts: log-normal, median ~70 characters; edits carry old/new strings of ~200 characters;
- ~half of the runs resolved, several models;
- row groups of 100 rows (several MB each, as `datasets.push_to_hub` writes them).

Text is cut from a 16 MB pool of Zipf-distributed random words and code-like separators, so it
compresses like real logs and code (~73 kB of text, ~42 kB of snappy parquet per row: 1.0 GB for
the split, as the real one; 2.8 GB of instances out). Deterministic (seeded). Re-uses OUT when its marker file says the same
settings.

Usage: python make_synthetic.py OUT [--rows 24015] [--shards 8] [--row-group 100]
"""

import argparse
import json
import math
import random
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

VERSION = "5"
SCHEMA = pa.schema([("messages", pa.string()), ("instance_id", pa.string()), ("resolved", pa.bool_()),
                    ("model", pa.string()), ("traj_id", pa.string()), ("patch", pa.string())])
MODELS = ["claude-3-7-sonnet-20250219"] * 3 + ["claude-3-5-sonnet-20241022", "gpt-4o-2024-08-06"]
EMPTY = "Your command ran successfully and did not produce any output."
INSTANCE = ("<uploaded_files>\n/testbed\n</uploaded_files>\nI've uploaded a python code repository in the "
            "directory /testbed. Consider the following PR description:\n\n<pr_description>\n{}\n</pr_description>\n\n"
            "Can you help me implement the necessary changes to the repository so that the requirements specified "
            "in the <pr_description> are met?\nFollow these steps to resolve the issue:\n1. As a first step, it might "
            "be a good idea to find and read code relevant to the <pr_description>\n2. Create a script to reproduce "
            "the error and execute it with `python <filename.py>` using the bash tool, to confirm the error\n3. Edit "
            "the sourcecode of the repo to resolve the issue\n4. Rerun your reproduce script and confirm that the "
            "error is fixed!\n5. Think about edgecases and make sure your fix handles them as well\nYour thinking "
            "should be thorough and so it's fine if it's very long.")


def pool(rng, size):
    """Text of Zipf-distributed random words and code-like separators: compresses under snappy
    about as much as real logs and code do (~1.8x), with a little non-ASCII (escaped `\\uXXXX` in
    `messages`, as Python's json.dumps writes it)."""
    letters = "abcdefghijklmnopqrstuvwxyz_0123456789"
    vocab = ["".join(rng.choices(letters, k=rng.randint(1, 12))) for _ in range(20000)]
    vocab[100:110] = ["caf\u00e9", "\u2192", "\u2713", "na\u00efve", "\u00b5s", "\u201cq\u201d", "\u4e2d\u6587",
                      "\u00e9t\u00e9", "\u2014", "\u2026"]
    weights = [1.0 / (i + 1) for i in range(len(vocab))]
    seps = [" "] * 12 + ["\n"] * 3 + [", ", "(", ")", " = ", ".", ": ", "'", '"', "    ", "\t"]
    out, n = [], 0
    while n < size:
        words = rng.choices(vocab, weights=weights, k=100000)
        gaps = rng.choices(seps, k=100000)
        chunk = "".join(w + g for w, g in zip(words, gaps))
        out.append(chunk)
        n += len(chunk)
    return "".join(out)[:size]


def cut(rng, p, n):
    n = max(0, min(n, len(p) - 1))
    start = rng.randrange(0, len(p) - n)
    return p[start:start + n]


def lognormal(rng, median, sigma, cap):
    return min(cap, int(median * math.exp(rng.gauss(0.0, sigma))))


def trajectory(rng, p, i):
    iid = f"synth__repo{i % 97}.{i % 89:08x}.func_pm_op_swap__{i:08x}"
    task = INSTANCE.format(cut(rng, p, int(rng.triangular(2000, 8000, 3500))))
    msgs = [{"role": "system", "content": "You are a helpful assistant that can interact with a computer to solve tasks.",
             "agent": "main", "message_type": "system_prompt"},
            {"role": "user", "content": [{"type": "text", "text": task}], "agent": "main", "message_type": "observation"}]
    steps = min(75, max(3, int(rng.gauss(27, 12))))
    for s in range(steps):
        kind = rng.random()
        if s == steps - 1:
            name, args, action = "submit", {}, "submit"
        elif kind < 0.5:
            cmd = "cd /testbed && " + cut(rng, p, lognormal(rng, 60, 0.8, 3000))
            name, args, action = "bash", {"command": cmd}, cmd
        elif kind < 0.75:
            path = "/testbed/" + cut(rng, p, rng.randrange(5, 30)).replace("\n", "_")
            name, args = "str_replace_editor", {"command": "view", "path": path}
            action = f"str_replace_editor view {path}"
            if rng.random() < 0.4:
                a = rng.randrange(1, 400)
                args["view_range"] = [a, a + rng.randrange(5, 80)]
        else:
            name, args = "str_replace_editor", {"command": "str_replace", "path": "/testbed/pkg/mod.py",
                                                "old_str": cut(rng, p, lognormal(rng, 200, 0.9, 3000)),
                                                "new_str": cut(rng, p, lognormal(rng, 200, 0.9, 3000))}
            action = "str_replace_editor str_replace /testbed/pkg/mod.py"
        thought = cut(rng, p, lognormal(rng, 70, 0.9, 1500))
        cid = f"toolu_{i:08x}{s:04x}"
        msgs.append({"role": "assistant", "content": thought, "thought": thought, "action": action, "agent": "main",
                     "tool_calls": [{"index": 1, "id": cid, "type": "function",
                                     "function": {"name": name, "arguments": json.dumps(args)}}],
                     "message_type": "action"})
        n = lognormal(rng, 900, 1.1, 20000)
        out = EMPTY if n < 15 else "OBSERVATION:\n" + cut(rng, p, n)
        msgs.append({"role": "tool", "content": [{"type": "text", "text": out}],
                     "agent": "main", "message_type": "observation", "tool_call_ids": [cid]})
    return {"messages": json.dumps(msgs), "instance_id": iid, "resolved": rng.random() < 0.5,
            "model": rng.choice(MODELS), "traj_id": f"{iid}.{i:08x}",
            "patch": "diff --git a/x b/x\n" + cut(rng, p, lognormal(rng, 800, 0.7, 8000))}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--rows", type=int, default=24015)
    ap.add_argument("--shards", type=int, default=8)
    ap.add_argument("--row-group", type=int, default=100)
    a = ap.parse_args()
    out = Path(a.out)
    marker = out / "SYNTHETIC"
    settings = f"version={VERSION} rows={a.rows} shards={a.shards} row_group={a.row_group}\n"
    if marker.exists() and marker.read_text() == settings:
        print(f"reusing {out}")
        return
    (out / "data").mkdir(parents=True, exist_ok=True)
    rng = random.Random(20251030)
    p = pool(rng, 1 << 24)
    per = -(-a.rows // a.shards)
    i = 0
    for k in range(a.shards):
        path = out / "data" / f"tool-{k:05d}-of-{a.shards:05d}.parquet"
        with pq.ParquetWriter(path, SCHEMA, compression="snappy") as w:
            n = min(per, a.rows - i)
            for start in range(0, n, a.row_group):
                rows = [trajectory(rng, p, i + j) for j in range(min(a.row_group, n - start))]
                i += len(rows)
                w.write_table(pa.Table.from_pylist(rows, schema=SCHEMA), row_group_size=a.row_group)
        print(f"wrote {path}")
    marker.write_text(settings)


if __name__ == "__main__":
    main()
