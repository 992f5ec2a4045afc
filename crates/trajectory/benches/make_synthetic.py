#!/usr/bin/env python3
"""Synthetic SWE-smith `tool`-split shards of the real size, for the prepare benchmark.

Writes OUT/data/tool-0000K-of-00008.parquet (K = 0..7) with the six SWE-smith columns
(reference/formats.md §1.2): ~24k trajectories, ~27 tool calls each, observations of varied
length drawn from a large random text pool (so snappy cannot shrink them much), about 1 GB in
all. Deterministic (seeded). Re-uses OUT when its marker file says the same settings.

Usage: python make_synthetic.py OUT [--rows 24000] [--shards 8]
"""

import argparse
import json
import random
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

VERSION = "3"
SCHEMA = pa.schema([("messages", pa.string()), ("instance_id", pa.string()), ("resolved", pa.bool_()),
                    ("model", pa.string()), ("traj_id", pa.string()), ("patch", pa.string())])
MODELS = ["claude-3-7-sonnet-20250219"] * 3 + ["claude-3-5-sonnet-20241022", "gpt-4o-2024-08-06"]
ALPHABET = bytes(b"abcdefghijklmnopqrstuvwxyz     \n_.()=:'\"0123456789")


def pool(rng, size):
    raw = rng.randbytes(size)
    table = bytes(ALPHABET[b % len(ALPHABET)] for b in range(256))
    return raw.translate(table).decode("ascii")


def text(rng, p, lo, hi):
    n = int(rng.triangular(lo, hi, lo + (hi - lo) * 0.15))
    start = rng.randrange(0, len(p) - n)
    return p[start:start + n]


def trajectory(rng, p, i):
    iid = f"synth__repo{i % 97}.{i % 89:08x}.func_pm_op_swap__{i:08x}"
    msgs = [{"role": "system", "content": "You are a helpful assistant that can interact with a computer to solve tasks.",
             "agent": "main", "message_type": "system_prompt"},
            {"role": "user", "content": [{"type": "text", "text": "<uploaded_files>\n/testbed\n</uploaded_files>\n<pr_description>\n"
                                          + text(rng, p, 300, 3000) + "\n</pr_description>\n"}],
             "agent": "main", "message_type": "observation"}]
    steps = max(3, int(rng.gauss(27, 9)))
    for s in range(steps):
        kind = rng.random()
        if s == steps - 1:
            name, args = "submit", {}
        elif kind < 0.45:
            name, args = "bash", {"command": "cd /testbed && " + text(rng, p, 10, 200)}
        elif kind < 0.75:
            name, args = "str_replace_editor", {"command": "view", "path": "/testbed/" + text(rng, p, 5, 30).replace("\n", "_")}
            if rng.random() < 0.4:
                a = rng.randrange(1, 400)
                args["view_range"] = [a, a + rng.randrange(5, 80)]
        else:
            name, args = "str_replace_editor", {"command": "str_replace", "path": "/testbed/pkg/mod.py",
                                                "old_str": text(rng, p, 20, 400), "new_str": text(rng, p, 20, 400)}
        thought = text(rng, p, 50, 400)
        cid = f"toolu_{i:08x}{s:04x}"
        msgs.append({"role": "assistant", "content": thought, "thought": thought, "action": name, "agent": "main",
                     "tool_calls": [{"index": 1, "id": cid, "type": "function",
                                     "function": {"name": name, "arguments": json.dumps(args)}}],
                     "message_type": "action"})
        msgs.append({"role": "tool", "content": [{"type": "text", "text": "OBSERVATION:\n" + text(rng, p, 0, 2800)}],
                     "agent": "main", "message_type": "observation", "tool_call_ids": [cid]})
    return {"messages": json.dumps(msgs), "instance_id": iid, "resolved": rng.random() < 0.45,
            "model": rng.choice(MODELS), "traj_id": f"{iid}.{i:08x}", "patch": "diff --git a/x b/x\n" + text(rng, p, 100, 2000)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--rows", type=int, default=24000)
    ap.add_argument("--shards", type=int, default=8)
    a = ap.parse_args()
    out = Path(a.out)
    marker = out / "SYNTHETIC"
    settings = f"version={VERSION} rows={a.rows} shards={a.shards}\n"
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
            for start in range(0, n, 500):
                rows = [trajectory(rng, p, i + j) for j in range(min(500, n - start))]
                i += len(rows)
                w.write_table(pa.Table.from_pylist(rows, schema=SCHEMA), row_group_size=1000)
        print(f"wrote {path}")
    marker.write_text(settings)


if __name__ == "__main__":
    main()
