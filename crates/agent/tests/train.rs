//! `sft → srl → rlvr-swe` end to end with the tiny preset: the SFT and SRL stages on step
//! instances, then 2 GRPO steps whose rollouts are multi-turn episodes in real containers of two
//! shipped environments (`rollout = { type = "swe-episode" }`, `reward = "resolved"`), through
//! the same stage hook `srl-swe train` uses. The run writes the trainer's metrics and the
//! episode metrics (turns per episode, resolve rate, environment vs generation time) and leaves
//! no container. Needs Docker and the images of `srl-swe sandbox build`.
use srl_train::config::RunConfig;
use srl_train::{NoReporter, TrainOptions};
use std::path::PathBuf;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

#[test]
fn sft_srl_then_two_swe_episode_steps_over_two_environments() {
    let tmp = tempfile::tempdir().unwrap();
    let run_dir = tmp.path().join("run");
    let steps = repo().join("crates/trajectory/tests/golden/instances.jsonl");
    let toml = format!(
        r#"
seed = 2
output-dir = {run:?}
threads = 1
[model]
path = {model:?}
init = "tiny"
init-corpus = [{envs:?}]
[rollout]
group-size = 2
max-new-tokens = 24
response-prefix = "<think>"
generation-batch = 8
[dynamic-sampling]
max-rounds = 1
[optimizer]
lr = 1e-3
[batch]
prompts-per-step = 2
micro-batch-size = 2
[validation]
at-start = false
[[stages]]
name = "sft"
kind = "sft"
data = {steps:?}
steps = 1
[[stages]]
name = "srl"
data = {steps:?}
reward = "srl"
steps = 1
[[stages]]
name = "rlvr-swe"
data = {envs:?}
rollout = {{ type = "swe-episode", max-turns = 2, max-context-tokens = 6000, instances = ["srl-swe__textkit.ea4138a2.func_pm_op_change__699bb2e0", "srl-swe__minicalc.4a38d7ae.lm_rewrite__3df2684b"] }}
reward = "resolved"
steps = 2
"#,
        run = run_dir.display().to_string(),
        model = tmp.path().join("model").display().to_string(),
        envs = repo().join("environments").display().to_string(),
        steps = steps.display().to_string(),
    );
    let path = tmp.path().join("run.toml");
    std::fs::write(&path, &toml).unwrap();
    let cfg = RunConfig::load(&path, &[]).unwrap().resolve().unwrap();
    let factory = srl_agent::source_factory(&cfg.run);
    let summary = srl_train::train_with_sources(&cfg, &TrainOptions::default(), &NoReporter, &factory).unwrap();
    assert_eq!(summary.steps, 4);

    let metrics = std::fs::read_to_string(run_dir.join("metrics.jsonl")).unwrap();
    let lines: Vec<serde_json::Value> = metrics.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 4);
    let swe: Vec<&serde_json::Value> = lines.iter().filter(|l| l["stage"] == "rlvr-swe").collect();
    assert_eq!(swe.len(), 2);
    assert!(swe.iter().all(|l| l["rollout_s"].as_f64().unwrap() > 0.0 && l["scoring_s"].as_f64().unwrap() > 0.0));

    let episodes = std::fs::read_to_string(run_dir.join("episodes.jsonl")).unwrap();
    let eps: Vec<serde_json::Value> = episodes.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(eps.len(), 2 * 2 * 2, "2 steps × 2 tasks × G = 2");
    let envs: std::collections::BTreeSet<&str> =
        eps.iter().map(|e| e["instance_id"].as_str().unwrap().split('.').next().unwrap()).collect();
    assert_eq!(envs.len(), 2, "{envs:?}");
    assert!(eps.iter().all(|e| (1..=2).contains(&e["turns"].as_u64().unwrap()) && e["error"].is_null()), "{eps:?}");
    let rounds = std::fs::read_to_string(run_dir.join("episode_rounds.jsonl")).unwrap();
    let rounds: Vec<serde_json::Value> = rounds.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(rounds.len(), 2);
    for r in &rounds {
        assert!(r["turns_per_episode"].as_f64().unwrap() >= 1.0, "{r}");
        assert!((0.0..=1.0).contains(&r["resolve_rate"].as_f64().unwrap()), "{r}");
        assert!(r["env_s"].as_f64().unwrap() > 0.0 && r["generate_s"].as_f64().unwrap() > 0.0, "{r}");
    }

    let run_id = srl_sandbox::default_run_id();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    let left = rt.block_on(async {
        let docker = srl_sandbox::docker::connect().await.unwrap();
        srl_sandbox::docker::gc(&docker, srl_sandbox::docker::GcScope::Run(&run_id)).await.unwrap().removed.len()
    });
    assert_eq!(left, 0, "containers left behind");
}
