//! The memory-bounded update equals the full-logits computation: on a fixed batch (a padded
//! micro-batch of three trajectories, one with masked tokens inside its response, temperature
//! 0.8, dual clip, KL to a reference, an entropy bonus), `grpo_micro_backward` with 3-token LM-head
//! chunks gives the same per-token log-probs, entropies and parameter gradients as building the
//! whole `[B, T, V]` logits, `log_softmax` and backpropagating `policy_loss` + KL − entropy
//! through autograd, within 1e-5 (f32). Also for the SFT cross-entropy.

use srl_model::logprobs::{ChunkedOptions, LogprobBatch, MaskedRow};
use srl_model::{DType, Device, Policy};
use srl_train::config::AlgorithmConfig;
use srl_train::grpo::{agg_loss, kl_penalty, policy_loss, KlEstimator, LossAgg, LossNorm};
use srl_train::rollout::Trajectory;
use srl_train::update::{grpo_micro_backward, TokenTargets};
use tch::{Kind, Tensor};

fn policy() -> (tempfile::TempDir, Policy) {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("toy");
    srl_model::init_checkpoint(&srl_model::InitOptions {
        preset: srl_model::Preset::Toy,
        out: out.clone(),
        seed: 4,
        dtype: DType::F32,
        corpus: Vec::new(),
    })
    .unwrap();
    let p = Policy::load(&out, Device::Cpu, DType::F32).unwrap();
    (dir, p)
}

fn traj(prompt: Vec<u32>, response: Vec<u32>, mask: Vec<bool>) -> Trajectory {
    Trajectory {
        prompt_ids: prompt,
        response_ids: response,
        loss_mask: mask,
        reward: 0.0,
        format_ok: true,
        text: String::new(),
    }
}

fn grads(p: &Policy) -> Vec<(String, Tensor)> {
    p.named_parameters().into_iter().map(|(n, w)| (n, w.grad().copy())).collect()
}

fn zero(p: &Policy) {
    for (_, w) in p.named_parameters() {
        let mut g = w.grad();
        if g.defined() {
            let _ = g.zero_();
        }
    }
}

fn max_diff(a: &Tensor, b: &Tensor) -> f64 {
    (a - b).abs().max().double_value(&[])
}

#[test]
fn chunked_grpo_update_equals_full_logits_autograd() {
    tch::set_num_threads(1);
    let (_d, p) = policy();
    let trajs = [
        traj(vec![1, 7, 8, 9], vec![3, 12, 4, 20, 2], vec![true; 5]),
        traj(vec![1, 10], vec![3, 15, 16, 30, 31, 4, 21, 2], vec![true, true, false, false, false, true, true, true]),
        traj(vec![1, 11, 12, 13, 14, 15], vec![3, 4, 2], vec![true; 3]),
    ];
    let refs: Vec<&Trajectory> = trajs.iter().collect();
    let rows: Vec<MaskedRow<'_>> = trajs
        .iter()
        .map(|t| MaskedRow { prompt: &t.prompt_ids, completion: &t.response_ids, mask: Some(&t.loss_mask) })
        .collect();
    let batch = LogprobBatch::from_rows(&rows, p.pad_id(), Device::Cpu).unwrap();
    let (b, t) = (3i64, batch.input_ids.size()[1]);
    // Fixed old/ref log-probs and advantages, laid out per response token.
    let old: Vec<Vec<f32>> = trajs
        .iter()
        .enumerate()
        .map(|(r, x)| (0..x.response_ids.len()).map(|j| -3.0 - 0.1 * (r + j) as f32).collect())
        .collect();
    let refl: Vec<Vec<f32>> = trajs
        .iter()
        .enumerate()
        .map(|(r, x)| (0..x.response_ids.len()).map(|j| -3.5 + 0.05 * (r * j) as f32).collect())
        .collect();
    let adv = [1.3, -0.8, 0.4];
    let alg = AlgorithmConfig {
        clip_low: 0.2,
        clip_high: 0.28,
        dual_clip: Some(3.0),
        loss_agg: LossAgg::SeqMeanTokenMean,
        kl_coef: 0.05,
        kl_estimator: KlEstimator::LowVarKl,
        entropy_coef: 0.02,
        ..AlgorithmConfig::default()
    };
    let temp = 0.8;
    let norm = LossNorm::Global { tokens: 13.0, seqs: 5.0, max_len: 8.0 };

    // Reference: the full [B, T, V] log-softmax through autograd.
    zero(&p);
    let logits = p.model.forward(&batch.input_ids, &batch.attention_mask, None).unwrap().narrow(1, 0, t - 1) / temp;
    let logsm = logits.log_softmax(-1, Kind::Float);
    let tgt = batch.input_ids.narrow(1, 1, t - 1).unsqueeze(-1);
    let lp = logsm.gather(-1, &tgt, false).squeeze_dim(-1).constant_pad_nd([1, 0]);
    let ent = (-(logsm.exp() * &logsm).sum_dim_intlist(-1, false, Kind::Float)).constant_pad_nd([1, 0]);
    let mask = batch.completion_mask.to_kind(Kind::Float);
    let place = |vals: &[Vec<f32>]| {
        let mut flat = vec![0f32; (b * t) as usize];
        for (r, v) in vals.iter().enumerate() {
            let start = t as usize - v.len();
            for (j, x) in v.iter().enumerate() {
                flat[r * t as usize + start + j] = *x;
            }
        }
        Tensor::from_slice(&flat).view([b, t])
    };
    let old_t = place(&old);
    let ref_t = place(&refl);
    let adv_t = Tensor::from_slice(&adv.map(|x| x as f32));
    let cfg = alg.policy_loss();
    let pl = policy_loss(&lp, &old_t, &adv_t, &mask, &cfg, norm).unwrap();
    let kl = agg_loss(&kl_penalty(&lp, &ref_t, alg.kl_estimator).unwrap(), &mask, alg.loss_agg, norm).unwrap();
    let el = agg_loss(&ent, &mask, alg.loss_agg, norm).unwrap();
    let full = &pl.loss + kl * alg.kl_coef - el * alg.entropy_coef;
    full.backward();
    let want = grads(&p);

    zero(&p);
    let targets: Vec<TokenTargets<'_>> =
        (0..3).map(|r| TokenTargets { old_logp: &old[r], ref_logp: Some(&refl[r]), advantage: adv[r] }).collect();
    let chunked = ChunkedOptions { temperature: temp, chunk_tokens: 3, entropy_grad: false };
    let stats = grpo_micro_backward(&p, &refs, &targets, &alg, norm, &chunked).unwrap();
    let got = grads(&p);
    assert!((stats.loss - full.double_value(&[])).abs() < 1e-5, "loss {} vs {}", stats.loss, full.double_value(&[]));
    assert_eq!(stats.tokens, 13.0);
    // Log-probs and entropies of the chunked path (recomputed without gradients).
    let (lp2, ent2) = tch::no_grad(|| srl_model::logprobs::sequence_logprobs_at(&p.model, &batch, temp)).unwrap();
    assert!(max_diff(&(lp2 * &mask), &(lp.detach() * &mask)) < 1e-5);
    assert!(max_diff(&(ent2 * &mask), &(ent.detach() * &mask)) < 1e-5);
    for ((name, g), (_, w)) in got.iter().zip(&want) {
        let d = max_diff(g, w);
        assert!(d < 1e-5, "{name}: gradient differs by {d}");
    }
    assert!(want.iter().any(|(_, w)| w.abs().sum(Kind::Float).double_value(&[]) > 0.0));
}
