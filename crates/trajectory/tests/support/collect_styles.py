#!/usr/bin/env python3
"""Test helper: SWE-agent `.traj` files → the rows SWE-smith's `collect_trajs.py` writes, plus the
expert calls each row must give.

Follows SWE-bench/SWE-smith `swesmith/train/traj_mgr/utils.py` (`get_messages`,
`transform_traj_xml`, `transform_traj_backticks`) and `collect_trajs.py` (row fields, output name
`<eval dir name>.<style>.jsonl`); the `tool` rows keep the raw history. The expected calls come
from the `tool_calls` of the history (name + decoded `arguments`), rendered in srl-swe's canonical
text (docs/prepare.md); for the real xml rows (no tool calls) they come from SWE-agent's own
`XMLFunctionCallingParser` regexes (SWE-agent/SWE-agent `sweagent/tools/parsing.py`).

Usage: collect_styles.py OUT_DIR EVAL_DIR TRAJ... [--xml-rows FILE] [--variants a,b,...]

With --variants, the first TRAJ is the base of variant trajectories that each carry one unusual
expert turn (exit turns, `</parameter>` inside xml values, prose mentioning `<function=bash>`,
``` lines inside commands, a lone ``` in a thought), written as `.traj` files with their reports
under OUT_DIR/variants/ (SWE-smith's layout), and converted like the others.
Writes OUT_DIR/run_evaluation.{tool,xml,ticks}.jsonl and OUT_DIR/expected.json
({"trajs": {traj_id: [canonical call, ...]}, "xml_example": {instance_id: [...]}}).
"""

import json
import re
import sys
from pathlib import Path

SCHEMA = {"bash": ["command"],
          "str_replace_editor": ["command", "path", "file_text", "old_str", "new_str", "insert_line", "view_range"],
          "submit": []}
XML_STR_REPLACES = ["old_str", "new_str", "file_text"]
SYSTEM_PROMPT = "SWE-agent-LM inference system prompt (agent/swesmith_infer.yaml)"
XML_COST_LIMIT = ("Since we have successfully fixed the issue and verified it works, "
                  "let's submit the changes:\n\n<function=submit>\n</function>")


def canonical(name, args):
    out = f"<function={name}>\n"
    for key in SCHEMA[name]:
        if key in args and args[key] is not None:
            v = args[key]
            if isinstance(v, list):
                v = "[" + ", ".join(str(x) for x in v) + "]"
            out += f"<parameter={key}>{v}</parameter>\n"
    return out + "</function>"


def get_messages(traj):
    last = traj["trajectory"][-1]
    return last["messages"][:-1] if "messages" in last else last["query"][:]


def text_of(message):
    c = message["content"]
    if isinstance(c, list):
        assert len(c) == 1
        return c[0]["text"]
    return c


def xml_style(messages):
    out = []
    for m in messages:
        role = "user" if m["role"] == "tool" else m["role"]
        if m["role"] == "assistant":
            if m["content"] == "Exit due to cost limit":
                content = XML_COST_LIMIT
            else:
                actions = []
                for call in m.get("tool_calls") or []:
                    parts = [f"<function={call['function']['name']}>"]
                    for k, v in json.loads(call["function"]["arguments"]).items():
                        parts.append(f"<parameter={k}>\n{v}\n</parameter>" if k in XML_STR_REPLACES else f"<parameter={k}>{v}</parameter>")
                    parts.append("</function>")
                    actions.append("\n".join(parts))
                content = f"{m['thought']}\n\n" + "\n".join(actions)
        elif m["role"] == "system":
            content = SYSTEM_PROMPT
        else:
            content = text_of(m)
        out.append({"role": role, "content": content})
    return out


def ticks_style(messages):
    out = []
    for m in messages:
        role = "user" if m["role"] == "tool" else m["role"]
        if m["role"] == "assistant":
            content = f"{m['thought']}\n\n```\n{m['action']}\n```"
        elif m["role"] == "system":
            content = m["content"]
        else:
            content = text_of(m)
        out.append({"role": role, "content": content})
    return out


