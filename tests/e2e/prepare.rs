//! End-to-end tests of `srl-swe prepare`: the shipped samples, the three-split
//! equivalence, every bad-input class, `--strict`, byte-identical re-runs, parquet output read by
//! pyarrow, context limits with a tokenizer, and the s1K-1.1 math path.
use crate::common::{repo_root, srl_swe};
use serde_json::Value;
use srl_core::{Action, Role, StepInstance};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn run(args: &[&str]) -> Output {
    srl_swe().arg("prepare").args(args).env("NO_COLOR", "1").output().expect("run srl-swe")
}

fn ok(args: &[&str]) -> Output {
    let out = run(args);
    assert!(out.status.success(), "srl-swe prepare {args:?} failed:\n{}", String::from_utf8_lossy(&out.stderr));
    out
}

fn stats(dir: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("stats.json")).unwrap()).unwrap()
}

fn instances(path: &Path) -> Vec<StepInstance> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{}: {e}: {l}", path.display())))
        .collect()
}

fn skipped(s: &Value) -> BTreeMap<String, u64> {
    serde_json::from_value(s["records"]["skipped_by_reason"].clone()).unwrap()
}

fn reasons(pairs: &[(&str, u64)]) -> BTreeMap<String, u64> {
    pairs.iter().map(|(k, v)| (k.to_string(), *v)).collect()
}

fn python() -> String {
    std::env::var("SRL_SWE_PYTHON").unwrap_or_else(|_| "python3".into())
}

