//! `SweEpisodes` with real containers on the shipped environments: an expert trajectory's
//! actions replayed by the scripted policy resolve the task (reward 1) and the loss mask covers
//! exactly the policy's tokens; a policy that submits at once gets 0; a malformed turn is a
//! counted format error, not a crash; no container is left. Needs Docker, the base image
//! (`bash scripts/setup.sh`) and the environment images (`srl-swe sandbox build`).
use srl_agent::{ScriptedPolicy, SweEpisodes, SweEpisodesOptions};
use srl_model::{DType, Device, GenerationConfig, Policy};
use srl_train::config::{EpisodeReward, SweEpisodeConfig};
use srl_train::rollout::RolloutRequest;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

/// The tiny preset (BPE tokenizer, Qwen2.5 chat template), made once per test binary.
fn tiny() -> Policy {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    let dir = DIR.get_or_init(|| {
        let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("agent-tiny-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        srl_model::init_checkpoint(&srl_model::InitOptions {
            preset: "tiny".parse().unwrap(),
            out: dir.clone(),
            seed: 3,
            dtype: DType::F32,
            corpus: vec![repo().join("environments"), repo().join("docs")],
        })
        .unwrap();
        dir
    });
    Policy::load(dir, Device::Cpu, DType::F32).unwrap()
}

fn run_id(name: &str) -> String {
    format!("agent-test-{name}-{}", std::process::id())
}

fn source(instance_id: &str, reward: EpisodeReward, run: &str, log: &Path) -> SweEpisodes {
    let inst = srl_sandbox::environments::find_instance(&repo().join("environments"), instance_id).unwrap();
    let episode = SweEpisodeConfig { max_turns: 30, max_context_tokens: 1 << 20, ..SweEpisodeConfig::default() };
    let mut options = SweEpisodesOptions::new(episode, reward);
    options.sandbox.run_id = Some(run.to_string());
    options.log_dir = Some(log.to_path_buf());
    SweEpisodes::new(vec![inst], options, repo().join("environments")).unwrap()
}

/// Containers of `run` still on the engine (removed if any, so a failure leaves none).
fn leftovers(run: &str) -> usize {
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let docker = srl_sandbox::docker::connect().await.expect("Docker: start dockerd (bash scripts/setup.sh)");
        srl_sandbox::docker::gc(&docker, srl_sandbox::docker::GcScope::Run(run)).await.unwrap().removed.len()
    })
}

const SPEC: &str = "datasets/swe-smith-src/srl-swe__textkit.ea4138a2.func_pm_op_change__699bb2e0.614b68d8.json";
const INSTANCE: &str = "srl-swe__textkit.ea4138a2.func_pm_op_change__699bb2e0";