def expected_calls(messages):
    calls = []
    for m in messages:
        if m["role"] != "assistant" or not m.get("tool_calls"):
            continue  # exit turns carry no call
        fn = m["tool_calls"][0]["function"]
        calls.append(canonical(fn["name"], json.loads(fn["arguments"])))
    return calls


FN_REGEX_PATTERN = r"<function=([^>]+)>\n(.*?)</function>"
FN_PARAM_REGEX_PATTERN = r"<parameter=([^>]+)>(.*?)</parameter>"


def xml_expected(messages):
    calls = []
    for m in messages:
        if m["role"] != "assistant":
            continue
        match = re.search(FN_REGEX_PATTERN, m["content"], re.DOTALL)
        name = match.group(1).strip()
        params = {k: re.sub(r"^\n|\n$", "", v) for k, v in re.findall(FN_PARAM_REGEX_PATTERN, match.group(2), re.DOTALL)}
        calls.append(canonical(name, params))
    return calls


def quote(v):
    """Python's shlex.quote."""
    if not v:
        return "''"
    if re.search(r"[^\w@%+=:,./-]", v, re.ASCII) is None:
        return v
    return "'" + v.replace("'", "'\"'\"'") + "'"


def render_action(name, args):
    """The command line SWE-agent 1.0.1 stores as `action` for a function call."""
    if name == "bash":
        return args["command"]
    if name == "submit":
        return "submit"
    parts = [args["command"], args["path"]]
    for key in ["file_text", "old_str", "new_str", "insert_line", "view_range"]:
        if key not in args:
            parts.append("")
        elif key == "view_range":
            parts.append(f"--view_range {args[key][0]} {args[key][1]}")
        else:
            parts.append(f"--{key} {quote(str(args[key]))}")
    return ("str_replace_editor " + " ".join(parts)).strip()


def call_message(thought, name, args, cid):
    return {"role": "assistant", "content": thought, "thought": thought, "action": render_action(name, args),
            "agent": "main", "message_type": "action",
            "tool_calls": [{"index": 1, "id": cid, "type": "function",
                            "function": {"name": name, "arguments": json.dumps(args)}}]}


def call_indices(history):
    return [i for i, m in enumerate(history) if m["role"] == "assistant" and m.get("tool_calls")]


EXITS = {"exit_cost": "Exit due to cost limit", "exit_context": "Exit due to context window",
         "exit_format": "Exit due to repeated format/blocklist/bash syntax errors"}
HEREDOC = "cat > /testbed/USAGE.md <<'EOF'\n# Usage\n\n```python\nfrom pydantic import BaseModel\n```\n\nDone.\nEOF"
MARKDOWN = "# Notes\n\n```bash\npytest -q tests/\n```\n"
XML_FILE = '<config>\n  <parameter name="mode">strict</parameter>\n</config>\n'


