//! Proves the trainer learns: on the toy step-wise task of `datasets/toy-srl` (count up by one;
//! the expert's next step is the next number), a tiny randomly initialized Qwen2 trained with
//! GRPO on the SRL reward goes from mostly format errors (mean reward < 0.3) to mostly exact
//! next steps (mean reward > 0.7). With the advantage sign flipped the policy would be pushed
//! toward low-reward outputs (format errors, −1) and the mean would fall; with a wrong ratio
//! (e.g. no gradient through log π) nothing would change; either way this test fails. The sign
//! itself is checked directly in `grpo::tests::gradient_pushes_up_tokens_with_positive_advantage`.

mod support;

use srl_train::config::RunConfig;
use srl_train::{train, NoReporter, TrainOptions};
use std::path::Path;

fn config(out: &Path, steps: u64, extra: &str) -> RunConfig {
    let r = support::repo();
    let text = format!(
        r#"
{header}[rollout]
group-size = 16
max-new-tokens = 2
response-prefix = "<think>"
[algorithm]
entropy-coef = 0.03
clip-high = 0.28
[dynamic-sampling]
max-rounds = 3
[optimizer]
lr = 1e-3
weight-decay = 0.0
[batch]
prompts-per-step = 8
mini-batches = 4
ppo-epochs = 1
micro-batch-size = 32
[validation]
every = 1000
[[stages]]
name = "srl"
data = "{r}/datasets/toy-srl/train.jsonl"
val-data = "{r}/datasets/toy-srl/val.jsonl"
reward = "srl"
steps = {steps}
{extra}
"#,
        header = support::toy_header(out, 1),
        r = r.display()
    );
    RunConfig::from_toml_str(&text, Path::new("learning.toml"), &[]).unwrap()
}

#[test]
fn mean_srl_reward_rises_on_the_toy_task() {
    let dir = tempfile::tempdir().unwrap();
    let cfg = config(dir.path(), 300, "").resolve().unwrap();
    let t0 = std::time::Instant::now();
    let summary = train(&cfg, &TrainOptions::default(), &NoReporter).unwrap();
    let log = std::fs::read_to_string(dir.path().join("run/metrics.jsonl")).unwrap();
    let recs: Vec<serde_json::Value> = log.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let rewards: Vec<f64> = recs.iter().map(|r| r["reward_mean"].as_f64().unwrap()).collect();
    let first = rewards[..5].iter().sum::<f64>() / 5.0;
    let last = rewards[rewards.len() - 5..].iter().sum::<f64>() / 5.0;
    eprintln!("rewards {rewards:?}\nvalidations {:?}\n{:.1}s", summary.validations, t0.elapsed().as_secs_f64());
    assert!(first < 0.3, "initial mean reward {first} should be < 0.3");
    assert!(last > 0.7, "final mean reward {last} should be > 0.7 (curve {rewards:?})");
    let (v0, v1) = (summary.validations[0].1, summary.validations.last().unwrap().1);
    assert!(v1 > v0 && v1 > 0.7, "greedy validation reward {v0} → {v1}");
}
