#!/usr/bin/env python3
"""Writes the small dataset samples of srl-swe in their exact upstream formats.

Run with the project venv (pyarrow): `source scripts/env.sh && python datasets/make_samples.py`.
Deterministic: the same inputs give byte-identical files; re-run it after adding spec files.

SWE-smith trajectories (docs/prepare.md) are rendered from spec files
`datasets/swe-smith-src/*.json`, one trajectory each:
  {"instance_id", "traj_id", "model", "resolved", "problem_statement",
   "steps": [{"thought", "tool", "args", "observation"}], "patch"}
`args` are the JSON arguments the `tool` split carries; a `submit` step without "observation"
gets SWE-agent's review message (first submit) or the diff (later submits). Each spec is rendered
the way SWE-smith's `collect_trajs.py` does for the three styles:
  - tool : raw SWE-agent history, tool_calls with `arguments` as a JSON string, observations as
           `tool` messages with `OBSERVATION:\\n` text blocks;
  - xml  : SWE-agent-LM system prompt, assistant = thought + "\\n\\n" + <function=...> block,
           old_str/new_str/file_text padded with one newline on each side;
  - ticks: assistant = thought + "\\n\\n```\\n" + SWE-agent command line + "\\n```", editor
           arguments shell-quoted (shlex.quote).
Outputs:
  swe-smith/data/{tool,xml,ticks}-00000-of-00001.parquet   (messages as a JSON string, instance_id,
                                                           resolved, model, traj_id, patch)
  swe-smith/jsonl/tool.jsonl                               (the tool rows as JSONL)
  swe-smith/traj/<run>/<iid>/<iid>.traj (+ report.json, preds.json)  SWE-agent run folder
  s1k/train-00000-of-00001.parquet, s1k-jsonl/train.jsonl  (s1K-1.1 columns, docs/formats.md §6)
  math-eval/{aime24,amc23,minerva_math}/test.jsonl          (Qwen2.5-Math shapes, docs/formats.md §7)
"""

import hashlib
import json
import shlex
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parent
SPECS = ROOT / "swe-smith-src"

GEN_SYSTEM = "You are a helpful assistant that can interact with a computer to solve tasks."

INSTANCE_TEMPLATE = """<uploaded_files>
/testbed
</uploaded_files>
I've uploaded a python code repository in the directory /testbed. Consider the following PR description:

<pr_description>
{problem}
</pr_description>

Can you help me implement the necessary changes to the repository so that the requirements specified in the <pr_description> are met?
I've already taken care of all changes to any of the test files described in the <pr_description>. This means you DON'T have to modify the testing logic or any of the tests in any way!
Your task is to make the minimal changes to non-tests files in the /testbed directory to ensure the <pr_description> is satisfied.
Follow these steps to resolve the issue:
1. As a first step, it might be a good idea to find and read code relevant to the <pr_description>
2. Create a script to reproduce the error and execute it with `python <filename.py>` using the bash tool, to confirm the error
3. Edit the source code of the repo to resolve the issue
4. Rerun your reproduce script and confirm that the error is fixed!
5. Think about edgecases and make sure your fix handles them as well
Your thinking should be thorough and so it's fine if it's very long."""

