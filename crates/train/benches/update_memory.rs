//! Peak memory of one GRPO update step on CPU with a real Qwen2.5 vocabulary: a Qwen2 config with
//! vocab 151,936 and hidden 896 (the Qwen2.5-0.5B widths, 2 layers, random weights), a
//! micro-batch of 4 trajectories × (16 prompt + 1,024 response) tokens. Two variants, each in a
//! fresh child process so their peaks do not mix:
//!
//! - `full-logits`: what the trainer did before (and what a plain PyTorch/TRL loop does): the
//!   `[B, T, V]` logits of the response positions, a full `log_softmax`, gather, loss, backward;
//! - `chunked`: `srl_train::update::grpo_micro_backward` (LM head in 1,024-token chunks, each
//!   chunk's loss backpropagated at once, then one backward of the hidden-state gradient).
//!
//! Reported: peak RSS during the update minus the RSS before it (weights, gradients and AdamW
//! moments already allocated by a warm-up update), via `VmHWM` after resetting it
//! (`/proc/self/clear_refs`). `cargo bench -p srl-train --bench update_memory`.
use srl_model::logprobs::ChunkedOptions;
use srl_model::{DType, Device, Qwen2Config, Qwen2Model};
use srl_train::config::AlgorithmConfig;
use srl_train::grpo::{policy_loss, LossNorm};
use srl_train::optimizer::{AdamW, AdamWConfig};
use srl_train::rollout::Trajectory;
use srl_train::update::{grpo_micro_backward, TokenTargets};
use std::process::Command;
use std::time::Instant;
use tch::{Kind, Tensor};

const VARIANT_ENV: &str = "SRL_UPDATE_MEMORY_VARIANT";
const PROMPT: usize = 16;
const RESPONSE: usize = 1024;
const BATCH: usize = 4;

fn status_kib(key: &str) -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with(key)).and_then(|l| l.split_whitespace().nth(1)?.parse().ok()))
        .unwrap_or(0.0)
}

fn config() -> Qwen2Config {
    Qwen2Config {
        vocab_size: 151_936,
        hidden_size: 896,
        intermediate_size: 4864,
        num_hidden_layers: 2,
        num_attention_heads: 14,
        num_key_value_heads: 2,
        head_dim: 64,
        max_position_embeddings: 32_768,
        rope_theta: 1_000_000.0,
        rms_norm_eps: 1e-6,
        tie_word_embeddings: true,
        torch_dtype: Some(DType::F32),
    }
}

fn trajectories(n: usize, prompt: usize, response: usize) -> Vec<Trajectory> {
    (0..n)
        .map(|i| Trajectory {
            prompt_ids: (0..prompt).map(|j| ((i * 7919 + j * 104_729) % 151_000) as u32).collect(),
            response_ids: (0..response).map(|j| ((i * 15_485_863 + j * 32_452_843) % 151_000) as u32).collect(),
            loss_mask: vec![true; response],
            reward: 0.0,
            format_ok: true,
            text: String::new(),
        })
        .collect()
}

/// The pre-chunking path: full logits over the response positions, log-softmax, gather.
fn full_logits_backward(model: &Qwen2Model, trajs: &[Trajectory], adv: &Tensor) {
    let t = PROMPT + RESPONSE;
    let ids: Vec<i64> =
        trajs.iter().flat_map(|x| x.prompt_ids.iter().chain(&x.response_ids).map(|&v| i64::from(v))).collect();
    let input = Tensor::from_slice(&ids).view([trajs.len() as i64, t as i64]);
    let attn = Tensor::ones([trajs.len() as i64, t as i64], (Kind::Int64, tch::Device::Cpu));
    let hidden = model.forward_hidden(&input, &attn, None).unwrap();
    let h = hidden.narrow(1, PROMPT as i64 - 1, RESPONSE as i64);
    let logits = model.logits(&h).unwrap().to_kind(Kind::Float);
    let logsm = logits.log_softmax(-1, Kind::Float);
    let tgt = input.narrow(1, PROMPT as i64, RESPONSE as i64).unsqueeze(-1);
    let logp = logsm.gather(-1, &tgt, false).squeeze_dim(-1);
    let old = logp.detach() - 0.01;
    let mask = Tensor::ones([trajs.len() as i64, RESPONSE as i64], (Kind::Float, tch::Device::Cpu));
    let cfg = AlgorithmConfig::default().policy_loss();
    let out = policy_loss(&logp, &old, adv, &mask, &cfg, LossNorm::Local).unwrap();
    out.loss.backward();
}

