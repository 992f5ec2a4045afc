//! SRL → RLVR in one run: two stages with their own data, reward (`srl`, then `math`) and
//! optimizer overrides; the second stage validates with the math evaluation code. The run also
//! exercises the KL penalty to a frozen reference, the dual clip and `seq-mean-token-mean`.

mod support;

use srl_train::config::RunConfig;
use srl_train::{train, NoReporter, TrainOptions};
use std::path::Path;

#[test]
fn srl_then_rlvr_stages_run_in_order_with_their_settings() {
    let r = support::repo();
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        r#"
{header}[rollout]
group-size = 4
max-new-tokens = 3
response-prefix = "<think>"
[algorithm]
kl-coef = 0.01
dual-clip = 3.0
loss-agg = "seq-mean-token-mean"
[optimizer]
lr = 1e-3
[batch]
prompts-per-step = 4
mini-batches = 2
[validation]
max-items = 4
at-start = false
[[stages]]
name = "srl"
data = "{r}/datasets/toy-srl/train.jsonl"
val-data = "{r}/datasets/toy-srl/val.jsonl"
reward = "srl"
steps = 2
[[stages]]
name = "rlvr"
data = "{r}/datasets/toy-srl/rlvr.jsonl"
val-data = "{r}/datasets/toy-srl/rlvr_val.jsonl"
reward = "math"
system-prompt = "count"
steps = 2
optimizer = {{ lr = 2e-4 }}
"#,
        header = support::toy_header(dir.path(), 5),
        r = r.display()
    );
    let cfg = RunConfig::from_toml_str(&text, Path::new("stages.toml"), &[]).unwrap().resolve().unwrap();
    let s = train(&cfg, &TrainOptions::default(), &NoReporter).unwrap();
    assert_eq!(s.steps, 4);
    // One validation at the end of each stage: SRL reward in [-1, 1], then math accuracy in [0, 1].
    assert_eq!(s.validations.iter().map(|v| v.0).collect::<Vec<_>>(), vec![2, 4]);
    assert!((-1.0..=1.0).contains(&s.validations[0].1) && (0.0..=1.0).contains(&s.validations[1].1), "{s:?}");
    let recs: Vec<serde_json::Value> = std::fs::read_to_string(dir.path().join("run/metrics.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let stages: Vec<&str> = recs.iter().map(|r| r["stage"].as_str().unwrap()).collect();
    assert_eq!(stages, vec!["srl", "srl", "rlvr", "rlvr"]);
    let lrs: Vec<f64> = recs.iter().map(|r| r["lr"].as_f64().unwrap()).collect();
    assert_eq!(lrs, vec![1e-3, 1e-3, 2e-4, 2e-4]);
    // The KL penalty to the frozen initial policy is measured once the policy has moved.
    assert!(recs.iter().any(|r| r["kl"].as_f64().unwrap() > 0.0), "{recs:?}");
    // Math rewards are 0/1: no format-error penalty in the RLVR stage.
    for r in &recs[2..] {
        let m = r["reward_mean"].as_f64().unwrap();
        assert!((0.0..=1.0).contains(&m), "{r}");
    }
    let state: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(s.last_checkpoint.unwrap().join("trainer_state.json")).unwrap())
            .unwrap();
    assert_eq!((state["global_step"].as_u64(), state["stage_index"].as_u64()), (Some(4), Some(2)));
}