XML_SYSTEM = """You are a helpful assistant that can interact with a computer to solve tasks.

You have access to the following functions:

---- BEGIN FUNCTION #1: bash ----
Description: Execute a bash command in the terminal.

Parameters:
  (1) command (string, required): The bash command to execute. Can be empty to view additional logs when previous exit code is `-1`. Can be `ctrl+c` to interrupt the currently running process.
---- END FUNCTION #1 ----

---- BEGIN FUNCTION #2: submit ----
Description: Finish the interaction when the task is complete OR if the assistant cannot proceed further with the task.
No parameters are required for this function.
---- END FUNCTION #2 ----

---- BEGIN FUNCTION #3: str_replace_editor ----
Description: Custom editing tool for viewing, creating and editing files
* State is persistent across command calls and discussions with the user
* If `path` is a file, `view` displays the result of applying `cat -n`. If `path` is a directory, `view` lists non-hidden files and directories up to 2 levels deep
* The `create` command cannot be used if the specified `path` already exists as a file
* If a `command` generates a long output, it will be truncated and marked with `<response clipped>`
* The `undo_edit` command will revert the last edit made to the file at `path`

Parameters:
  (1) command (string, required): The commands to run. Allowed options are: `view`, `create`, `str_replace`, `insert`, `undo_edit`.
  (2) path (string, required): Absolute path to file or directory, e.g. `/testbed/file.py` or `/testbed`.
  (3) file_text (string, optional): Required parameter of `create` command, with the content of the file to be created.
  (4) old_str (string, optional): Required parameter of `str_replace` command containing the string in `path` to replace.
  (5) new_str (string, optional): Optional parameter of `str_replace` command containing the new string (if not given, no string will be added). Required parameter of `insert` command containing the string to insert.
  (6) insert_line (integer, optional): Required parameter of `insert` command. The `new_str` will be inserted AFTER the line `insert_line` of `path`.
  (7) view_range (array, optional): Optional parameter of `view` command when `path` points to a file. If none is given, the full file is shown. If provided, the file will be shown in the indicated line number range, e.g. [11, 12] will show lines 11 and 12. Indexing at 1 to start. Setting `[start_line, -1]` shows all lines from `start_line` to the end of the file.
---- END FUNCTION #3 ----


If you choose to call a function ONLY reply in the following format with NO suffix:

Provide any reasoning for the function call here.
<function=example_function_name>
<parameter=example_parameter_1>value_1</parameter>
<parameter=example_parameter_2>
This is the value for the second parameter
that can span
multiple lines
</parameter>
</function>

<IMPORTANT>
Reminder:
- Function calls MUST follow the specified format, start with <function= and end with </function>
- Required parameters MUST be specified
- Only call one function at a time
- Always provide reasoning for your function call in natural language BEFORE the function call (not after)
</IMPORTANT>"""

REVIEW = """Thank you for your work on this issue. Please carefully follow the steps below to help review your changes.

1. If you made any changes to your code after running the reproduction script, please run the reproduction script again.
  If the reproduction script is failing, please revisit your changes and make sure they are correct.
  If you have already removed your reproduction script, please ignore this step.
2. Remove your reproduction script (if you haven't done so already).
3. If you have modified any TEST files, please revert them to the state they had before you started fixing the issue.
  You can do this with `git checkout -- /path/to/test/file.py`. Use below <diff> to find the files you need to revert.
4. Run the submit command again to confirm.

Here is a list of all of your changes:

<diff>
{patch}
</diff>
"""

EMPTY_OUTPUT = "Your command ran successfully and did not produce any output."

EDITOR_ORDER = ["command", "path", "file_text", "old_str", "new_str", "insert_line", "view_range"]
PADDED = {"file_text", "old_str", "new_str"}


def sha8(text):
    return hashlib.sha256(text.encode()).hexdigest()[:8]


def py_value(v):
    """How SWE-agent prints a non-string argument: Python's str()."""
    if isinstance(v, list):
        return "[" + ", ".join(str(x) for x in v) + "]"
    return str(v)


def command_line(tool, args):
    """SWE-agent's rendering of a call (FunctionCallingParser._parse_tool_call)."""
    if tool == "bash":
        return args["command"]
    if tool == "submit":
        return "submit"
    parts = []
    for name in EDITOR_ORDER:
        if name not in args:
            parts.append("")
            continue
        v = args[name]
        text = shlex.quote(v) if isinstance(v, str) else py_value(v)
        parts.append(text if name in ("command", "path") else f"--{name} {text}")
    return ("str_replace_editor " + " ".join(parts)).strip()


def xml_call(tool, args):
    out = f"<function={tool}>\n"
    for k, v in args.items():
        text = v if isinstance(v, str) else py_value(v)
        if k in PADDED:
            text = "\n" + text + "\n"
        out += f"<parameter={k}>{text}</parameter>\n"
    return out + "</function>"


def observations(spec):
    obs, submits = [], 0
    for step in spec["steps"]:
        o = step.get("observation")
        if step["tool"] == "submit" and o is None:
            o = REVIEW.format(patch=spec["patch"]) if submits == 0 else spec["patch"]
            submits += 1
        elif step["tool"] == "submit":
            submits += 1
        obs.append("OBSERVATION:\n" + o if o else EMPTY_OUTPUT)
    return obs


