//! One GRPO optimizer step, srl-train vs TRL's `GRPOTrainer`, side by side on the same `tiny`
//! checkpoint (random weights, the trained BPE tokenizer) and the same rollout batch: 4 groups ×
//! 4 trajectories of `SRL_BENCH_PROMPT` (default 512) prompt + `SRL_BENCH_RESPONSE` (default 64)
//! response tokens, micro-batch 4 (gradient accumulation over 4 micro-batches), token-mean loss,
//! clip 0.2 / 0.28, no KL, grad clip 1.0, AdamW. Generation is outside the timing on both sides
//! (TRL's `_generate_and_score_completions` returns the fixed batch; `benches/trl_update.py`).
//!
//! Ours is `srl_train::update::grpo_update`, which also runs the no-grad forward of the old
//! log-probs that TRL skips with `num_iterations = 1` (it uses the update's own log-probs
//! detached): one extra forward of the 16 sequences on our side.
//! Run: `source scripts/env.sh && bash scripts/venvs/engines.sh trl && cargo bench -p srl-train
//! --bench update_vs_trl`. Knobs: `SRL_BENCH_THREADS` (default 2), `SRL_BENCH_STEPS` (timed steps
//! per side, default 3; the best counts), `SRL_TRL_PYTHON` (default: the TRL venv of
//! `scripts/venvs/engines-env.sh`).
use srl_model::{DType, Device, Policy};
use srl_train::config::{AlgorithmConfig, BatchConfig};
use srl_train::optimizer::{AdamW, AdamWConfig};
use srl_train::rollout::{RolloutGroup, Trajectory};
use srl_train::update::{grpo_update, UpdateSettings};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

const GROUPS: usize = 4;
const GROUP: usize = 4;
const MICRO: usize = 4;
const LR: f64 = 1e-4;

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn trl_python() -> PathBuf {
    if let Ok(p) = std::env::var("SRL_TRL_PYTHON") {
        return p.into();
    }
    let out = Command::new("bash")
        .arg("-c")
        .arg("source scripts/env.sh >/dev/null && source scripts/venvs/engines-env.sh && srl_engine_venv trl")
        .current_dir(repo())
        .output()
        .expect("bash");
    let venv = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    let py = venv.join("bin/python");
    assert!(py.exists(), "no TRL venv at {}: run `bash scripts/venvs/engines.sh trl`", venv.display());
    py
}