def variant(history, name):
    """A copy of `history` with one unusual expert turn (or an exit turn at the end)."""
    h = json.loads(json.dumps(history))
    calls = call_indices(h)
    if name in EXITS:
        cut = calls[10] + 2
        exit_text = EXITS[name]
        h = h[:cut] + [{"role": "assistant", "content": exit_text, "thought": exit_text, "action": "",
                        "agent": "main", "message_type": "action", "tool_calls": None},
                       {"role": "user", "content": [{"type": "text", "text": "Exited (autosubmitted)"}],
                        "agent": "main", "message_type": "observation"}]
    elif name == "xml_param_close":
        h[calls[3]] = call_message("Find the XML parameters.", "bash",
                                   {"command": 'grep -rn "</parameter>" /testbed/docs | head -5'}, "toolu_v1")
        h[calls[4]] = call_message("Write the XML config.", "str_replace_editor",
                                   {"command": "create", "path": "/testbed/config.xml", "file_text": XML_FILE}, "toolu_v2")
    elif name == "prose_function":
        t = "Next I run <function=bash> with find to list the files, then read them."
        h[calls[2]]["thought"] = t
        h[calls[2]]["content"] = t
    elif name == "ticks_fence":
        h[calls[5]] = call_message("Document the usage.", "bash", {"command": HEREDOC}, "toolu_v3")
        h[calls[6]] = call_message("Write notes.", "str_replace_editor",
                                   {"command": "create", "path": "/testbed/NOTES.md", "file_text": MARKDOWN}, "toolu_v4")
    elif name == "lone_fence":
        t = "The docs open a block with\n```\nand never close it; look at the files."
        h[calls[2]]["thought"] = t
        h[calls[2]]["content"] = t
    else:
        raise SystemExit(f"unknown variant {name}")
    return h


def write_variants(out, base_path, names):
    """Variant `.traj` files (and their reports) of the base trajectory under OUT/variants."""
    base = json.loads(base_path.read_text())
    folder = base_path.parent.name
    paths = []
    for name in names:
        iid = f"{folder}__{name}"
        traj = json.loads(json.dumps(base))
        traj["history"] = variant(base["history"], name)
        traj["trajectory"] = [dict(traj["trajectory"][-1], messages=traj["history"])]
        traj["environment"] = iid
        d = out / "variants" / "trajs" / iid
        d.mkdir(parents=True, exist_ok=True)
        (d / f"{iid}.traj").write_text(json.dumps(traj))
        r = out / "variants" / "logs" / "run_evaluation" / iid
        r.mkdir(parents=True, exist_ok=True)
        (r / "report.json").write_text(json.dumps({iid: {"resolved": True}}))
        paths.append(d / f"{iid}.traj")
    return paths


def main():
    args = sys.argv[1:]
    xml_rows = None
    if "--xml-rows" in args:
        i = args.index("--xml-rows")
        xml_rows = Path(args[i + 1])
        del args[i:i + 2]
    variants = []
    if "--variants" in args:
        i = args.index("--variants")
        variants = args[i + 1].split(",")
        del args[i:i + 2]
    out, eval_dir, trajs = Path(args[0]), Path(args[1]), [Path(a) for a in args[2:]]
    out.mkdir(parents=True, exist_ok=True)
    if variants:
        trajs = write_variants(out, trajs[0], variants)
        eval_dir = out / "variants" / "logs" / "run_evaluation"
    rows = {"tool": [], "xml": [], "ticks": []}
    expected = {"trajs": {}, "xml_example": {}}
    for path in trajs:
        traj = json.loads(path.read_text())
        folder = path.parent.name
        report = json.loads((eval_dir / folder / "report.json").read_text())
        resolved = report.get("resolved", False) if folder not in report else report[folder].get("resolved", False)
        messages = get_messages(traj)
        base = {"instance_id": folder, "resolved": resolved,
                "model": json.loads(traj["replay_config"])["agent"]["model"]["name"],
                "traj_id": f"{folder}.realtest", "patch": traj["info"].get("submission") or ""}
        rows["tool"].append({"messages": messages, **base})
        rows["xml"].append({"messages": xml_style(messages), **base})
        rows["ticks"].append({"messages": ticks_style(messages), **base})
        expected["trajs"][base["traj_id"]] = expected_calls(messages)
    for style, rs in rows.items():
        with open(out / f"run_evaluation.{style}.jsonl", "w") as f:
            for r in rs:
                f.write(json.dumps(r) + "\n")
    if xml_rows is not None:
        for line in xml_rows.read_text().splitlines():
            r = json.loads(line)
            expected["xml_example"][r["instance_id"]] = xml_expected(r["messages"])
    (out / "expected.json").write_text(json.dumps(expected))


if __name__ == "__main__":
    main()