def tool_messages(spec):
    msgs = [
        {"role": "system", "content": GEN_SYSTEM, "agent": "main", "message_type": "system_prompt"},
        {"role": "user", "content": [{"type": "text", "text": INSTANCE_TEMPLATE.format(problem=spec["problem_statement"])}],
         "agent": "main", "message_type": "observation"},
    ]
    for i, (step, obs) in enumerate(zip(spec["steps"], observations(spec))):
        call_id = "toolu_" + hashlib.sha256(f"{spec['traj_id']}#{i}".encode()).hexdigest()[:24]
        msgs.append({
            "role": "assistant", "content": step["thought"], "thought": step["thought"],
            "action": command_line(step["tool"], step["args"]), "agent": "main",
            "tool_calls": [{"index": 1, "id": call_id, "type": "function",
                            "function": {"name": step["tool"], "arguments": json.dumps(step["args"])}}],
            "message_type": "action",
        })
        tool_msg = {"role": "tool", "content": [{"type": "text", "text": obs}], "agent": "main",
                    "message_type": "observation", "tool_call_ids": [call_id]}
        if i == len(spec["steps"]) - 1:
            tool_msg["cache_control"] = {"type": "ephemeral"}
        msgs.append(tool_msg)
    return msgs


def xml_messages(spec):
    msgs = [{"role": "system", "content": XML_SYSTEM},
            {"role": "user", "content": INSTANCE_TEMPLATE.format(problem=spec["problem_statement"])}]
    for step, obs in zip(spec["steps"], observations(spec)):
        msgs.append({"role": "assistant", "content": step["thought"] + "\n\n" + xml_call(step["tool"], step["args"])})
        msgs.append({"role": "user", "content": obs})
    return msgs


def ticks_messages(spec):
    msgs = [{"role": "system", "content": GEN_SYSTEM},
            {"role": "user", "content": INSTANCE_TEMPLATE.format(problem=spec["problem_statement"])}]
    for step, obs in zip(spec["steps"], observations(spec)):
        msgs.append({"role": "assistant", "content": step["thought"] + "\n\n```\n" + command_line(step["tool"], step["args"]) + "\n```"})
        msgs.append({"role": "user", "content": obs})
    return msgs


RENDER = {"tool": tool_messages, "xml": xml_messages, "ticks": ticks_messages}
SWE_SCHEMA = pa.schema([("messages", pa.string()), ("instance_id", pa.string()), ("resolved", pa.bool_()),
                        ("model", pa.string()), ("traj_id", pa.string()), ("patch", pa.string())])


def swe_rows(specs, split):
    return [{"messages": json.dumps(RENDER[split](s)), "instance_id": s["instance_id"], "resolved": s["resolved"],
             "model": s["model"], "traj_id": s["traj_id"], "patch": s["patch"]} for s in specs]


def write_parquet(path, rows, schema):
    path.parent.mkdir(parents=True, exist_ok=True)
    table = pa.Table.from_pylist(rows, schema=schema)
    pq.write_table(table, path, compression="snappy", write_statistics=False, store_schema=True)


def write_jsonl(path, rows):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")


