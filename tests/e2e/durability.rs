//! Durability of `srl-swe train`, through the binary: a folder of weights
//! without `config.json` is never overwritten, `--resume` falls back past a damaged newest
//! checkpoint (and still ends where an uninterrupted run ends), the first run (which creates
//! the model) trains the same model as later identical runs, and resource bounds on the config.
use crate::common::{repo_root, srl_swe};
use std::path::{Path, PathBuf};
use std::process::Output;

/// A temp folder holding the demo config and its toy data, as a user's checkout would.
fn demo_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for f in [
        "configs/demo.toml",
        "datasets/toy-srl/train.jsonl",
        "datasets/toy-srl/val.jsonl",
        "datasets/toy-srl/vocab.json",
    ] {
        let dst = dir.path().join(f);
        std::fs::create_dir_all(dst.parent().unwrap()).unwrap();
        std::fs::copy(repo_root().join(f), dst).unwrap();
    }
    dir
}

/// `srl-swe train` in `dir` with a short schedule (6 steps, a checkpoint every 2) and `extra`.
fn train(dir: &Path, extra: &[&str]) -> Output {
    let mut cmd = srl_swe();
    cmd.current_dir(dir).arg("train");
    for s in ["stages.0.steps=6", "checkpoint.every=2", "checkpoint.keep-last=5", "validation.every=1000"] {
        cmd.args(["--set", s]);
    }
    cmd.args(extra).output().unwrap()
}

fn ok(out: Output) -> serde_json::Value {
    assert!(out.status.success(), "train failed:\n{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn checkpoint(dir: &Path, step: u64) -> PathBuf {
    dir.join(format!("out/runs/demo/checkpoint-{step}"))
}

fn weights(ckpt: &Path) -> Vec<u8> {
    std::fs::read(ckpt.join("model.safetensors")).unwrap_or_else(|e| panic!("{}: {e}", ckpt.display()))
}

#[test]
fn train_refuses_to_initialize_over_weights_without_config_json() {
    let dir = demo_dir();
    let model = dir.path().join("models/toy-tiny");
    std::fs::create_dir_all(&model).unwrap();
    let precious = b"weights the user trained for a week".to_vec();
    std::fs::write(model.join("model.safetensors"), &precious).unwrap();
    let out = train(dir.path(), &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "train must refuse, got success:\n{stderr}");
    assert!(stderr.contains("config.json") && stderr.contains("model.safetensors"), "{stderr}");
    assert!(stderr.contains("models/toy-tiny"), "the error names the folder: {stderr}");
    assert_eq!(std::fs::read(model.join("model.safetensors")).unwrap(), precious, "the weights were overwritten");
    assert!(!model.join("config.json").exists(), "nothing new was written into the folder");
}

#[test]
fn resume_falls_back_past_a_damaged_newest_checkpoint_and_ends_like_a_straight_run() {
    // The reference: six steps without interruption.
    let straight = demo_dir();
    let s = ok(train(straight.path(), &[]));
    assert_eq!(s["steps"].as_u64(), Some(6), "{s}");
    // Interrupted after 4 steps (checkpoints 2 and 4), then the newest is damaged as a crash or
    // a full disk leaves it: its weights cut short.
    let dir = demo_dir();
    ok(train(dir.path(), &["--stop-after", "4"]));
    let newest = checkpoint(dir.path(), 4);
    let w = weights(&newest);
    std::fs::write(newest.join("model.safetensors"), &w[..w.len() / 3]).unwrap();
    let out = train(dir.path(), &["--resume"]);
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    let r = ok(out);
    assert!(stderr.contains("damaged checkpoint"), "a warning names the damaged checkpoint:\n{stderr}");
    assert!(stderr.contains("checkpoint-4"), "{stderr}");
    assert_eq!(r["steps"].as_u64(), Some(6), "{r}");
    // Resumed from step 2, steps 3..6 ran again and the result is the straight run's.
    assert_eq!(weights(&checkpoint(dir.path(), 6)), weights(&checkpoint(straight.path(), 6)));
}

#[test]
fn the_first_run_trains_the_same_model_as_later_identical_runs() {
    let dir = demo_dir();
    assert!(!dir.path().join("models/toy-tiny").exists());
    ok(train(dir.path(), &["--set", "stages.0.steps=3"]));
    assert!(dir.path().join("models/toy-tiny/config.json").exists(), "the first run created the model");
    let first = weights(&checkpoint(dir.path(), 3));
    let first_metrics = rewards(dir.path());
    std::fs::rename(dir.path().join("out"), dir.path().join("out-first")).unwrap();
    // Same config and seed, the model now exists and is loaded instead of created.
    ok(train(dir.path(), &["--set", "stages.0.steps=3"]));
    assert_eq!(rewards(dir.path()), first_metrics, "per-step rewards differ between the first and a later run");
    assert_eq!(weights(&checkpoint(dir.path(), 3)), first, "the trained weights differ");
}

/// Per-step (step, reward_mean, loss) of the run's metrics, without the timing fields.
fn rewards(dir: &Path) -> Vec<(u64, f64, f64)> {
    std::fs::read_to_string(dir.join("out/runs/demo/metrics.jsonl"))
        .unwrap()
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            (v["step"].as_u64().unwrap(), v["reward_mean"].as_f64().unwrap(), v["loss"].as_f64().unwrap())
        })
        .collect()
}

#[test]
fn group_sizes_that_cannot_train_or_would_exhaust_memory_are_refused_before_starting() {
    for (value, says) in [("1", "≥ 2"), ("100000000", "rollout.group-size")] {
        let dir = demo_dir();
        let out = train(dir.path(), &["--set", &format!("rollout.group-size={value}")]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "group-size={value}: {stderr}");
        assert!(stderr.contains("rollout.group-size") && stderr.contains(says), "group-size={value}: {stderr}");
        assert!(!dir.path().join("models/toy-tiny").exists(), "group-size={value}: refused before any work");
    }
}
