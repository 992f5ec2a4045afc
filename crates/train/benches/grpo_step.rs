//! Benchmarks of the GRPO hot paths on CPU: the clipped policy loss on a `[64, 512]` batch, and
//! one full update (log-probs forward, loss, backward, grad clip, AdamW) of the tiny toy-vocabulary
//! Qwen2 on 128 sequences of 24 prompt + 8 response tokens, plus generation of those 128
//! responses. `cargo bench -p srl-train --bench grpo_step`.
use criterion::{criterion_group, criterion_main, Criterion};
use srl_train::codec::{ToyCodec, ToyVocab};
use srl_train::grpo::{policy_loss, LossAgg, LossNorm, PolicyLossConfig};
use srl_train::optimizer::{AdamW, AdamWConfig};
use srl_train::policy::{Policy, SamplingParams};
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

    let policy = Policy::init_toy(ToyCodec::new(ToyVocab::default()).unwrap(), srl_model::Device::Cpu, 0).unwrap();
    let prompts: Vec<Vec<i64>> = (0..128).map(|i| (0..24).map(|j| 5 + ((i + j) % 40) as i64).collect()).collect();
    let responses: Vec<Vec<i64>> = (0..128).map(|i| (0..8).map(|j| 5 + ((i * 3 + j) % 40) as i64).collect()).collect();
    let pr: Vec<&[i64]> = prompts.iter().map(|p| p.as_slice()).collect();
    let rs: Vec<&[i64]> = responses.iter().map(|p| p.as_slice()).collect();
    let mut opt = AdamW::new(policy.named_parameters(), AdamWConfig::default()).unwrap();
    let adv = Tensor::randn([128], (Kind::Float, tch::Device::Cpu));
    let old = tch::no_grad(|| policy.logprobs(&pr, &rs, 1.0, false).unwrap().logp);
    let cfg = PolicyLossConfig { clip_low: 0.2, clip_high: 0.28, dual_clip: None, agg: LossAgg::TokenMean };
    c.bench_function("tiny_qwen2_update_128x(24+8)", |b| {
        b.iter(|| {
            opt.zero_grad().unwrap();
            let lp = policy.logprobs(&pr, &rs, 1.0, true).unwrap();
            let out = policy_loss(&lp.logp, &old, &adv, &lp.mask, &cfg, LossNorm::Local).unwrap();
            out.loss.backward();
            opt.clip_grad_norm(1.0).unwrap();
            opt.step(1e-4).unwrap();
        })
    });
    let p = SamplingParams { temperature: 1.0, top_p: 1.0, max_new_tokens: 8, greedy: false };
    c.bench_function("tiny_qwen2_generate_128x8", |b| b.iter(|| policy.generate(&prompts, &p, 1).unwrap()));
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(10);
    targets = bench
}
criterion_main!(benches);
