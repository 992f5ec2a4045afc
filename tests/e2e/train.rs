//! `srl-swe train` (GRPO on the toy task with the demo config) and `srl-swe eval --mode math`.
use crate::common::{repo_root, srl_swe};
use std::path::Path;

fn copy(rel: &str, to: &Path) {
    let dst = to.join(rel);
    std::fs::create_dir_all(dst.parent().unwrap()).unwrap();
    std::fs::copy(repo_root().join(rel), dst).unwrap();
}

#[test]
fn train_with_no_arguments_runs_the_demo_config() {
    let dir = tempfile::tempdir().unwrap();
    for f in [
        "configs/demo.toml",
        "datasets/toy-srl/train.jsonl",
        "datasets/toy-srl/val.jsonl",
        "datasets/toy-srl/vocab.json",
    ] {
        copy(f, dir.path());
    }
    let out = srl_swe().arg("train").current_dir(dir.path()).output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let steps = summary["steps"].as_u64().unwrap();
    assert!(steps >= 10, "{summary}");
    let run = dir.path().join("out/runs/demo");
    let metrics = std::fs::read_to_string(run.join("metrics.jsonl")).unwrap();
    assert_eq!(metrics.lines().count() as u64, steps);
    let first: serde_json::Value = serde_json::from_str(metrics.lines().next().unwrap()).unwrap();
    for key in [
        "reward_mean",
        "filter_rate",
        "clip_frac",
        "entropy",
        "grad_norm",
        "lr",
        "rollout_s",
        "update_s",
        "update_tokens_per_s",
    ] {
        assert!(first[key].is_number(), "{key} missing in {first}");
    }
    assert!(std::fs::read(run.join("curves.png")).unwrap().starts_with(b"\x89PNG"));
    let config = std::fs::read_to_string(run.join("config.toml")).unwrap();
    assert!(config.contains("seed = 1"), "{config}");
    let ckpt = Path::new(summary["last_checkpoint"].as_str().unwrap());
    let ckpt = if ckpt.is_absolute() { ckpt.to_path_buf() } else { dir.path().join(ckpt) };
    for f in ["config.json", "model.safetensors", "optimizer.safetensors", "trainer_state.json", "tokenizer.json"] {
        assert!(ckpt.join(f).exists(), "{} lacks {f}", ckpt.display());
    }
    // Resuming a finished run trains nothing more and keeps the step count.
    let again = srl_swe().args(["train", "--resume"]).current_dir(dir.path()).output().unwrap();
    assert!(again.status.success(), "{}", String::from_utf8_lossy(&again.stderr));
    let s2: serde_json::Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!(s2["steps"].as_u64().unwrap(), steps);
}

#[test]
fn train_rejects_bad_overrides_naming_the_key() {
    let out = srl_swe().args(["train", "--set", "rollout.group-size=0"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("rollout.group-size"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = srl_swe().args(["train", "--set", "rollout.bogus=1"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("bogus"), "{}", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn eval_math_writes_greedy_and_avg_at_k_per_dataset() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("tiny");
    let init = srl_swe().args(["model", "init", "--preset", "tiny", "--out"]).arg(&model).output().unwrap();
    assert!(init.status.success(), "{}", String::from_utf8_lossy(&init.stderr));
    let out_dir = dir.path().join("eval");
    let out = srl_swe()
        .args(["eval", "--mode", "math", "--samples", "2", "--max-tokens", "6", "--checkpoint"])
        .arg(&model)
        .arg("--out")
        .arg(&out_dir)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out_dir.join("summary.json")).unwrap()).unwrap();
    for name in ["aime24", "amc23", "minerva_math"] {
        let s = &summary["datasets"][name];
        let n = s["problems"].as_u64().unwrap();
        let rows = std::fs::read_to_string(repo_root().join(format!("datasets/math-eval/{name}/test.jsonl"))).unwrap();
        assert_eq!(n as usize, rows.lines().filter(|l| !l.trim().is_empty()).count(), "{summary}");
        let acc = s["greedy_accuracy"].as_f64().unwrap();
        let avg = s["avg_at_k"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&acc) && (0.0..=1.0).contains(&avg), "{summary}");
        let results = std::fs::read_to_string(out_dir.join(name).join("results.jsonl")).unwrap();
        assert_eq!(results.lines().count() as u64, n);
        let r: serde_json::Value = serde_json::from_str(results.lines().next().unwrap()).unwrap();
        assert_eq!(r["k"], 2);
        assert!(r["greedy_correct"].is_boolean() && r["answer"].is_string(), "{r}");
    }
    // Missing checkpoint: a clear error.
    let out = srl_swe().args(["eval", "--mode", "math"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--checkpoint"));
}

/// Prepares the shipped SWE-smith sample and writes a tiny checkpoint into `dir` (as
/// `scripts/demo.sh` does).
fn swe_data_and_tiny_model(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let prep = dir.join("prepare");
    let out = srl_swe().args(["prepare", "datasets/swe-smith", "--out"]).arg(&prep).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let model = dir.join("tiny");
    let init = srl_swe().args(["model", "init", "--preset", "tiny", "--out"]).arg(&model).output().unwrap();
    assert!(init.status.success(), "{}", String::from_utf8_lossy(&init.stderr));
    (prep, model)
}

fn eval_srl(checkpoint: &Path, instances: &Path, out: &Path) -> serde_json::Value {
    let o = srl_swe()
        .args(["eval", "--mode", "srl", "--max-tokens", "64", "--checkpoint"])
        .arg(checkpoint)
        .arg("--instances")
        .arg(instances)
        .arg("--out")
        .arg(out)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_str(&std::fs::read_to_string(out.join("report.json")).unwrap()).unwrap()
}

/// The untrained tiny model fails the SRL format on the prepared SWE steps (the baseline the
/// demo's learning is measured against).
#[test]
fn eval_srl_scores_an_untrained_tiny_model_on_prepared_swe_steps() {
    let dir = tempfile::tempdir().unwrap();
    let (prep, model) = swe_data_and_tiny_model(dir.path());
    let val = prep.join("val.jsonl");
    let before = eval_srl(&model, &val, &dir.path().join("before"));
    let n_val = std::fs::read_to_string(&val).unwrap().lines().filter(|l| !l.trim().is_empty()).count();
    assert_eq!(before["instances"].as_u64().unwrap() as usize, n_val, "{before}");
    assert!(before["format_error_rate"].as_f64().unwrap() > 0.9, "untrained: {before}");
    // Over 90% format errors (−1 each) bound the mean reward by −0.9 + 0.1.
    assert!(before["mean_reward"].as_f64().unwrap() <= -0.8, "{before}");
    let results = std::fs::read_to_string(dir.path().join("before/results.jsonl")).unwrap();
    assert_eq!(results.lines().count(), n_val);
    let first: serde_json::Value = serde_json::from_str(results.lines().next().unwrap()).unwrap();
    assert!(first["outputs"].as_array().unwrap().len() == 1 && first["target"].is_string(), "{first}");
}