#[test]
fn expert_replay_resolves_with_reward_one_and_the_mask_covers_exactly_its_tokens() {
    let policy = tiny();
    let turns = ScriptedPolicy::expert_turns(&repo().join(SPEC)).unwrap();
    let run = run_id("expert");
    let log = tempfile::tempdir().unwrap();
    let mut src = source(INSTANCE, EpisodeReward::Resolved, &run, log.path());
    let scripted = ScriptedPolicy::new(&policy, vec![turns.clone()]);
    let generation = GenerationConfig::default();
    let req = RolloutRequest { items: &[0], group_size: 1, generation: &generation, seed: 7 };
    let batch = src.sample_with(&policy, &scripted, &req).unwrap();
    let rec = &src.last_records[0];
    assert!(rec.error.is_none(), "{rec:?}");
    assert_eq!((rec.resolved, rec.reward, rec.submitted, rec.turns), (true, 1.0, true, turns.len()), "{rec:?}");
    assert_eq!(rec.f2p.0, rec.f2p.1, "{rec:?}");
    let t = &batch.groups[0].trajectories[0];
    t.validate().unwrap();
    assert_eq!(t.reward, 1.0);
    assert!(t.format_ok);
    // Exactly the policy's tokens carry the loss: the encoded turns, in order.
    let expected: Vec<u32> = turns.iter().flat_map(|x| policy.encode_text(x).unwrap()).collect();
    let trained: Vec<u32> = t.response_ids.iter().zip(&t.loss_mask).filter(|(_, m)| **m).map(|(i, _)| *i).collect();
    assert_eq!(trained, expected);
    // Between two turns sits one masked observation turn; nothing follows the final submit.
    let runs = t.loss_mask.windows(2).filter(|w| w[0] && !w[1]).count();
    assert_eq!(runs, turns.len() - 1);
    assert!(*t.loss_mask.last().unwrap());
    let masked: Vec<u32> = t.response_ids.iter().zip(&t.loss_mask).filter(|(_, m)| !**m).map(|(i, _)| *i).collect();
    let masked_text = policy.tokenizer.decode(&masked, false).unwrap();
    assert_eq!(masked_text.matches("OBSERVATION:\n").count(), turns.len() - 1, "{masked_text}");
    // The tokens spell what the chat template renders for the whole conversation.
    let all: Vec<u32> = t.prompt_ids.iter().chain(&t.response_ids).copied().collect();
    let spelled = policy.tokenizer.decode(&all, false).unwrap();
    assert!(spelled.contains("<|im_start|>assistant\n<think>"), "{spelled}");
    let lines = std::fs::read_to_string(log.path().join("episodes.jsonl")).unwrap();
    assert_eq!(lines.lines().count(), 1);
    let rounds = std::fs::read_to_string(log.path().join("episode_rounds.jsonl")).unwrap();
    let summary: serde_json::Value = serde_json::from_str(rounds.lines().next().unwrap()).unwrap();
    assert_eq!(summary["resolve_rate"], 1.0);
    assert!(summary["env_s"].as_f64().unwrap() > 0.0 && summary["grade_s"].as_f64().unwrap() > 0.0, "{summary}");
    drop(src);
    assert_eq!(leftovers(&run), 0, "containers left behind");
}

#[test]
fn submitting_at_once_scores_zero_and_a_malformed_turn_is_a_counted_format_error() {
    let policy = tiny();
    let run = run_id("submit");
    let log = tempfile::tempdir().unwrap();
    let mut src = source(INSTANCE, EpisodeReward::F2pFraction, &run, log.path());
    // Episode 0 submits at once (review, then submit); episode 1 first writes prose.
    let scripted = ScriptedPolicy::new(&policy, vec![Vec::new(), vec!["<think>hm</think>\nI would run ls".into()]]);
    let generation = GenerationConfig::default();
    let req = RolloutRequest { items: &[0], group_size: 2, generation: &generation, seed: 1 };
    let batch = src.sample_with(&policy, &scripted, &req).unwrap();
    let (a, b) = (&src.last_records[0], &src.last_records[1]);
    assert_eq!((a.turns, a.format_errors, a.submitted, a.reward, a.patch_chars), (2, 0, true, 0.0, 0), "{a:?}");
    assert_eq!((b.turns, b.format_errors, b.submitted, b.reward), (3, 1, true, 0.0), "{b:?}");
    assert!(!a.resolved && !b.resolved);
    let group = &batch.groups[0];
    assert_eq!(group.rewards(), vec![0.0, 0.0]);
    assert!(group.trajectories[0].format_ok && !group.trajectories[1].format_ok);
    let masked: Vec<u32> = group.trajectories[1]
        .response_ids
        .iter()
        .zip(&group.trajectories[1].loss_mask)
        .filter(|(_, m)| !**m)
        .map(|(i, _)| *i)
        .collect();
    let text = policy.tokenizer.decode(&masked, false).unwrap();
    assert!(text.contains("Your last output did not use any tool calls!"), "{text}");
    drop(src);
    assert_eq!(leftovers(&run), 0, "containers left behind");
}