fn child(variant: &str) {
    tch::set_num_threads(2);
    // The vocabulary's token strings do not matter here, only the pad id: any tokenizer will do.
    let tok = srl_model::init::toy_char_tokenizer(srl_model::init::TOY_CHARS).unwrap();
    let policy = srl_model::Policy {
        model: Qwen2Model::new_random(&config(), Device::Cpu, DType::F32, 0).unwrap(),
        tokenizer: srl_model::Tokenizer::from_parts(tok, Some("<|im_end|>"), Some("<|endoftext|>")),
        template: srl_model::ChatTemplate::qwen25().unwrap(),
    };
    let mut opt = AdamW::new(policy.named_parameters(), AdamWConfig::default()).unwrap();
    let alg = AlgorithmConfig::default();
    let chunked = ChunkedOptions::default();
    let run_chunked = |trajs: &[Trajectory]| {
        let refs: Vec<&Trajectory> = trajs.iter().collect();
        let old: Vec<Vec<f32>> = trajs.iter().map(|t| vec![-12.0; t.response_ids.len()]).collect();
        let targets: Vec<TokenTargets<'_>> = old
            .iter()
            .enumerate()
            .map(|(i, o)| TokenTargets { old_logp: o, ref_logp: None, advantage: if i % 2 == 0 { 1.0 } else { -1.0 } })
            .collect();
        let tokens = trajs.iter().map(|t| t.response_ids.len()).sum::<usize>() as f64;
        let norm = LossNorm::Global { tokens, seqs: trajs.len() as f64, max_len: RESPONSE as f64 };
        grpo_micro_backward(&policy, &refs, &targets, &alg, norm, &chunked).unwrap();
    };
    // Warm-up: allocates gradients and touches the AdamW moments.
    opt.zero_grad().unwrap();
    run_chunked(&trajectories(1, 4, 4));
    opt.step(1e-6).unwrap();
    opt.zero_grad().unwrap();
    let before = status_kib("VmRSS:");
    std::fs::write("/proc/self/clear_refs", "5").expect("resetting VmHWM needs Linux /proc/self/clear_refs");
    let trajs = trajectories(BATCH, PROMPT, RESPONSE);
    let adv = Tensor::from_slice(&[1.0f32, -1.0, 1.0, -1.0]);
    let t0 = Instant::now();
    match variant {
        "full-logits" => full_logits_backward(&policy.model, &trajs, &adv),
        _ => run_chunked(&trajs),
    }
    opt.step(1e-6).unwrap();
    let secs = t0.elapsed().as_secs_f64();
    let peak = status_kib("VmHWM:");
    println!("{variant}\t{:.0}\t{:.0}\t{secs:.1}", before / 1024.0, (peak - before) / 1024.0);
}

fn main() {
    if let Ok(v) = std::env::var(VARIANT_ENV) {
        child(&v);
        return;
    }
    println!("update step, vocab 151936, hidden 896, 2 layers, micro-batch {BATCH} x ({PROMPT} + {RESPONSE}) tokens, CPU, 2 threads");
    println!("{:<12} {:>14} {:>22} {:>9}", "variant", "baseline MiB", "peak above baseline MiB", "seconds");
    let mut peaks = Vec::new();
    for v in ["full-logits", "chunked"] {
        let out = Command::new(std::env::current_exe().unwrap()).env(VARIANT_ENV, v).output().unwrap();
        assert!(out.status.success(), "{v}: {}", String::from_utf8_lossy(&out.stderr));
        let line = String::from_utf8_lossy(&out.stdout).trim().to_string();
        let f: Vec<&str> = line.split('\t').collect();
        println!("{:<12} {:>14} {:>22} {:>9}", f[0], f[1], f[2], f[3]);
        peaks.push(f[2].parse::<f64>().unwrap());
    }
    println!("chunked / full-logits peak: {:.3} ({:.1}x less)", peaks[1] / peaks[0], peaks[0] / peaks[1]);
}