def write_traj_run(specs, run_dir):
    preds = {}
    for s in specs:
        iid = s["instance_id"]
        obs = observations(s)
        steps = []
        for step, o in zip(s["steps"], obs):
            action = command_line(step["tool"], step["args"])
            steps.append({"action": action, "observation": o, "response": step["thought"] + "\n\n" + action,
                          "thought": step["thought"], "execution_time": 0.0, "state": {"working_dir": "/testbed"},
                          "extra_info": {}})
        replay_config = {"agent": {"model": {"name": s["model"]}},
                         "env": {"deployment": {"image": "srl-swe/" + iid.rsplit(".", 1)[0].lower()},
                                 "repo": {"base_commit": iid}}}
        traj = {
            "trajectory": steps,
            "history": tool_messages(s),
            "info": {"submission": s["patch"], "exit_status": "submitted",
                     "model_stats": {"instance_cost": 0.0, "tokens_sent": 0, "tokens_received": 0, "api_calls": len(steps)},
                     "swe_agent_hash": "demo", "swe_agent_version": "1.0.1", "swe_rex_version": "1.2.0", "swe_rex_hash": "demo"},
            "replay_config": json.dumps(replay_config),
            "environment": iid,
        }
        d = run_dir / iid
        d.mkdir(parents=True, exist_ok=True)
        (d / f"{iid}.traj").write_text(json.dumps(traj, indent=2) + "\n", encoding="utf-8")
        (d / f"{iid}.pred").write_text(json.dumps({"model_name_or_path": s["model"], "instance_id": iid, "model_patch": s["patch"]}) + "\n", encoding="utf-8")
        (d / "report.json").write_text(json.dumps({iid: {"patch_is_None": False, "patch_exists": True,
                                                          "patch_successfully_applied": True, "resolved": s["resolved"]}}, indent=2) + "\n", encoding="utf-8")
        preds[iid] = {"instance_id": iid, "model_name_or_path": s["model"], "model_patch": s["patch"]}
    (run_dir / "preds.json").write_text(json.dumps(preds, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def load_specs():
    specs = []
    for p in sorted(SPECS.glob("*.json")):
        s = json.loads(p.read_text(encoding="utf-8"))
        for key in ("instance_id", "traj_id", "model", "resolved", "problem_statement", "steps", "patch"):
            if key not in s:
                sys.exit(f"{p}: missing key {key!r}")
        for i, step in enumerate(s["steps"]):
            if step.get("tool") not in ("bash", "str_replace_editor", "submit"):
                sys.exit(f"{p}: steps[{i}].tool must be bash, str_replace_editor or submit")
        specs.append(s)
    specs.sort(key=lambda s: s["traj_id"])
    return specs


def make_swe():
    specs = load_specs()
    base = ROOT / "swe-smith"
    for split in ("tool", "xml", "ticks"):
        write_parquet(base / "data" / f"{split}-00000-of-00001.parquet", swe_rows(specs, split), SWE_SCHEMA)
    write_jsonl(base / "jsonl" / "tool.jsonl", swe_rows(specs, "tool"))
    write_traj_run(specs, base / "traj" / "demo__claude-3-7-sonnet-20250219__t-0.00__p-1.00__c-2.00")
    return len(specs)


# --- s1K-1.1 -------------------------------------------------------------------------------

S1K_COLUMNS = ["solution", "question", "cot_type", "source_type", "metadata", "gemini_thinking_trajectory",
               "gemini_attempt", "deepseek_thinking_trajectory", "deepseek_attempt", "gemini_grade",
               "gemini_grade_reason", "deepseek_grade", "deepseek_grade_reason"]


def s1k_rows():
    src = json.loads((ROOT / "s1k-src" / "problems.json").read_text(encoding="utf-8"))
    rows = []
    for p in src:
        row = {c: "" for c in S1K_COLUMNS}
        row.update({
            "solution": p["solution"], "question": p["question"], "cot_type": p.get("cot_type", "math"),
            "source_type": p.get("source_type", "demo/composed"), "metadata": json.dumps(p.get("metadata", {})),
            "gemini_thinking_trajectory": p.get("thinking", ""), "gemini_attempt": p["deepseek_attempt"],
            "deepseek_thinking_trajectory": p.get("thinking", ""), "deepseek_attempt": p["deepseek_attempt"],
            "gemini_grade": "Yes", "gemini_grade_reason": "The attempt matches the reference.",
            "deepseek_grade": p.get("grade", "Yes"), "deepseek_grade_reason": "The attempt matches the reference.",
        })
        rows.append(row)
    return rows


def make_s1k():
    rows = s1k_rows()
    schema = pa.schema([(c, pa.string()) for c in S1K_COLUMNS])
    write_parquet(ROOT / "s1k" / "train-00000-of-00001.parquet", rows, schema)
    write_jsonl(ROOT / "s1k-jsonl" / "train.jsonl", rows)
    return len(rows)


def make_math_eval():
    src = json.loads((ROOT / "s1k-src" / "math_eval.json").read_text(encoding="utf-8"))
    for name, rows in sorted(src.items()):
        write_jsonl(ROOT / "math-eval" / name / "test.jsonl", rows)
    return {k: len(v) for k, v in sorted(src.items())}


if __name__ == "__main__":
    n = make_swe()
    m = make_s1k()
    e = make_math_eval()
    print(f"swe-smith: {n} trajectories x 3 splits; s1k: {m} rows; math-eval: {e}")
