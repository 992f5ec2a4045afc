//! End-to-end tests of `srl-swe eval` on the shipped environments in Docker: the gold
//! fix resolves every task in oracle and end-to-end mode, an empty answer resolves none (and the
//! FAIL_TO_PASS tests really fail), re-runs with the same `--out` skip finished instances, bad
//! inputs become per-instance outcomes, and the `openai` backend is wired to the CLI.
//!
//! Needs Docker and the base image `srl-swe/base:1` (`bash scripts/setup.sh`); the environment
//! images are built by `srl-swe eval` itself when missing.
use crate::common::{repo_root, srl_swe};
use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::Output;

fn eval(args: &[&str]) -> Output {
    srl_swe().arg("eval").args(args).env("NO_COLOR", "1").env("SRL_SWE_LOG", "warn").output().expect("run srl-swe")
}

fn ok(args: &[&str]) -> Output {
    let out = eval(args);
    assert!(
        out.status.success(),
        "srl-swe eval {args:?} failed (Docker and the base image are needed: bash scripts/setup.sh):\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

fn jsonl(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn report(dir: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).unwrap()).unwrap()
}

/// Shipped instances, counted from the files (not from the code under test).
fn shipped_ids() -> Vec<String> {
    let mut ids = Vec::new();
    let mut dirs: Vec<_> =
        std::fs::read_dir(repo_root().join("environments")).unwrap().map(|e| e.unwrap().path()).collect();
    dirs.sort();
    for d in dirs {
        let f = d.join("instances.jsonl");
        if f.is_file() {
            ids.extend(jsonl(&f).into_iter().map(|v| v["instance_id"].as_str().unwrap().to_string()));
        }
    }
    assert!(ids.len() >= 9, "expected at least 3 environments x 3 tasks, got {ids:?}");
    ids
}

fn assert_all_resolved(dir: &Path, mode: &str) {
    let ids = shipped_ids();
    let r = report(dir);
    assert_eq!(r["instances"], ids.len(), "{r:#}");
    assert_eq!(r["resolved"], ids.len(), "{r:#}");
    assert_eq!(r["resolve_rate"], 1.0);
    assert_eq!(r["patch_apply_rate"], 1.0);
    assert_eq!(r["run"]["mode"], mode);
    let preds = jsonl(&dir.join("predictions.jsonl"));
    assert_eq!(preds.len(), ids.len());
    for p in &preds {
        assert_eq!(
            p.as_object().unwrap().keys().collect::<Vec<_>>(),
            ["instance_id", "model_name_or_path", "model_patch"]
        );
        assert!(p["model_patch"].as_str().unwrap().starts_with("diff --git a/"), "{p}");
    }
    for res in jsonl(&dir.join("results.jsonl")) {
        assert_eq!(res["outcome"], "resolved", "{res:#}");
        assert_eq!(res["apply_method"], "git apply --verbose");
        let f2p = res["tests_status"]["FAIL_TO_PASS"]["success"].as_array().unwrap();
        assert!(!f2p.is_empty());
        assert!(res["tests_status"]["FAIL_TO_PASS"]["failure"].as_array().unwrap().is_empty());
    }
}

#[test]
fn gold_oracle_resolves_every_environment_and_resumes() {
    let tmp = tempfile::tempdir().unwrap();
    let out_dir = tmp.path().join("oracle");
    let out = ok(&["--mode", "oracle", "--model", "gold", "--workers", "2", "--out", out_dir.to_str().unwrap()]);
    let table = String::from_utf8_lossy(&out.stdout);
    assert!(table.contains("TOTAL") && table.contains("100.0%"), "{table}");
    assert_all_resolved(&out_dir, "oracle");
    for res in jsonl(&out_dir.join("results.jsonl")) {
        // Oracle context = the .py files of the gold patch.
        assert!(!res["context_files"].as_array().unwrap().is_empty());
        assert_eq!(res["samples"][0]["edits"][0]["status"], "applied");
    }
    let before = std::fs::read_to_string(out_dir.join("results.jsonl")).unwrap();
    // Re-run: everything is already finished.
    ok(&["--mode", "oracle", "--model", "gold", "--out", out_dir.to_str().unwrap()]);
    let r = report(&out_dir);
    assert_eq!(r["run"]["evaluated_now"], 0, "{r:#}");
    assert_eq!(r["run"]["resumed"], shipped_ids().len());
    assert_eq!(std::fs::read_to_string(out_dir.join("results.jsonl")).unwrap(), before);
}

#[test]
fn gold_end_to_end_resolves_every_environment() {
    let tmp = tempfile::tempdir().unwrap();
    let out_dir = tmp.path().join("e2e");
    ok(&["--mode", "e2e", "--model", "gold", "--workers", "2", "--out", out_dir.to_str().unwrap()]);
    assert_all_resolved(&out_dir, "e2e");
    for res in jsonl(&out_dir.join("results.jsonl")) {
        assert!(!res["localized_files"].as_array().unwrap().is_empty(), "{res:#}");
    }
}

#[test]
fn empty_patch_resolves_nothing_and_the_tests_really_fail() {
    let tmp = tempfile::tempdir().unwrap();
    let out_dir = tmp.path().join("empty");
    ok(&["--model", "empty", "--workers", "2", "--out", out_dir.to_str().unwrap()]);
    let r = report(&out_dir);
    assert_eq!(r["resolved"], 0, "{r:#}");
    assert_eq!(r["resolve_rate"], 0.0);
    assert_eq!(r["format_error_rate"], 1.0);
    assert!(r["pass_without_patch"].as_array().unwrap().is_empty(), "{r:#}");
    let results = jsonl(&out_dir.join("results.jsonl"));
    assert_eq!(results.len(), shipped_ids().len());
    for res in results {
        assert_eq!(res["reason"], "empty_patch: no_edit_blocks");
        assert_eq!(res["model_patch"], "");
        assert!(!res["tests_status"]["FAIL_TO_PASS"]["failure"].as_array().unwrap().is_empty(), "{res:#}");
    }
}

#[test]
fn bad_inputs_become_per_instance_outcomes() {
    let tmp = tempfile::tempdir().unwrap();
    let ids = shipped_ids();
    let first = jsonl(&repo_root().join("environments/minicalc/instances.jsonl")).remove(0);
    let mk = |suffix: &str, f: &dyn Fn(&mut Value)| {
        let mut v = first.clone();
        v["instance_id"] = Value::from(format!("{}{suffix}", first["instance_id"].as_str().unwrap()));
        f(&mut v);
        v.to_string()
    };
    let lines = [
        mk("", &|_| {}),
        mk(".noimage", &|v| v["image_name"] = Value::from("srl-swe/env-does-not-exist:9")),
        mk(".hang", &|v| v["test_cmd"] = Value::from("sleep 600; python3 -m pytest")),
        "{\"instance_id\": \"broken\", \"problem_statement\": \"p\", \"FAIL_TO_PASS\": 5}".to_string(),
    ];
    let inst = tmp.path().join("instances.jsonl");
    std::fs::write(&inst, lines.join("\n") + "\n").unwrap();
    let preds = tmp.path().join("preds.jsonl");
    let bad_patch = "diff --git a/minicalc/parser.py b/minicalc/parser.py\n--- a/minicalc/parser.py\n+++ b/minicalc/parser.py\n@@ -1,2 +1,2 @@\n-this line is not in the file\n+neither is this\n context\n";
    std::fs::write(
        &preds,
        format!("{}\n", serde_json::json!({"instance_id": first["instance_id"], "model_name_or_path": "elsewhere", "model_patch": bad_patch})),
    )
    .unwrap();
    let out_dir = tmp.path().join("bad");
    let dir = out_dir.to_str().unwrap();
    let out = ok(&[
        "--instances",
        inst.to_str().unwrap(),
        "--model",
        "gold",
        "--test-timeout",
        "5",
        "--workers",
        "2",
        "--out",
        dir,
    ]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("skipped 1 malformed instance record"));
    let by_id: std::collections::HashMap<String, Value> = jsonl(&out_dir.join("results.jsonl"))
        .into_iter()
        .map(|r| (r["instance_id"].as_str().unwrap().to_string(), r))
        .collect();
    let id = first["instance_id"].as_str().unwrap();
    assert_eq!(by_id[id]["outcome"], "resolved");
    let noimage = &by_id[&format!("{id}.noimage")];
    assert_eq!(noimage["outcome"], "error");
    assert!(noimage["reason"].as_str().unwrap().contains("srl-swe/env-does-not-exist:9"), "{noimage:#}");
    let hang = &by_id[&format!("{id}.hang")];
    assert_eq!(hang["outcome"], "test_timeout", "{hang:#}");
    assert_eq!(report(&out_dir)["run"]["skipped_records"], 1);

    // A prediction that does not apply, graded by the replay backend.
    let out_dir = tmp.path().join("replay");
    ok(&[
        "--instances",
        inst.to_str().unwrap(),
        "--instance-id",
        id,
        "--model",
        "replay",
        "--predictions",
        preds.to_str().unwrap(),
        "--out",
        out_dir.to_str().unwrap(),
    ]);
    let res = &jsonl(&out_dir.join("results.jsonl"))[0];
    assert_eq!(res["outcome"], "patch_apply_failed", "{res:#}");
    assert_eq!(res["model_name_or_path"], "elsewhere");

    // --strict turns the malformed record into an error naming file, line and field.
    let out = eval(&[
        "--instances",
        inst.to_str().unwrap(),
        "--strict",
        "--out",
        tmp.path().join("strict").to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("instances.jsonl:4") && err.contains("FAIL_TO_PASS"), "{err}");
    assert!(ids.contains(&id.to_string()));
}

/// A one-shot OpenAI-compatible server answering every chat completion with `answer`.
fn serve(answer: &'static str, requests: usize) -> (String, std::thread::JoinHandle<Vec<Value>>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/v1", listener.local_addr().unwrap());
    let handle = std::thread::spawn(move || {
        let mut seen = Vec::new();
        for _ in 0..requests {
            let (stream, _) = listener.accept().unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            assert!(line.starts_with("POST /v1/chat/completions "), "{line}");
            let mut len = 0;
            loop {
                let mut h = String::new();
                reader.read_line(&mut h).unwrap();
                if h.trim().is_empty() {
                    break;
                }
                if let Some(v) = h.to_ascii_lowercase().strip_prefix("content-length:") {
                    len = v.trim().parse().unwrap();
                }
            }
            let mut body = vec![0; len];
            reader.read_exact(&mut body).unwrap();
            seen.push(serde_json::from_slice(&body).unwrap());
            let resp = serde_json::json!({"choices": [{"index": 0, "message": {"role": "assistant", "content": answer}, "finish_reason": "stop"}],
                "usage": {"prompt_tokens": 100, "completion_tokens": 7}})
            .to_string();
            let mut s = stream;
            write!(s, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{resp}", resp.len()).unwrap();
        }
        seen
    });
    (url, handle)
}

#[test]
fn openai_backend_is_called_with_the_repair_prompt() {
    let tmp = tempfile::tempdir().unwrap();
    let (url, server) = serve("I would rewrite the parser.", 1);
    let id = &shipped_ids()[0];
    let out_dir = tmp.path().join("openai");
    ok(&[
        "--model",
        "openai",
        "--base-url",
        &url,
        "--model-name",
        "tiny-coder",
        "--instance-id",
        id,
        "--out",
        out_dir.to_str().unwrap(),
    ]);
    let seen = server.join().unwrap();
    assert_eq!(seen[0]["model"], "tiny-coder");
    assert_eq!(seen[0]["temperature"], 0.0);
    assert_eq!(seen[0]["max_tokens"], 4096);
    let prompt = seen[0]["messages"][0]["content"].as_str().unwrap();
    assert!(prompt.starts_with("We are currently solving the following issue within our repository."), "{prompt}");
    let res = &jsonl(&out_dir.join("results.jsonl"))[0];
    assert_eq!(res["model_name_or_path"], "tiny-coder");
    assert_eq!(res["tokens"], 107);
    assert_eq!(res["reason"], "empty_patch: no_edit_blocks");
    assert_eq!(report(&out_dir)["format_error_rate"], 1.0);
}

#[test]
fn local_tch_backend_answers_through_the_same_trait() {
    let tmp = tempfile::tempdir().unwrap();
    let ckpt = tmp.path().join("tiny");
    let init =
        srl_swe().args(["model", "init", "--preset", "tiny", "--seed", "3", "--out"]).arg(&ckpt).output().unwrap();
    assert!(init.status.success(), "model init failed: {}", String::from_utf8_lossy(&init.stderr));
    let id = &shipped_ids()[0];
    let out_dir = tmp.path().join("local");
    ok(&[
        "--model",
        "local",
        "--checkpoint",
        ckpt.to_str().unwrap(),
        "--max-tokens",
        "4",
        "--instance-id",
        id,
        "--out",
        out_dir.to_str().unwrap(),
    ]);
    let res = &jsonl(&out_dir.join("results.jsonl"))[0];
    assert_eq!(res["model_name_or_path"], "tiny");
    let sample = &res["samples"][0];
    assert!(sample["prompt_tokens"].as_u64().unwrap() > 100, "{res:#}");
    assert!((1..=4).contains(&sample["completion_tokens"].as_u64().unwrap()), "{res:#}");
    assert_eq!(res["resolved"], false);
}

/// A `diff --git` patch creating `path` with `content`.
fn new_file_patch(path: &str, content: &str) -> String {
    let lines: Vec<&str> = content.lines().collect();
    let mut p = format!(
        "diff --git a/{path} b/{path}\nnew file mode 100644\n--- /dev/null\n+++ b/{path}\n@@ -0,0 +1,{} @@\n",
        lines.len()
    );
    for l in lines {
        p.push_str(&format!("+{l}\n"));
    }
    p
}

/// A patch replacing the whole of `path` (its current text `old`) by `new`.
fn rewrite_patch(path: &str, old: &str, new: &str) -> String {
    let (o, n): (Vec<&str>, Vec<&str>) = (old.lines().collect(), new.lines().collect());
    let mut p =
        format!("diff --git a/{path} b/{path}\n--- a/{path}\n+++ b/{path}\n@@ -1,{} +1,{} @@\n", o.len(), n.len());
    for l in o {
        p.push_str(&format!("-{l}\n"));
    }
    for l in n {
        p.push_str(&format!("+{l}\n"));
    }
    p
}

/// A conftest.py that reports every test as passed.
const ALL_PASS_CONFTEST: &str = "import pytest\n\n\n@pytest.hookimpl(hookwrapper=True)\ndef pytest_runtest_makereport(item, call):\n    outcome = yield\n    report = outcome.get_result()\n    report.outcome = \"passed\"\n";

/// A prediction that rewrites or overrides the tests that grade it never resolves,
/// for SWE-bench-shape instances (`environments/ledger`: tests only in `test_patch`) and
/// SWE-smith-shape ones (`environments/minicalc`); the gold patch of the SWE-bench-shape
/// environment resolves through the whole SWE-bench path (test-file reset, test-patch apply,
/// directives from the test patch, `parse_log_pytest`).
#[test]
fn test_tampering_patches_do_not_resolve() {
    let tmp = tempfile::tempdir().unwrap();
    let root = repo_root();
    let ledger = jsonl(&root.join("environments/ledger/instances.jsonl"));
    let minicalc = jsonl(&root.join("environments/minicalc/instances.jsonl"));
    let old_tests = std::fs::read_to_string(root.join("environments/ledger/repo/tests/test_money.py")).unwrap();
    let fake_tests = "def test_parse_negative():\n    pass\n";
    let preds = [
        (ledger[0]["instance_id"].clone(), rewrite_patch("tests/test_money.py", &old_tests, fake_tests)),
        (ledger[1]["instance_id"].clone(), new_file_patch("conftest.py", ALL_PASS_CONFTEST)),
        (minicalc[0]["instance_id"].clone(), new_file_patch("tests/conftest.py", ALL_PASS_CONFTEST)),
    ];
    let preds_file = tmp.path().join("preds.jsonl");
    let text: String = preds
        .iter()
        .map(|(id, p)| {
            format!("{}\n", serde_json::json!({"instance_id": id, "model_name_or_path": "tamper", "model_patch": p}))
        })
        .collect();
    std::fs::write(&preds_file, text).unwrap();
    let ids: Vec<String> = preds.iter().map(|(id, _)| id.as_str().unwrap().to_string()).collect();
    let out_dir = tmp.path().join("tamper");
    ok(&[
        "--model",
        "replay",
        "--predictions",
        preds_file.to_str().unwrap(),
        "--instance-id",
        &ids.join(","),
        "--out",
        out_dir.to_str().unwrap(),
    ]);
    let results = jsonl(&out_dir.join("results.jsonl"));
    assert_eq!(results.len(), 3);
    for r in &results {
        assert_eq!(r["patch_applied"], true, "{r:#}");
        assert_eq!(r["resolved"], false, "a test-tampering patch resolved: {r:#}");
        assert_eq!(r["log_valid"], true, "{r:#}");
        assert!(!r["tests_status"]["FAIL_TO_PASS"]["failure"].as_array().unwrap().is_empty(), "{r:#}");
    }

    // The gold fix of the SWE-bench-shape environment resolves, its empty patch does not.
    let gold_dir = tmp.path().join("gold");
    ok(&[
        "--instances",
        root.join("environments/ledger/instances.jsonl").to_str().unwrap(),
        "--model",
        "gold",
        "--out",
        gold_dir.to_str().unwrap(),
    ]);
    for r in jsonl(&gold_dir.join("results.jsonl")) {
        assert_eq!(r["outcome"], "resolved", "{r:#}");
        // The F2P tests exist only in the test patch: they ran.
        assert!(
            r["test_statuses"]
                .as_object()
                .unwrap()
                .keys()
                .any(|k| ledger.iter().any(|l| l["FAIL_TO_PASS"][0] == k.as_str())),
            "{r:#}"
        );
    }
    let empty_dir = tmp.path().join("empty");
    ok(&[
        "--instances",
        root.join("environments/ledger/instances.jsonl").to_str().unwrap(),
        "--model",
        "empty",
        "--out",
        empty_dir.to_str().unwrap(),
    ]);
    for r in jsonl(&empty_dir.join("results.jsonl")) {
        assert_eq!(r["resolved"], false, "{r:#}");
        assert_eq!(r["log_valid"], true, "{r:#}");
        assert_eq!(r["tests_status"]["FAIL_TO_PASS"]["success"].as_array().unwrap().len(), 0, "{r:#}");
    }
}

/// Ctrl-C records no interrupted instance as a result, exits 130, and the re-run
/// evaluates the rest, ending with every gold patch resolved.
#[test]
fn ctrl_c_records_nothing_in_flight_and_the_rerun_finishes() {
    let tmp = tempfile::tempdir().unwrap();
    let out_dir = tmp.path().join("int");
    let dir = out_dir.to_str().unwrap();
    ok(&["--model", "empty", "--limit", "1", "--out", tmp.path().join("warm").to_str().unwrap()]); // images built
    let mut child = srl_swe()
        .args(["eval", "--model", "gold", "--workers", "2", "--no-build", "--out", dir])
        .env("SRL_SWE_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let results = out_dir.join("results.jsonl");
    let t0 = std::time::Instant::now();
    while std::fs::read_to_string(&results).map(|s| s.lines().count()).unwrap_or(0) < 1 {
        assert!(t0.elapsed().as_secs() < 300, "no instance finished in 300 s");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let kill = std::process::Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(kill.success());
    let status = child.wait().unwrap();
    let mut stderr = String::new();
    child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
    assert_eq!(status.code(), Some(130), "{stderr}");
    let done = jsonl(&results);
    assert!(done.len() < shipped_ids().len(), "interrupted too late to test: {}", done.len());
    for r in &done {
        assert_eq!(r["outcome"], "resolved", "an interrupted instance was recorded: {r:#}");
    }
    ok(&["--model", "gold", "--workers", "2", "--no-build", "--out", dir]);
    let r = report(&out_dir);
    assert_eq!(r["resolved"], shipped_ids().len(), "{r:#}");
    assert_eq!(r["run"]["resumed"], done.len(), "{r:#}");
}
