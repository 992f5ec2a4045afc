//! `kind = "sft"` stages: on the toy step-wise task, token-level cross-entropy on `<think>` +
//! `</think>` + the expert step (prompt masked) teaches the untrained `toy` model the format and
//! the answer: the greedy SRL validation reward rises by more than 0.8 from ≈ −1 (format errors) — which
//! also checks that the prompt/response alignment of the SFT loss and of generation agree. The
//! stage then resumes exactly and chains into a GRPO stage.

mod support;

use srl_train::config::RunConfig;
use srl_train::{train, NoReporter, TrainOptions};
use std::path::Path;

fn config(out: &Path, sft_steps: u64, srl_steps: u64) -> srl_train::ResolvedConfig {
    let r = support::repo();
    let srl = if srl_steps > 0 {
        format!(
            "[[stages]]\nname = \"srl\"\ndata = \"{r}/datasets/toy-srl/train.jsonl\"\nval-data = \"{r}/datasets/toy-srl/val.jsonl\"\nsteps = {srl_steps}\n",
            r = r.display()
        )
    } else {
        String::new()
    };
    let text = format!(
        r#"
{header}[rollout]
group-size = 4
max-new-tokens = 4
response-prefix = "<think>"
[optimizer]
lr = 3e-3
weight-decay = 0.0
[batch]
prompts-per-step = 16
micro-batch-size = 8
[checkpoint]
keep-last = 3
[validation]
every = 1000
[[stages]]
name = "sft"
kind = "sft"
data = "{r}/datasets/toy-srl/train.jsonl"
val-data = "{r}/datasets/toy-srl/val.jsonl"
steps = {sft_steps}
{srl}"#,
        header = support::toy_header(out, 3),
        r = r.display()
    );
    RunConfig::from_toml_str(&text, Path::new("sft.toml"), &[]).unwrap().resolve().unwrap()
}

#[test]
fn sft_teaches_the_format_and_the_answer_then_chains_into_grpo() {
    let dir = tempfile::tempdir().unwrap();
    let s = train(&config(dir.path(), 60, 2), &TrainOptions::default(), &NoReporter).unwrap();
    assert_eq!(s.steps, 62);
    // Validations: before training, end of SFT (step 60), end of SRL (step 62).
    let v: Vec<(u64, f64)> = s.validations.clone();
    assert_eq!(v.iter().map(|x| x.0).collect::<Vec<_>>(), vec![0, 60, 62], "{v:?}");
    assert!(v[0].1 < -0.5, "untrained model should mostly make format errors: {v:?}");
    assert!(v[1].1 - v[0].1 > 0.8, "SFT should teach the format and move toward the next step: {v:?}");
    let recs: Vec<serde_json::Value> = std::fs::read_to_string(dir.path().join("run/metrics.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let kinds: Vec<&str> = recs.iter().map(|r| r["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds.iter().filter(|k| **k == "sft").count(), 60);
    assert_eq!(&kinds[60..], &["grpo", "grpo"]);
    let loss = |i: usize| recs[i]["loss"].as_f64().unwrap();
    assert!(loss(59) < loss(0) / 4.0, "SFT loss {} → {}", loss(0), loss(59));
    // The SRL stage starts from the SFT policy: rollouts mostly follow the format.
    assert!(recs[60]["format_error_rate"].as_f64().unwrap() < 0.5, "{}", recs[60]);
}

#[test]
fn sft_resumes_exactly() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let full = train(&config(a.path(), 6, 0), &TrainOptions::default(), &NoReporter).unwrap();
    train(&config(b.path(), 6, 0), &TrainOptions { stop_after: Some(3), ..Default::default() }, &NoReporter).unwrap();
    let rest =
        train(&config(b.path(), 6, 0), &TrainOptions { resume: true, ..Default::default() }, &NoReporter).unwrap();
    assert_eq!((full.steps, rest.steps), (6, 6));
    for f in ["model.safetensors", "optimizer.safetensors"] {
        let x = std::fs::read(full.last_checkpoint.as_ref().unwrap().join(f)).unwrap();
        let y = std::fs::read(rest.last_checkpoint.as_ref().unwrap().join(f)).unwrap();
        assert!(x == y, "{f} differs between the straight and the resumed SFT run");
    }
}