fn main() {
    let threads: usize = env_or("SRL_BENCH_THREADS", 2);
    let steps: usize = env_or("SRL_BENCH_STEPS", 3);
    let prompt_len: usize = env_or("SRL_BENCH_PROMPT", 512);
    let response_len: usize = env_or("SRL_BENCH_RESPONSE", 64);
    tch::set_num_threads(threads as i32);
    let dir = tempfile::tempdir().unwrap();
    let ckpt = dir.path().join("tiny");
    srl_model::init_checkpoint(&srl_model::InitOptions {
        preset: srl_model::Preset::Tiny,
        out: ckpt.clone(),
        seed: 0,
        dtype: DType::F32,
        corpus: vec![repo().join("datasets/swe-smith-src")],
    })
    .unwrap();
    let policy = Policy::load(&ckpt, Device::Cpu, DType::F32).unwrap();
    let vocab = policy.model.config().vocab_size as u64;
    let n = GROUPS * GROUP;
    let tok = |i: usize, j: usize, salt: u64| ((i as u64 * 7919 + j as u64 * 104_729 + salt) % (vocab - 8) + 5) as u32;
    let prompts: Vec<Vec<u32>> = (0..n).map(|i| (0..prompt_len).map(|j| tok(i / GROUP, j, 13)).collect()).collect();
    let responses: Vec<Vec<u32>> = (0..n).map(|i| (0..response_len).map(|j| tok(i, j, 977)).collect()).collect();
    let rewards: Vec<f64> = (0..n).map(|i| ((i * 37) % 11) as f64 / 10.0).collect();
    let groups: Vec<RolloutGroup> = (0..GROUPS)
        .map(|g| RolloutGroup {
            item: g,
            trajectories: (g * GROUP..(g + 1) * GROUP)
                .map(|i| Trajectory {
                    prompt_ids: prompts[i].clone(),
                    response_ids: responses[i].clone(),
                    loss_mask: vec![true; response_len],
                    reward: rewards[i],
                    format_ok: true,
                    text: String::new(),
                })
                .collect(),
        })
        .collect();
    let algorithm = AlgorithmConfig { clip_high: 0.28, ..AlgorithmConfig::default() };
    let batch = BatchConfig { prompts_per_step: GROUPS, micro_batch_size: MICRO, ..BatchConfig::default() };
    let settings = UpdateSettings {
        algorithm: &algorithm,
        batch: &batch,
        temperature: 1.0,
        logit_chunk: batch.logit_chunk as i64,
        grad_clip: 1.0,
        lr: LR,
    };
    let mut opt =
        AdamW::new(policy.named_parameters(), AdamWConfig { weight_decay: 0.0, ..AdamWConfig::default() }).unwrap();
    let mut ours = Vec::new();
    for i in 0..=steps {
        let t = Instant::now();
        grpo_update(&policy, None, &mut opt, &groups, &settings).unwrap();
        if i > 0 {
            ours.push(t.elapsed().as_secs_f64());
        }
    }

    // TRL's advantages: its own group normalization (mean / std over each group), as ours.
    let advantages: Vec<f64> = rewards
        .chunks(GROUP)
        .flat_map(|r| {
            let m = r.iter().sum::<f64>() / r.len() as f64;
            let sd = (r.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (r.len() - 1) as f64).sqrt();
            r.iter().map(move |x| (x - m) / (sd + 1e-4)).collect::<Vec<_>>()
        })
        .collect();
    let spec = serde_json::json!({
        "dir": ckpt, "threads": threads, "steps": steps, "micro": MICRO, "group": GROUP,
        "prompt_ids": prompts, "completion_ids": responses, "advantages": advantages,
        "lr": LR, "clip_low": 0.2, "clip_high": 0.28,
    });
    let spec_path = dir.path().join("spec.json");
    std::fs::write(&spec_path, spec.to_string()).unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/trl_update.py");
    let out = Command::new(trl_python())
        .arg(&script)
        .arg(&spec_path)
        .env("TRANSFORMERS_VERBOSITY", "error")
        .output()
        .expect("running the TRL venv's python");
    assert!(out.status.success(), "TRL bench failed:\n{}", String::from_utf8_lossy(&out.stderr));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout.lines().rev().find(|l| l.starts_with('{')).expect("TRL bench printed no JSON");
    let v: serde_json::Value = serde_json::from_str(line).unwrap();
    let trl: Vec<f64> = v["step_s"].as_array().unwrap().iter().filter_map(|x| x.as_f64()).collect();
    let best = |x: &[f64]| x.iter().copied().fold(f64::INFINITY, f64::min);
    let tokens = (n * (prompt_len + response_len)) as f64;
    println!(
        "# update_vs_trl: tiny ({:.1}M params), {GROUPS}x{GROUP} trajectories x ({prompt_len} + {response_len}) tokens, micro-batch {MICRO}, CPU, {threads} threads, best of {steps}",
        policy.model.config().num_parameters() as f64 / 1e6
    );
    println!("| side | step s | tokens/s |");
    println!("|---|---|---|");
    println!("| srl-train grpo_update | {:.3} | {:.0} |", best(&ours), tokens / best(&ours));
    println!(
        "| TRL {} GRPOTrainer (torch {}) | {:.3} | {:.0} |",
        v["trl"].as_str().unwrap_or("?"),
        v["torch"].as_str().unwrap_or("?"),
        best(&trl),
        tokens / best(&trl)
    );
    println!("ours / TRL step time: {:.2}", best(&ours) / best(&trl));
}
