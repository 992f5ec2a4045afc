//! `srl-swe replay` on the shipped environments (Docker, environment images built by
//! `bash scripts/setup.sh`).
use crate::common::{repo_root, srl_swe};
use std::process::Command;

fn summary(stdout: &[u8]) -> serde_json::Value {
    serde_json::from_slice(stdout)
        .unwrap_or_else(|e| panic!("summary JSON on stdout: {e}: {}", String::from_utf8_lossy(stdout)))
}

#[test]
fn shipped_expert_trajectories_replay_and_resolve() {
    let out_dir = tempfile::tempdir().unwrap();
    let out = srl_swe()
        .args(["replay", "datasets/swe-smith-src", "--jobs", "3", "--out"])
        .arg(out_dir.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let s = summary(&out.stdout);
    assert_eq!(s["trajectories"], 9, "{s}");
    assert_eq!(s["resolved"], 9, "{s}");
    // Not 1: pytest timings differ, and in the sandbox's tmpfs copy of /testbed the file that
    // the task checkout rewrites moves to the top of its folder's listing (docs/sandbox.md).
    assert!(s["mean_similarity"].as_f64().unwrap() > 0.94, "{s}");
    for row in s["results"].as_array().unwrap() {
        assert_eq!(row["patch_matches"], true, "{row}");
        let traj = row["traj_id"].as_str().unwrap();
        let text = std::fs::read_to_string(out_dir.path().join(format!("{traj}.jsonl"))).unwrap();
        let lines: Vec<serde_json::Value> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(lines.last().unwrap()["type"], "replay_result");
        assert_eq!(lines.len(), row["num_steps"].as_u64().unwrap() as usize + 1);
        assert!(lines[..lines.len() - 1]
            .iter()
            .all(|l| l["type"] == "replay_step" && l["similarity"].as_f64().unwrap() > 0.7));
    }
    assert!(out_dir.path().join("summary.json").is_file());
}

#[test]
fn rendered_tool_split_samples_replay() {
    // Render the spec files with the dataset generator into a scratch copy, then replay the
    // tool-split JSONL it writes (the format of datasets/swe-smith/jsonl/tool.jsonl).
    let scratch = tempfile::tempdir().unwrap();
    let src = repo_root().join("datasets");
    let copy = Command::new("cp").arg("-r").arg(&src).arg(scratch.path()).status().unwrap();
    assert!(copy.success());
    let python = std::env::var("SRL_SWE_PYTHON").unwrap_or_else(|_| "python3".into());
    let gen = Command::new(&python).arg(scratch.path().join("datasets/make_samples.py")).output().unwrap();
    assert!(
        gen.status.success(),
        "{} datasets/make_samples.py failed (run bash scripts/setup.sh for the venv with pyarrow): {}",
        python,
        String::from_utf8_lossy(&gen.stderr)
    );
    let tool = scratch.path().join("datasets/swe-smith/jsonl/tool.jsonl");
    let out_dir = scratch.path().join("out");
    let out = srl_swe()
        .arg("replay")
        .arg(&tool)
        .args(["--traj", "srl-swe__textkit.ea4138a2.func_pm_op_change__699bb2e0.614b68d8", "--out"])
        .arg(&out_dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let s = summary(&out.stdout);
    assert_eq!(s["resolved"], 1, "{s}");
}

#[test]
fn unresolved_trajectories_exit_1_and_bad_input_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    // An agent that only looks around and submits: not resolved.
    let messages = serde_json::json!([
        {"role": "system", "content": "You are a helpful assistant."},
        {"role": "user", "content": [{"type": "text", "text": "task"}]},
        {"role": "assistant", "content": "look", "tool_calls": [{"index": 1, "id": "a", "type": "function", "function": {"name": "bash", "arguments": "{\"command\": \"ls\"}"}}]},
        {"role": "tool", "content": [{"type": "text", "text": "OBSERVATION:\nREADME.md\nminicalc\ntests\n"}], "tool_call_ids": ["a"]},
        {"role": "assistant", "content": "submit", "tool_calls": [{"index": 1, "id": "b", "type": "function", "function": {"name": "submit", "arguments": "{}"}}]},
        {"role": "tool", "content": [{"type": "text", "text": "OBSERVATION:\n"}], "tool_call_ids": ["b"]}
    ]);
    let row = serde_json::json!({
        "messages": messages.to_string(),
        "instance_id": "srl-swe__minicalc.4a38d7ae.func_pm_remove_cond__1577561e",
        "resolved": false, "model": "m", "traj_id": "srl-swe__minicalc.4a38d7ae.func_pm_remove_cond__1577561e.lazy0000", "patch": ""
    });
    let file = dir.path().join("tool.jsonl");
    std::fs::write(&file, format!("{row}\n")).unwrap();
    let out = srl_swe().arg("replay").arg(&file).arg("--out").arg(dir.path().join("out")).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let s = summary(&out.stdout);
    assert_eq!(s["unresolved"], 1);
    assert_eq!(s["results"][0]["exact_steps"], 1, "`ls` in /testbed gives the recorded observation: {s}");

    std::fs::write(&file, format!("{row}\n{{\"instance_id\": 3}}\n")).unwrap();
    let out = srl_swe().arg("replay").arg(&file).arg("--out").arg(dir.path().join("out2")).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("tool.jsonl:2: field instance_id: missing or not a string"), "{stderr}");

    let specs = dir.path().join("specs");
    std::fs::create_dir_all(&specs).unwrap();
    let unknown = serde_json::json!({
        "instance_id": "nobody__nothing.00000000.lm_rewrite__00000000", "traj_id": "nobody__nothing.00000000.lm_rewrite__00000000.00000000",
        "model": "m", "resolved": true, "problem_statement": "p", "steps": [], "patch": ""
    });
    std::fs::write(specs.join("unknown.json"), unknown.to_string()).unwrap();
    let out =
        srl_swe().arg("replay").arg(&specs).arg("--strict").arg("--out").arg(dir.path().join("out3")).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("name tasks missing from environments"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn ctrl_c_removes_the_containers_of_the_run() {
    let out_dir = tempfile::tempdir().unwrap();
    let mut child = srl_swe()
        .args(["replay", "datasets/swe-smith-src", "--jobs", "2", "--out"])
        .arg(out_dir.path())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let prefix = format!("{}-", child.id());
    let runs = || {
        let out = Command::new("docker")
            .args(["ps", "-a", "--filter", "label=srl-swe=1", "--format", "{{.Label \"srl-swe.run\"}}"])
            .output()
            .expect("the docker CLI (tests only)");
        String::from_utf8_lossy(&out.stdout).lines().filter(|l| l.starts_with(&prefix)).count()
    };
    let t0 = std::time::Instant::now();
    while runs() == 0 {
        assert!(t0.elapsed() < std::time::Duration::from_secs(60), "replay never started a container");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let kill = Command::new("kill").args(["-INT", &child.id().to_string()]).status().unwrap();
    assert!(kill.success());
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130), "{status:?}");
    assert_eq!(runs(), 0, "no container of the interrupted run is left");
}

#[test]
fn default_inputs_are_the_shipped_samples() {
    let out_dir = tempfile::tempdir().unwrap();
    let out = srl_swe()
        .args(["replay", "datasets/swe-smith/jsonl/tool.jsonl", "datasets/swe-smith-src", "--jobs", "3", "--out"])
        .arg(out_dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let s = summary(&out.stdout);
    assert_eq!(s["trajectories"], 9, "rendered samples and their specs are the same trajectories: {s}");
    assert_eq!(s["resolved"], 9, "{s}");
}

#[test]
fn xml_and_ticks_parquet_shards_replay_through_the_prepare_readers() {
    // The same expert trajectory rendered in the xml and ticks splits (parquet shards, read by
    // srl-trajectory as `srl-swe prepare` reads them) must re-execute and resolve its task.
    for split in ["xml", "ticks"] {
        let out_dir = tempfile::tempdir().unwrap();
        let shard = repo_root().join(format!("datasets/swe-smith/data/{split}-00000-of-00001.parquet"));
        let out = srl_swe()
            .arg("replay")
            .arg(&shard)
            .args(["--traj", "srl-swe__textkit.ea4138a2.func_pm_op_change__699bb2e0.614b68d8", "--out"])
            .arg(out_dir.path())
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{split}: {}", String::from_utf8_lossy(&out.stderr));
        let s = summary(&out.stdout);
        assert_eq!(s["resolved"], 1, "{split}: {s}");
        assert!(s["mean_similarity"].as_f64().unwrap() > 0.95, "{split}: {s}");
    }
}

#[test]
fn timeout_applies_to_bash_steps_and_huge_bad_values_are_not_echoed() {
    let dir = tempfile::tempdir().unwrap();
    let messages = serde_json::json!([
        {"role": "system", "content": "s"},
        {"role": "user", "content": [{"type": "text", "text": "task"}]},
        {"role": "assistant", "content": "wait", "tool_calls": [{"index": 1, "id": "a", "type": "function", "function": {"name": "bash", "arguments": "{\"command\": \"sleep 30; echo late\"}"}}]},
        {"role": "tool", "content": [{"type": "text", "text": "OBSERVATION:\nlate\n"}], "tool_call_ids": ["a"]}
    ]);
    let id = "srl-swe__minicalc.4a38d7ae.func_pm_remove_cond__1577561e";
    let row = serde_json::json!({"messages": messages.to_string(), "instance_id": id, "traj_id": format!("{id}.slow"), "patch": ""});
    let file = dir.path().join("tool.jsonl");
    std::fs::write(&file, format!("{row}\n")).unwrap();
    let out_dir = dir.path().join("out");
    let out = srl_swe().arg("replay").arg(&file).args(["--timeout", "2", "--out"]).arg(&out_dir).output().unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let text = std::fs::read_to_string(out_dir.join(format!("{id}.slow.jsonl"))).unwrap();
    let step: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    assert_eq!(step["timed_out"], true, "{step}");
    assert!(step["observed"].as_str().unwrap().contains("took more than 2 seconds"), "{step}");

    // A 50 MB field that is not what it should be: the error names the place, not the value.
    let huge = "y".repeat(50 << 20);
    let bad = serde_json::json!({"instance_id": id, "messages": format!("[{{\"role\": \"{huge}"), "traj_id": "t"});
    std::fs::write(&file, format!("{bad}\n")).unwrap();
    let out = srl_swe().arg("replay").arg(&file).arg("--out").arg(dir.path().join("out2")).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("tool.jsonl:1: field messages"), "{}", &stderr[..stderr.len().min(2000)]);
    assert!(stderr.len() < 10_000, "error output of {} bytes", stderr.len());
}