fn py(script: &str) -> String {
    let out = Command::new(python()).arg("-c").arg(script).output().unwrap_or_else(|e| {
        panic!("cannot run python ({e}); run `bash scripts/setup.sh` and `source scripts/env.sh` for the venv with pyarrow")
    });
    assert!(
        out.status.success(),
        "python failed (needs pyarrow: run `bash scripts/setup.sh`):\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// What the sample generator was given: `datasets/swe-smith-src/*.json` (model, resolved, tools
/// of the steps), the source of the expected counts below.
struct Spec {
    model: String,
    resolved: bool,
    tools: Vec<String>,
}

fn specs() -> Vec<Spec> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(repo_root().join("datasets/swe-smith-src")).unwrap() {
        let v: Value = serde_json::from_str(&std::fs::read_to_string(e.unwrap().path()).unwrap()).unwrap();
        let tools = v["steps"].as_array().unwrap().iter().map(|s| s["tool"].as_str().unwrap().to_string()).collect();
        out.push(Spec {
            model: v["model"].as_str().unwrap().into(),
            resolved: v["resolved"].as_bool().unwrap(),
            tools,
        });
    }
    assert!(out.iter().filter(|s| s.resolved).count() >= 2, "samples need at least 2 resolved trajectories");
    out
}

fn steps(specs: &[Spec], keep: impl Fn(&Spec) -> bool) -> u64 {
    specs.iter().filter(|s| keep(s)).map(|s| s.tools.len() as u64).sum()
}

fn count(specs: &[Spec], keep: impl Fn(&Spec) -> bool) -> u64 {
    specs.iter().filter(|s| keep(s)).count() as u64
}

const CLAUDE: &str = "claude-3-7-sonnet-20250219";

#[test]
fn swe_sample_end_to_end() {
    let sp = specs();
    let (n, resolved) = (sp.len() as u64, count(&sp, |s| s.resolved));
    let dir = tmp();
    let out = dir.path().join("out");
    ok(&["datasets/swe-smith", "--out", s(&out)]);
    let st = stats(&out);
    // Every trajectory is in the tool parquet shard, in the JSONL copy and as a .traj file.
    assert_eq!(st["records"]["read"], 3 * n);
    assert_eq!(st["records"]["kept"], resolved);
    assert_eq!(
        skipped(&st),
        reasons(&[
            ("duplicate_instances", resolved),
            ("duplicate_trajectory", resolved),
            ("unresolved", 3 * (n - resolved))
        ])
    );
    assert_eq!(st["files"]["other_split"], 2, "xml and ticks shards are ignored with --split tool");
    let train = instances(&out.join("train.jsonl"));
    let val = instances(&out.join("val.jsonl"));
    // One instance per expert call; the .traj copies are all exact duplicates.
    let dups = st["instances"]["duplicates_removed"].as_u64().unwrap();
    assert!(dups >= steps(&sp, |s| s.resolved));
    assert_eq!(train.len() as u64 + val.len() as u64 + dups, 2 * steps(&sp, |s| s.resolved));
    let val_ids: Vec<&str> = st["val_ids"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    assert_eq!(val_ids.len() as u64, resolved / 2, "at most half of the kept trajectories are held out");
    assert!(val.iter().all(|i| val_ids.contains(&i.provenance.trajectory_id.as_str())));
    assert!(train.iter().all(|i| !val_ids.contains(&i.provenance.trajectory_id.as_str())));
    for inst in train.iter().chain(&val) {
        let action = Action::parse_canonical(&inst.target).unwrap_or_else(|e| panic!("{}: {e}", inst.id));
        assert_eq!(action.to_canonical(), inst.target, "targets are canonical");
        assert_eq!(inst.target_tool.as_deref(), Some(action.tool.as_str()));
        assert_eq!(inst.messages[0].role, Role::System);
        assert!(inst.messages[0].content.contains("<think>"));
        assert!(inst.messages[1].content.contains("<pr_description>"));
        assert_eq!(inst.messages.last().unwrap().role, Role::User);
        assert!(inst.messages.len() <= 6, "default history is 2 pairs");
    }
    let cfg: Value = serde_json::from_str(&std::fs::read_to_string(out.join("config.json")).unwrap()).unwrap();
    assert_eq!(cfg["options"]["split"], "tool");
    assert_eq!(cfg["options"]["context"]["history"], serde_json::json!({"last": 2}));

    // --model keeps only resolved Claude 3.7 trajectories.
    let out2 = dir.path().join("claude");
    ok(&["datasets/swe-smith/data", "--out", s(&out2), "--model", CLAUDE, "--val-trajectories", "0"]);
    let st2 = stats(&out2);
    let other = count(&sp, |s| s.resolved && s.model != CLAUDE);
    let mut want = vec![("unresolved", n - resolved)];
    if other > 0 {
        want.push(("other_model", other));
    }
    assert_eq!(skipped(&st2), reasons(&want));
    let got2 =
        instances(&out2.join("train.jsonl")).len() as u64 + st2["instances"]["duplicates_removed"].as_u64().unwrap();
    assert_eq!(got2, steps(&sp, |s| s.resolved && s.model == CLAUDE));
    // --resolved-only false keeps the unresolved ones too.
    let out3 = dir.path().join("all");
    ok(&["datasets/swe-smith/data", "--out", s(&out3), "--resolved-only", "false", "--val-trajectories", "0"]);
    let st3 = stats(&out3);
    let got3 =
        instances(&out3.join("train.jsonl")).len() as u64 + st3["instances"]["duplicates_removed"].as_u64().unwrap();
    assert_eq!(got3, steps(&sp, |_| true));
}

/// Id, messages (role, text), target and step index of an instance.
type Content = (String, Vec<(Role, String)>, String, u32);

/// Compares what the policy sees and the target, ignoring the source file name.
fn content(list: &[StepInstance]) -> Vec<Content> {
    list.iter()
        .map(|i| {
            (
                i.id.clone(),
                i.messages.iter().map(|m| (m.role, m.content.clone())).collect(),
                i.target.clone(),
                i.provenance.step_index,
            )
        })
        .collect()
}

fn prepare_split(input: &Path, split: &str, out: &Path) -> Vec<StepInstance> {
    ok(&[
        s(input),
        "--split",
        split,
        "--out",
        s(out),
        "--resolved-only",
        "false",
        "--val-trajectories",
        "0",
        "--history",
        "all",
    ]);
    instances(&out.join("train.jsonl"))
}

#[test]
fn three_splits_give_the_same_instances() {
    let dir = tmp();
    let data = repo_root().join("datasets/swe-smith/data");
    let tool = prepare_split(&data, "tool", &dir.path().join("tool"));
    let xml = prepare_split(&data, "xml", &dir.path().join("xml"));
    let ticks = prepare_split(&data, "ticks", &dir.path().join("ticks"));
    assert_eq!(tool.len() as u64, steps(&specs(), |_| true));
    assert_eq!(content(&tool), content(&xml));
    assert_eq!(content(&tool), content(&ticks));
}

/// One trajectory written by hand in the three renderings, with shell quoting, padded values,
/// an integer and an integer array, and files whose names do not tell the split.
#[test]
fn hand_written_trajectory_in_three_forms() {
    let dir = tmp();
    let task = serde_json::json!({"role": "user", "content": "Fix the quote bug."});
    let old = "print('it''s')\n";
    let new = "print(\"it's\")\n";
    let tool_calls = [
        ("str_replace_editor", serde_json::json!({"path": "/testbed/a.py", "command": "view", "view_range": [3, 9]})),
        (
            "str_replace_editor",
            serde_json::json!({"command": "str_replace", "path": "/testbed/a.py", "old_str": old, "new_str": new}),
        ),
        (
            "str_replace_editor",
            serde_json::json!({"command": "insert", "path": "/testbed/a.py", "insert_line": 2, "new_str": "x = 1"}),
        ),
        ("bash", serde_json::json!({"command": "cd /testbed && python -c 'import a' | grep -c \"it\""})),
        ("submit", serde_json::json!({})),
    ];
    let xml_calls = [
        "<function=str_replace_editor>\n<parameter=command>view</parameter>\n<parameter=path>/testbed/a.py</parameter>\n<parameter=view_range>[3, 9]</parameter>\n</function>".to_string(),
        format!("<function=str_replace_editor>\n<parameter=command>str_replace</parameter>\n<parameter=path>/testbed/a.py</parameter>\n<parameter=old_str>\n{old}\n</parameter>\n<parameter=new_str>\n{new}\n</parameter>\n</function>"),
        "<function=str_replace_editor>\n<parameter=command>insert</parameter>\n<parameter=path>/testbed/a.py</parameter>\n<parameter=new_str>\nx = 1\n</parameter>\n<parameter=insert_line>2</parameter>\n</function>".to_string(),
        "<function=bash>\n<parameter=command>cd /testbed && python -c 'import a' | grep -c \"it\"</parameter>\n</function>".to_string(),
        "<function=submit>\n</function>".to_string(),
    ];
    // shlex.quote renderings, as SWE-agent writes them.
    let tick_lines = [
        "str_replace_editor view /testbed/a.py      --view_range [3, 9]".to_string(),
        "str_replace_editor str_replace /testbed/a.py   --old_str 'print('\"'\"'it'\"'\"''\"'\"'s'\"'\"')\n' --new_str 'print(\"it'\"'\"'s\")\n'".to_string(),
        "str_replace_editor insert /testbed/a.py    --new_str 'x = 1' --insert_line 2".to_string(),
        "cd /testbed && python -c 'import a' | grep -c \"it\"".to_string(),
        "submit".to_string(),
    ];
    let obs = [
        "OBSERVATION:\n     3\tprint('it''s')\n",
        "OBSERVATION:\nedited",
        "OBSERVATION:\ninserted",
        "OBSERVATION:\n1\n",
        "OBSERVATION:\ndiff",
    ];
    let mut tool_msgs = vec![serde_json::json!({"role": "system", "content": "s"}), task.clone()];
    let mut xml_msgs = tool_msgs.clone();
    let mut tick_msgs = tool_msgs.clone();
    for i in 0..5 {
        let (name, args) = &tool_calls[i];
        tool_msgs.push(serde_json::json!({"role": "assistant", "content": "t", "thought": "t", "tool_calls": [{"index": 1, "id": format!("c{i}"), "type": "function", "function": {"name": name, "arguments": args.to_string()}}]}));
        tool_msgs.push(serde_json::json!({"role": "tool", "content": [{"type": "text", "text": obs[i]}], "tool_call_ids": [format!("c{i}")]}));
        xml_msgs.push(serde_json::json!({"role": "assistant", "content": format!("t\n\n{}", xml_calls[i])}));
        xml_msgs.push(serde_json::json!({"role": "user", "content": obs[i]}));
        tick_msgs
            .push(serde_json::json!({"role": "assistant", "content": format!("t\n\n```\n{}\n```", tick_lines[i])}));
        tick_msgs.push(serde_json::json!({"role": "user", "content": obs[i]}));
    }
    let mut results = Vec::new();
    for (name, msgs) in [("a", tool_msgs), ("b", xml_msgs), ("c", tick_msgs)] {
        let input = dir.path().join(format!("{name}.jsonl"));
        let row = serde_json::json!({"messages": Value::Array(msgs).to_string(), "instance_id": "x", "resolved": true, "model": "m", "traj_id": "x.1"});
        std::fs::write(&input, format!("{row}\n")).unwrap();
        let split = match name {
            "a" => "tool",
            "b" => "xml",
            _ => "ticks",
        };
        results.push(prepare_split(&input, split, &dir.path().join(format!("out-{name}"))));
    }
    assert_eq!(results[0].len(), 5);
    assert_eq!(content(&results[0]), content(&results[1]));
    assert_eq!(content(&results[0]), content(&results[2]));
    assert_eq!(
        results[0][1].target,
        format!("<function=str_replace_editor>\n<parameter=command>str_replace</parameter>\n<parameter=path>/testbed/a.py</parameter>\n<parameter=old_str>{old}</parameter>\n<parameter=new_str>{new}</parameter>\n</function>")
    );
    assert_eq!(results[0][0].target.lines().nth(3), Some("<parameter=view_range>[3, 9]</parameter>"));
}

const GOOD_ROW: &str = r#"{"role": "user", "content": "task"}, {"role": "assistant", "content": "t", "tool_calls": [{"function": {"name": "bash", "arguments": "{\"command\": \"ls\"}"}}]}, {"role": "tool", "content": "OBSERVATION:\na.py"}"#;

fn row(traj: &str, messages: &str) -> String {
    serde_json::json!({"messages": messages, "instance_id": traj, "resolved": true, "model": "m", "traj_id": traj})
        .to_string()
}

/// Writes one file per bad-input class (plus good rows) under `dir`.
fn write_bad_inputs(dir: &Path) {
    let call = |name: &str, args: &str| {
        format!(
            r#"{{"role": "user", "content": "task"}}, {{"role": "assistant", "content": "t", "tool_calls": [{{"function": {{"name": "{name}", "arguments": {args}}}}}]}}"#
        )
    };
    let lines = [
        row("good-1", &format!("[{GOOD_ROW}]")),
        "{\"messages\": ".to_string(),               // malformed JSON line
        row("bad-messages", "[{\"role\": \"user\""), // messages string is not JSON
        serde_json::json!({"instance_id": "no-messages", "resolved": true, "traj_id": "no-messages"}).to_string(), // missing column
        row("bad-args", &format!("[{}]", call("bash", r#""{command: ls""#))), // arguments not JSON
        row("unknown-tool", &format!("[{}]", call("python", r#""{}""#))),     // unknown tool
        row(
            "two-calls",
            r#"[{"role": "user", "content": "task"}, {"role": "assistant", "content": "t", "tool_calls": [{"function": {"name": "submit", "arguments": "{}"}}, {"function": {"name": "submit", "arguments": "{}"}}]}]"#,
        ), // more than one tool call
        row("empty", r#"[{"role": "system", "content": "s"}, {"role": "user", "content": "task"}]"#), // empty trajectory
    ];
    let mut bytes = lines.join("\n").into_bytes();
    bytes.extend_from_slice(b"\n{\"messages\": \"[]\", \"traj_id\": \"\xff\xfe\"}\n"); // invalid UTF-8
    std::fs::write(dir.join("tool-00000-of-00002.jsonl"), bytes).unwrap();
    // A truncated parquet shard and one without the `messages` column.
    let shard = std::fs::read(repo_root().join("datasets/swe-smith/data/tool-00000-of-00001.parquet")).unwrap();
    std::fs::write(dir.join("tool-00001-of-00002.parquet"), &shard[..shard.len() / 2]).unwrap();
    let no_messages = dir.join("tool-00002-of-00003.parquet");
    py(&format!(
        "import pyarrow as pa, pyarrow.parquet as pq\npq.write_table(pa.table({{'instance_id': ['nm'], 'resolved': [True], 'model': ['m'], 'traj_id': ['nm.1']}}), {:?})",
        no_messages.to_str().unwrap()
    ));
}

#[test]
fn bad_input_is_skipped_and_counted() {
    let dir = tmp();
    let input = dir.path().join("in");
    std::fs::create_dir_all(&input).unwrap();
    write_bad_inputs(&input);
    let out = dir.path().join("out");
    let res = ok(&[s(&input), "--out", s(&out), "--val-trajectories", "0"]);
    let st = stats(&out);
    assert_eq!(
        skipped(&st),
        reasons(&[
            ("bad_arguments", 1),
            ("bad_parquet", 1),
            ("empty_trajectory", 1),
            ("invalid_utf8", 1),
            ("malformed_json", 2),
            ("missing_column", 2),
            ("multiple_tool_calls", 1),
            ("unknown_tool", 1),
        ])
    );
    assert_eq!(st["records"]["kept"], 1);
    assert_eq!(instances(&out.join("train.jsonl")).len(), 1);
    let log = String::from_utf8_lossy(&res.stderr);
    assert!(
        log.contains("tool-00000-of-00002.jsonl line 5")
            && log.contains("messages[1].tool_calls[0].function.arguments"),
        "{log}"
    );
    assert!(log.contains("tool-00001-of-00002.parquet") && log.contains("bad_parquet"), "{log}");
    assert!(log.contains("tool-00002-of-00003.parquet row 0") && log.contains("field=messages"), "{log}");
}

#[test]
fn strict_fails_on_the_first_bad_record_and_leaves_no_output() {
    let dir = tmp();
    let input = dir.path().join("in");
    std::fs::create_dir_all(&input).unwrap();
    write_bad_inputs(&input);
    let out = dir.path().join("out");
    let res = run(&[s(&input), "--out", s(&out), "--strict"]);
    assert_eq!(res.status.code(), Some(2));
    let err = String::from_utf8_lossy(&res.stderr);
    assert!(err.contains("tool-00000-of-00002.jsonl line 2: field line: malformed_json"), "{err}");
    let left: Vec<PathBuf> =
        std::fs::read_dir(&out).map(|d| d.map(|e| e.unwrap().path()).collect()).unwrap_or_default();
    assert!(left.is_empty(), "no partial output: {left:?}");
}

fn read_all(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| (p.file_name().unwrap().to_string_lossy().into_owned(), std::fs::read(&p).unwrap()))
        .collect()
}

#[test]
fn reruns_are_byte_identical() {
    let dir = tmp();
    let out = dir.path().join("out");
    for args in
        [vec!["datasets/swe-smith"], vec!["datasets/swe-smith", "--format", "parquet"], vec!["--math", "datasets/s1k"]]
    {
        let mut a = args.clone();
        a.extend(["--out", s(&out)]);
        ok(&a);
        let first = read_all(&out);
        ok(&a);
        assert_eq!(first, read_all(&out), "{args:?}");
        std::fs::remove_dir_all(&out).unwrap();
    }
}

#[test]
fn parquet_output_reads_in_pyarrow() {
    let dir = tmp();
    let out = dir.path().join("out");
    ok(&["datasets/swe-smith", "--out", s(&out), "--format", "parquet"]);
    let jsonl = dir.path().join("jsonl");
    ok(&["datasets/swe-smith", "--out", s(&jsonl)]);
    let expect = instances(&jsonl.join("train.jsonl"));
    let got = py(&format!(
        "import json, pyarrow.parquet as pq\nt = pq.read_table({:?}).to_pylist()\nprint(json.dumps([[r['id'], r['messages'], r['target'], r['provenance']['step_index']] for r in t]))",
        out.join("train.parquet").to_str().unwrap()
    ));
    let rows: Vec<(String, Vec<Value>, String, u32)> = serde_json::from_str(got.trim()).unwrap();
    assert_eq!(rows.len(), expect.len());
    for (r, e) in rows.iter().zip(&expect) {
        assert_eq!(r.0, e.id);
        assert_eq!(r.2, e.target);
        assert_eq!(r.3, e.provenance.step_index);
        let msgs: Vec<(String, String)> =
            r.1.iter()
                .map(|m| (m["role"].as_str().unwrap().to_string(), m["content"].as_str().unwrap().to_string()))
                .collect();
        let want: Vec<(String, String)> = e
            .messages
            .iter()
            .map(|m| (serde_json::to_value(m.role).unwrap().as_str().unwrap().to_string(), m.content.clone()))
            .collect();
        assert_eq!(msgs, want);
    }
}

#[test]
fn history_targets_and_token_limits() {
    let dir = tmp();
    let data = "datasets/swe-smith/data";
    let bash = dir.path().join("bash");
    ok(&[data, "--out", s(&bash), "--targets", "bash", "--val-trajectories", "0"]);
    let b = instances(&bash.join("train.jsonl"));
    let bash_calls: u64 =
        specs().iter().filter(|s| s.resolved).map(|s| s.tools.iter().filter(|t| *t == "bash").count() as u64).sum();
    assert_eq!(b.len() as u64 + stats(&bash)["instances"]["duplicates_removed"].as_u64().unwrap(), bash_calls);
    assert!(b.iter().all(|i| i.target_tool.as_deref() == Some("bash")));
    let all = dir.path().join("all");
    ok(&[data, "--out", s(&all), "--history", "all", "--val-trajectories", "0"]);
    let a = instances(&all.join("train.jsonl"));
    assert!(a.iter().all(|i| i.messages.len() == 2 + 2 * i.provenance.step_index as usize));
    // A word-level tokenizer.json: every whitespace-separated piece is one token.
    let tok = dir.path().join("tokenizer.json");
    std::fs::write(&tok, r#"{"version":"1.0","truncation":null,"padding":null,"added_tokens":[],"normalizer":null,"pre_tokenizer":{"type":"Whitespace"},"post_processor":null,"decoder":null,"model":{"type":"WordLevel","vocab":{"[UNK]":0},"unk_token":"[UNK]"}}"#).unwrap();
    let lim = dir.path().join("lim");
    ok(&[
        data,
        "--out",
        s(&lim),
        "--history",
        "all",
        "--val-trajectories",
        "0",
        "--tokenizer",
        s(&tok),
        "--max-context-tokens",
        "900",
    ]);
    let st = stats(&lim);
    let max = st["context_tokens"]["max"].as_u64().unwrap();
    assert!(max <= 900 && max > 400, "{max}");
    let l = instances(&lim.join("train.jsonl"));
    // Every expert call is written, too long, or (once trimmed) an exact duplicate of another.
    let dups = |st: &Value| st["instances"]["duplicates_removed"].as_u64().unwrap();
    assert_eq!(
        l.len() as u64 + st["instances"]["context_too_long"].as_u64().unwrap() + dups(&st),
        a.len() as u64 + dups(&stats(&all))
    );
    assert!(l.iter().any(|i| i.messages.len() < 2 + 2 * i.provenance.step_index as usize), "oldest steps dropped");
    let res = run(&[data, "--out", s(&lim), "--max-context-tokens", "10"]);
    assert_eq!(res.status.code(), Some(2), "--max-context-tokens needs --tokenizer");
}

#[test]
fn math_sample_end_to_end() {
    let dir = tmp();
    let out = dir.path().join("math");
    ok(&["--math", "datasets/s1k", "--out", s(&out)]);
    let st = stats(&out);
    assert_eq!(st["records"]["read"], 8);
    assert_eq!(st["records"]["kept"], 6);
    assert_eq!(skipped(&st), reasons(&[("too_few_steps", 2)]));
    let train = instances(&out.join("train.jsonl"));
    let val = instances(&out.join("val.jsonl"));
    assert_eq!(train.len() + val.len(), 12, "N-1 instances from 3+3+2+4+3+3 steps");
    assert_eq!(st["val_ids"].as_array().unwrap().len(), 4, "at most half of the 8 questions");
    // 7 of 8 solutions have a final answer (the proof has none); held-out questions keep theirs in val.
    assert_eq!(st["rlvr"]["no_final_answer"], 1);
    assert_eq!(st["rlvr"]["train"].as_u64().unwrap() + st["rlvr"]["val"].as_u64().unwrap(), 7);
    let val_ids: Vec<&str> = st["val_ids"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    let rlvr_val: Vec<Value> = std::fs::read_to_string(out.join("rlvr_val.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(rlvr_val.iter().all(|r| val_ids.contains(&r["id"].as_str().unwrap())));
    assert!(val.iter().all(|i| val_ids.contains(&i.provenance.trajectory_id.as_str())));
    let first = train.iter().chain(&val).find(|i| i.messages[1].content.contains("20!")).unwrap();
    assert_eq!(first.reference_answer.as_deref(), Some("128"));
    assert!(first.messages[1].content.contains("\n\nNext step: "));
    let rlvr: Vec<Value> = std::fs::read_to_string(out.join("rlvr_train.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(rlvr.iter().all(|r| r["type"] == "rlvr_item" && !r["answer"].as_str().unwrap().is_empty()));
    // The JSONL copy gives the same instances; --first-step adds one per kept problem.
    let j = dir.path().join("jsonl");
    ok(&["--math", "datasets/s1k-jsonl", "--out", s(&j)]);
    assert_eq!(content(&instances(&j.join("train.jsonl"))), content(&train));
    let fs = dir.path().join("first");
    ok(&["--math", "datasets/s1k", "--out", s(&fs), "--first-step", "--title-hint", "false", "--val-questions", "0"]);
    let f = instances(&fs.join("train.jsonl"));
    assert_eq!(f.len(), 18);
    assert!(f.iter().all(|i| !i.messages[1].content.contains("Next step:")));
}

#[test]
fn math_bad_rows_are_counted() {
    let dir = tmp();
    let input = dir.path().join("s1k.jsonl");
    let good =
        serde_json::json!({"question": "q", "solution": "\\boxed{2}", "deepseek_attempt": "1. **A**: x\n2. **B**: y"});
    let lines =
        [good.to_string(), serde_json::json!({"question": "q2", "solution": "1"}).to_string(), "{oops".to_string()];
    std::fs::write(&input, lines.join("\n")).unwrap();
    let out = dir.path().join("out");
    ok(&["--math", s(&input), "--out", s(&out), "--val-questions", "0"]);
    assert_eq!(skipped(&stats(&out)), reasons(&[("malformed_json", 1), ("missing_column", 1)]));
    let res = run(&["--math", s(&input), "--out", s(&out), "--strict"]);
    assert_eq!(res.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&res.stderr).contains("s1k.jsonl line 2: field deepseek_attempt: missing_column"));
}

fn real_fixtures() -> PathBuf {
    repo_root().join("crates/trajectory/tests/fixtures/swe-smith-real")
}

/// SWE-smith keeps `report.json` in its evaluation folder; the summary says when a
/// `.traj` has none, and `--reports DIR` points at it.
#[test]
fn traj_reports_and_unknown_resolution_in_the_summary() {
    let dir = tmp();
    let out = dir.path().join("out");
    let trajs = real_fixtures().join("trajs");
    let res = ok(&[s(&trajs), "--out", s(&out)]);
    let st = stats(&out);
    assert_eq!(st["records"]["kept"], 2, "reports found in run_evaluation/<iid>/ beside the run folder");
    assert_eq!(skipped(&st), reasons(&[("unresolved", 1)]));
    assert!(!String::from_utf8_lossy(&res.stderr).contains("resolution unknown"));
    // The run folder alone, elsewhere.
    let alone = dir.path().join("run");
    for e in std::fs::read_dir(&trajs).unwrap() {
        let e = e.unwrap();
        std::fs::create_dir_all(alone.join(e.file_name())).unwrap();
        for f in std::fs::read_dir(e.path()).unwrap() {
            let f = f.unwrap();
            std::fs::copy(f.path(), alone.join(e.file_name()).join(f.file_name())).unwrap();
        }
    }
    let res = ok(&[s(&alone), "--out", s(&out)]);
    assert_eq!(skipped(&stats(&out)), reasons(&[("resolution_unknown", 3)]));
    let err = String::from_utf8_lossy(&res.stderr).into_owned();
    assert!(err.contains("resolution unknown for 3 .traj trajectories"), "{err}");
    assert!(err.contains("--reports DIR"), "{err}");
    let res = ok(&[s(&alone), "--out", s(&out), "--reports", s(&real_fixtures().join("run_evaluation"))]);
    assert_eq!(stats(&out)["records"]["kept"], 2, "{}", String::from_utf8_lossy(&res.stderr));
}

/// `srl-swe prepare data/` where `data/run1` is a symbolic link to a run folder.
#[test]
fn symlinked_run_folders_are_followed() {
    let dir = tmp();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    std::os::unix::fs::symlink(real_fixtures().join("trajs"), data.join("run1")).unwrap();
    // A link cycle must not hang or duplicate.
    std::os::unix::fs::symlink(&data, data.join("loop")).unwrap();
    let out = dir.path().join("out");
    ok(&[s(&data), "--out", s(&out), "--reports", s(&real_fixtures().join("run_evaluation"))]);
    let st = stats(&out);
    assert_eq!((st["files"]["read"].as_u64(), st["records"]["kept"].as_u64()), (Some(3), Some(2)));
    let sources: std::collections::BTreeSet<String> =
        instances(&out.join("train.jsonl")).into_iter().map(|i| i.provenance.source).collect();
    assert!(sources.iter().all(|p| p.starts_with("run1/")), "{sources:?}");
}

/// A prepare killed with SIGKILL leaves its temporary file in --out; the next run
/// removes it (and only files of that shape), and finishes normally.
#[test]
fn kill_9_leaves_a_temp_file_that_the_next_run_removes() {
    let dir = tmp();
    // Enough input that the run is still writing when it is killed.
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let row = std::fs::read_to_string(repo_root().join("datasets/swe-smith/jsonl/tool.jsonl")).unwrap();
    let mut big = String::new();
    for i in 0..100 {
        for (j, line) in row.lines().enumerate() {
            let mut v: Value = serde_json::from_str(line).unwrap();
            v["traj_id"] = Value::String(format!("copy{i}.{j}"));
            v["resolved"] = Value::Bool(true);
            big.push_str(&v.to_string());
            big.push('\n');
        }
    }
    std::fs::write(data.join("tool.jsonl"), big).unwrap();
    let out = dir.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    std::fs::write(out.join("notes.txt"), "mine").unwrap();
    let mut child = srl_swe()
        .args(["prepare", s(&data), "--out", s(&out), "--history", "all"])
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let temp = || -> Vec<PathBuf> {
        std::fs::read_dir(&out)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.file_name().unwrap().to_string_lossy().ends_with(".tmp"))
            .collect()
    };
    let started = std::time::Instant::now();
    while temp().is_empty() {
        assert!(child.try_wait().unwrap().is_none(), "prepare ended before it could be killed");
        assert!(started.elapsed().as_secs() < 60, "no temporary file appeared");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    // SIGKILL: no destructor runs.
    let status = Command::new("kill").args(["-9", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    child.wait().unwrap();
    let left = temp();
    assert!(!left.is_empty(), "kill -9 leaves the temporary file behind");
    let res = ok(&["datasets/swe-smith", "--out", s(&out)]);
    assert!(temp().is_empty(), "stale temporary files removed: {:?}", temp());
    assert!(String::from_utf8_lossy(&res.stderr).contains("removed temporary files"), "the run says so");
    assert_eq!(std::fs::read_to_string(out.join("notes.txt")).unwrap(), "mine", "other files are left alone");
    assert!(out.join("train.jsonl").is_file() && out.join("stats.json").is_file());
    assert!(!out.join(".srl-swe-prepare.lock").exists(), "the lock file goes with the run");
}
