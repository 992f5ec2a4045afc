//! Benchmarks of the GRPO hot paths on CPU: the clipped policy loss on a `[64, 512]` batch, and
//! one full update (log-probs forward, loss, chunked LM-head backward, grad clip, AdamW) of the
//! `toy` preset Qwen2 on 128 sequences of 24 prompt + 8 response tokens, plus generation of
//! those 128 responses through `srl-model` (the trainer's rollout path).
//! `cargo bench -p srl-train --bench grpo_step`; `benches/torch_update.py` is the PyTorch side.
use criterion::{criterion_group, criterion_main, Criterion};
use srl_model::logprobs::ChunkedOptions;
use srl_model::{DType, Device, GenerationConfig, Policy};
use srl_train::config::AlgorithmConfig;
use srl_train::grpo::{policy_loss, LossAgg, LossNorm, PolicyLossConfig};
use srl_train::optimizer::{AdamW, AdamWConfig};
use srl_train::rollout::Trajectory;
use srl_train::update::{grpo_micro_backward, response_logprobs, TokenTargets};
use tch::{Kind, Tensor};

fn bench(c: &mut Criterion) {
    tch::manual_seed(0);
    let logp = Tensor::randn([64, 512], (Kind::Float, tch::Device::Cpu)).set_requires_grad(true);
    let old = &logp.detach() + 0.01;
    let adv = Tensor::randn([64], (Kind::Float, tch::Device::Cpu));
    let mask = Tensor::ones([64, 512], (Kind::Float, tch::Device::Cpu));
    let cfg = PolicyLossConfig { clip_low: 0.2, clip_high: 0.28, dual_clip: Some(3.0), agg: LossAgg::TokenMean };
    c.bench_function("policy_loss_fwd_bwd_64x512", |b| {
        b.iter(|| {
            let out = policy_loss(&logp, &old, &adv, &mask, &cfg, LossNorm::Local).unwrap();
            out.loss.backward();
        })
    });

    let dir = tempfile::tempdir().unwrap();
    srl_model::init_checkpoint(&srl_model::InitOptions {
        preset: srl_model::Preset::Toy,
        out: dir.path().join("toy"),
        seed: 0,
        dtype: DType::F32,
        corpus: Vec::new(),
    })
    .unwrap();
    let policy = Policy::load(&dir.path().join("toy"), Device::Cpu, DType::F32).unwrap();
    let trajs: Vec<Trajectory> = (0..128)
        .map(|i| Trajectory {
            prompt_ids: (0..24).map(|j| 5 + ((i + j) % 40) as u32).collect(),
            response_ids: (0..8).map(|j| 5 + ((i * 3 + j) % 40) as u32).collect(),
            loss_mask: vec![true; 8],
            reward: 0.0,
            format_ok: true,
            text: String::new(),
        })
        .collect();
    let refs: Vec<&Trajectory> = trajs.iter().collect();
    let mut opt = AdamW::new(policy.named_parameters(), AdamWConfig::default()).unwrap();
    let old = response_logprobs(&policy, &refs, 128, 1.0).unwrap();
    let advs: Vec<f64> = (0..128).map(|i| ((i * 37 % 11) as f64 - 5.0) / 5.0).collect();
    let alg = AlgorithmConfig { clip_high: 0.28, ..AlgorithmConfig::default() };
    let targets: Vec<TokenTargets<'_>> =
        (0..128).map(|i| TokenTargets { old_logp: &old[i], ref_logp: None, advantage: advs[i] }).collect();
    let norm = LossNorm::Global { tokens: 1024.0, seqs: 128.0, max_len: 8.0 };
    c.bench_function("toy_qwen2_update_128x(24+8)", |b| {
        b.iter(|| {
            opt.zero_grad().unwrap();
            grpo_micro_backward(&policy, &refs, &targets, &alg, norm, &ChunkedOptions::default()).unwrap();
            opt.clip_grad_norm(1.0).unwrap();
            opt.step(1e-4).unwrap();
        })
    });
    let prompts: Vec<Vec<u32>> = trajs.iter().map(|t| t.prompt_ids.clone()).collect();
    let gen = GenerationConfig {
        max_new_tokens: 8,
        temperature: 1.0,
        stop_token_ids: vec![u32::MAX],
        sequence_seeds: (0..128).collect(),
        ..GenerationConfig::default()
    };
    c.bench_function("toy_qwen2_generate_128x8", |b| {
        b.iter(|| srl_model::generate(&policy.model, &prompts, &gen).unwrap())
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10);
    targets = bench
}
criterion_main!(benches);
