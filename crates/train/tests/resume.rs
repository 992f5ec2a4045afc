//! Exact resume: a seeded run of 6 steps and a run of 3 steps + `--resume` for 3 more end with
//! bit-identical weights and optimizer moments (the trainer derives every random draw from
//! (seed, step, round) and checkpoints weights, AdamW moments, step, stage and data cursor).

mod support;

use srl_train::config::RunConfig;
use srl_train::{train, NoReporter, TrainOptions};
use std::path::Path;

fn config(out: &Path) -> srl_train::ResolvedConfig {
    let r = support::repo();
    let text = format!(
        r#"
{header}[rollout]
group-size = 4
max-new-tokens = 6
response-prefix = "<think>"
[optimizer]
lr = 1e-3
[schedule]
kind = "cosine"
warmup-steps = 2
[batch]
prompts-per-step = 4
mini-batches = 2
ppo-epochs = 2
micro-batch-size = 3
[checkpoint]
keep-last = 5
[validation]
every = 2
max-items = 4
[[stages]]
name = "srl"
data = "{r}/datasets/toy-srl/train.jsonl"
val-data = "{r}/datasets/toy-srl/val.jsonl"
reward = "srl"
steps = 6
"#,
        header = support::toy_header(out, 11),
        r = r.display()
    );
    RunConfig::from_toml_str(&text, Path::new("resume.toml"), &[]).unwrap().resolve().unwrap()
}

#[test]
fn six_steps_equal_three_plus_resumed_three() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let full = train(&config(a.path()), &TrainOptions::default(), &NoReporter).unwrap();
    assert_eq!(full.steps, 6);
    // The best checkpoint by validation is written when found and survives retention.
    let best = full.best.clone().unwrap();
    assert!(a.path().join(format!("run/checkpoint-{}", best.step)).join("model.safetensors").exists(), "{best:?}");
    let half =
        train(&config(b.path()), &TrainOptions { stop_after: Some(3), ..Default::default() }, &NoReporter).unwrap();
    assert_eq!(half.steps, 3);
    assert!(half.last_checkpoint.as_ref().unwrap().ends_with("checkpoint-3"));
    let rest = train(&config(b.path()), &TrainOptions { resume: true, ..Default::default() }, &NoReporter).unwrap();
    assert_eq!(rest.steps, 6);
    let ca = full.last_checkpoint.unwrap();
    let cb = rest.last_checkpoint.unwrap();
    assert!(ca.ends_with("checkpoint-6") && cb.ends_with("checkpoint-6"), "{ca:?} {cb:?}");
    for file in ["model.safetensors", "optimizer.safetensors"] {
        let x = std::fs::read(ca.join(file)).unwrap();
        let y = std::fs::read(cb.join(file)).unwrap();
        assert!(x == y, "{file} differs between the straight and the resumed run");
    }
    // Training moved the weights at all.
    let init = std::fs::read(a.path().join("model/model.safetensors")).unwrap();
    assert!(init != std::fs::read(ca.join("model.safetensors")).unwrap());
    // The metrics of the resumed run continue the straight run's, step for step.
    let rec = |d: &Path| -> Vec<(u64, f64)> {
        std::fs::read_to_string(d.join("run/metrics.jsonl"))
            .unwrap()
            .lines()
            .map(|l| {
                let v: serde_json::Value = serde_json::from_str(l).unwrap();
                (v["step"].as_u64().unwrap(), v["reward_mean"].as_f64().unwrap())
            })
            .collect()
    };
    assert_eq!(rec(a.path()), rec(b.path()));
    let state: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(cb.join("trainer_state.json")).unwrap()).unwrap();
    assert_eq!(state["global_step"], 6);
    assert!(b.path().join("run/curves.png").exists() && b.path().join("run/config.toml").exists());
}
