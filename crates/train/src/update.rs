//! The policy update of a step, on trajectories only (whatever [`crate::rollout::RolloutSource`]
//! made them): GRPO's old log-probs, group advantages and PPO epochs over mini- and
//! micro-batches (veRL `dp_actor.update_policy`, `docs/training.md`), and the SFT
//! cross-entropy update. Both run the LM head through `srl-model`'s
//! [`chunked_logprobs_backward`]: every loss here is a weighted sum of per-token terms whose
//! weights ([`crate::grpo::token_weights`]) are fixed by the whole mini-batch before the first
//! micro-batch, so each chunk's share is backpropagated at once and no `[B, T, V]` tensor is
//! ever kept.

use crate::config::{AlgorithmConfig, BatchConfig};
use crate::error::{Result, TrainError};
use crate::grpo::{group_advantages, kl_penalty, token_policy_loss, token_weights, LossNorm};
use crate::optimizer::AdamW;
use crate::rollout::{RolloutGroup, Trajectory};
use srl_model::logprobs::{chunked_logprobs_backward, sequence_logprobs_at, ChunkedOptions, LogprobBatch, MaskedRow};
use srl_model::Policy;
use tch::{Kind, Tensor};

/// Everything the GRPO update needs besides the trajectories.
#[derive(Debug, Clone, Copy)]
pub struct UpdateSettings<'a> {
    /// Advantage and loss settings.
    pub algorithm: &'a AlgorithmConfig,
    /// Epochs, mini-batches, micro-batch size.
    pub batch: &'a BatchConfig,
    /// Rollout temperature (log-probs are of `softmax(logits / temperature)`, as in veRL).
    pub temperature: f64,
    /// Scored tokens per LM-head chunk.
    pub logit_chunk: i64,
    /// Global grad-norm clip (∞ = off).
    pub grad_clip: f64,
    /// Learning rate of this step.
    pub lr: f64,
}

/// What an update reports (sums over updates; the trainer divides by `updates`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UpdateStats {
    /// Σ of mini-batch losses.
    pub loss: f64,
    /// Σ of clip fractions.
    pub clip_frac: f64,
    /// Σ of dual-clip fractions.
    pub clip_frac_lower: f64,
    /// Σ of mean −log-ratios.
    pub approx_kl: f64,
    /// Σ of KL-to-reference terms.
    pub kl: f64,
    /// Σ of mean token entropies.
    pub entropy: f64,
    /// Gradient norm of the last update.
    pub grad_norm: f64,
    /// Tokens (prompt + response) through forward and backward.
    pub tokens: f64,
    /// Optimizer updates taken.
    pub updates: usize,
}

/// Per-token inputs of one trajectory's GRPO loss, aligned with its `response_ids`.
#[derive(Debug, Clone, Copy)]
pub struct TokenTargets<'a> {
    /// log π_old at each response token (ignored where the loss mask is off).
    pub old_logp: &'a [f32],
    /// log π_ref at each response token, when a KL penalty is on.
    pub ref_logp: Option<&'a [f32]>,
    /// The trajectory's advantage.
    pub advantage: f64,
}

/// Diagnostics of one micro-batch (token sums; the mini-batch divides by its token count).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MicroStats {
    /// Value of this micro-batch's share of the mini-batch loss.
    pub loss: f64,
    /// Σ clipped tokens.
    pub clipped: f64,
    /// Σ dual-clipped tokens.
    pub lower: f64,
    /// Σ log-ratio.
    pub log_ratio: f64,
    /// Σ weighted KL (its share of the aggregated KL).
    pub kl: f64,
    /// Σ token entropy.
    pub entropy: f64,
    /// Trained tokens.
    pub tokens: f64,
}

fn rows<'a>(trajs: &[&'a Trajectory]) -> Vec<MaskedRow<'a>> {
    trajs
        .iter()
        .map(|t| MaskedRow { prompt: &t.prompt_ids, completion: &t.response_ids, mask: Some(&t.loss_mask) })
        .collect()
}

/// `[B·T]` host values placed at each trajectory's response positions of a left-padded batch.
fn place(trajs: &[&Trajectory], width: usize, value: impl Fn(usize, usize) -> f32) -> Vec<f32> {
    let mut out = vec![0f32; trajs.len() * width];
    for (r, t) in trajs.iter().enumerate() {
        let start = width - t.response_ids.len();
        for j in 0..t.response_ids.len() {
            out[r * width + start + j] = value(r, j);
        }
    }
    out
}

/// Backpropagates one micro-batch's share of the GRPO mini-batch loss
/// Σ_tokens w·(pg + β·KL − c_H·H) and returns its diagnostics. `norm` holds the mini-batch
/// totals, so the gradients summed over the micro-batches equal those of the mini-batch loss.
pub fn grpo_micro_backward(
    policy: &Policy,
    trajs: &[&Trajectory],
    targets: &[TokenTargets<'_>],
    algorithm: &AlgorithmConfig,
    norm: LossNorm,
    chunked: &ChunkedOptions,
) -> Result<MicroStats> {
    if trajs.len() != targets.len() || trajs.is_empty() {
        return Err(TrainError::Shape {
            what: "grpo_micro_backward",
            detail: format!("{} trajectories, {} targets", trajs.len(), targets.len()),
        });
    }
    let dev = policy.model.device().to_tch();
    let batch = LogprobBatch::from_rows(&rows(trajs), policy.pad_id(), policy.model.device())?;
    let width = batch.input_ids.size()[1] as usize;
    let host = |v: Vec<f32>| -> Result<Tensor> { Ok(Tensor::from_slice(&v).f_to_device(dev)?) };
    let old = host(place(trajs, width, |r, j| targets[r].old_logp.get(j).copied().unwrap_or(0.0)))?;
    let adv = host(place(trajs, width, |r, _| targets[r].advantage as f32))?;
    let reference = if targets.iter().all(|t| t.ref_logp.is_some()) && algorithm.kl_coef > 0.0 {
        Some(host(place(trajs, width, |r, j| targets[r].ref_logp.and_then(|x| x.get(j).copied()).unwrap_or(0.0)))?)
    } else {
        None
    };
    let mask = batch.completion_mask.f_to_kind(Kind::Float)?.f_to_device(dev)?;
    let weights = token_weights(&mask, algorithm.loss_agg, norm)?.f_reshape([-1])?;
    let cfg = algorithm.policy_loss();
    let mut stats = MicroStats::default();
    let opts = ChunkedOptions { entropy_grad: algorithm.entropy_coef != 0.0, ..*chunked };
    // The detached log-probs it returns are not needed: the diagnostics come from the chunks.
    let _ = chunked_logprobs_backward(&policy.model, &batch, &opts, |c| -> Result<Option<Tensor>> {
        let at = |x: &Tensor| x.f_index_select(0, &c.positions);
        let w = at(&weights)?;
        let terms = token_policy_loss(&c.logp, &at(&old)?, &at(&adv)?, &cfg)?;
        let mut per_token = terms.loss;
        if let Some(r) = &reference {
            let kl = kl_penalty(&c.logp, &at(r)?, algorithm.kl_estimator)?;
            stats.kl += tch::no_grad(|| kl.f_mul(&w)?.f_sum(Kind::Double))?.f_double_value(&[])?;
            per_token = per_token.f_add(&kl.f_mul_scalar(algorithm.kl_coef)?)?;
        }
        if algorithm.entropy_coef != 0.0 {
            per_token = per_token.f_sub(&c.entropy.f_mul_scalar(algorithm.entropy_coef)?)?;
        }
        let loss = per_token.f_mul(&w)?.f_sum(Kind::Float)?;
        stats.loss += loss.f_double_value(&[])?;
        stats.clipped += terms.clipped.f_sum(Kind::Double)?.f_double_value(&[])?;
        stats.lower += terms.lower.f_sum(Kind::Double)?.f_double_value(&[])?;
        stats.log_ratio += terms.log_ratio.f_sum(Kind::Double)?.f_double_value(&[])?;
        stats.entropy += c.entropy.f_detach()?.f_sum(Kind::Double)?.f_double_value(&[])?;
        stats.tokens += c.logp.size()[0] as f64;
        Ok(Some(loss))
    })?;
    Ok(stats)
}

/// Log-probs of every trajectory's response tokens under `policy` without gradients (old-policy
/// and reference log-probs), `micro` trajectories per forward.
pub fn response_logprobs(
    policy: &Policy,
    trajs: &[&Trajectory],
    micro: usize,
    temperature: f64,
) -> Result<Vec<Vec<f32>>> {
    let _guard = tch::no_grad_guard();
    let mut out = Vec::with_capacity(trajs.len());
    for chunk in trajs.chunks(micro.max(1)) {
        let batch = LogprobBatch::from_rows(&rows(chunk), policy.pad_id(), policy.model.device())?;
        let (lp, _) = sequence_logprobs_at(&policy.model, &batch, temperature)?;
        let width = lp.size()[1] as usize;
        let flat = Vec::<f32>::try_from(lp.f_to_device(tch::Device::Cpu)?.f_reshape([-1])?)?;
        for (r, t) in chunk.iter().enumerate() {
            let start = r * width + width - t.response_ids.len();
            out.push(flat[start..start + t.response_ids.len()].to_vec());
        }
    }
    Ok(out)
}

/// Old log-probs, advantages per group, then the PPO epochs over mini- and micro-batches.
pub fn grpo_update(
    policy: &Policy,
    reference: Option<&Policy>,
    opt: &mut AdamW,
    groups: &[RolloutGroup],
    s: &UpdateSettings<'_>,
) -> Result<UpdateStats> {
    let mut stats = UpdateStats::default();
    if groups.is_empty() {
        tracing::warn!("no informative groups this step; no update");
        return Ok(stats);
    }
    let a = s.algorithm;
    let trajs: Vec<&Trajectory> = groups.iter().flat_map(|g| g.trajectories.iter()).collect();
    for t in &trajs {
        t.validate()?;
    }
    let mut adv = Vec::with_capacity(trajs.len());
    for g in groups {
        let r = Tensor::from_slice(&g.rewards());
        adv.extend(Vec::<f64>::try_from(&group_advantages(
            &r,
            g.trajectories.len().max(1),
            a.adv_norm,
            a.adv_eps,
            a.adv_std_unbiased,
        )?)?);
    }
    let mbs = s.batch.micro_batch_size;
    let old = response_logprobs(policy, &trajs, mbs, s.temperature)?;
    let refs = match reference {
        Some(r) if a.kl_coef > 0.0 => Some(response_logprobs(r, &trajs, mbs, s.temperature)?),
        _ => None,
    };
    // Mini-batches are cut at group boundaries.
    let bounds: Vec<usize> = std::iter::once(0)
        .chain(groups.iter().scan(0, |acc, g| {
            *acc += g.trajectories.len();
            Some(*acc)
        }))
        .collect();
    let n_mini = s.batch.mini_batches.min(groups.len()).max(1);
    let groups_per_mini = groups.len().div_ceil(n_mini);
    let chunked = ChunkedOptions { temperature: s.temperature, chunk_tokens: s.logit_chunk, entropy_grad: false };
    for _epoch in 0..s.batch.ppo_epochs {
        for g0 in (0..groups.len()).step_by(groups_per_mini) {
            let (lo, hi) = (bounds[g0], bounds[(g0 + groups_per_mini).min(groups.len())]);
            let mini = &trajs[lo..hi];
            let tokens: usize = mini.iter().map(|t| t.trained_tokens()).sum();
            let max_len = mini.iter().map(|t| t.response_ids.len()).max().unwrap_or(1);
            let norm = LossNorm::Global { tokens: tokens as f64, seqs: mini.len() as f64, max_len: max_len as f64 };
            opt.zero_grad()?;
            let mut sum = MicroStats::default();
            for start in (lo..hi).step_by(mbs.max(1)) {
                let end = (start + mbs).min(hi);
                let targets: Vec<TokenTargets<'_>> = (start..end)
                    .map(|i| TokenTargets {
                        old_logp: &old[i],
                        ref_logp: refs.as_ref().map(|r| r[i].as_slice()),
                        advantage: adv[i],
                    })
                    .collect();
                let m = grpo_micro_backward(policy, &trajs[start..end], &targets, a, norm, &chunked)?;
                sum.loss += m.loss;
                sum.clipped += m.clipped;
                sum.lower += m.lower;
                sum.log_ratio += m.log_ratio;
                sum.kl += m.kl;
                sum.entropy += m.entropy;
                sum.tokens += m.tokens;
                stats.tokens +=
                    trajs[start..end].iter().map(|t| (t.prompt_ids.len() + t.response_ids.len()) as f64).sum::<f64>();
            }
            if !sum.loss.is_finite() {
                return Err(TrainError::NonFinite { step: opt.step_count(), what: "loss" });
            }
            let gn = opt.clip_grad_norm(s.grad_clip)?;
            if !gn.is_finite() {
                tracing::warn!("non-finite gradient norm; update skipped");
                opt.zero_grad()?;
                continue;
            }
            opt.step(s.lr)?;
            let tok = sum.tokens.max(1.0);
            stats.updates += 1;
            stats.loss += sum.loss;
            stats.clip_frac += sum.clipped / tok;
            stats.clip_frac_lower += sum.lower / tok;
            stats.approx_kl += -sum.log_ratio / tok;
            stats.kl += sum.kl;
            stats.entropy += sum.entropy / tok;
            stats.grad_norm = gn;
        }
    }
    Ok(stats)
}

/// One SFT example: prompt tokens (masked) and the target tokens the policy must produce.
#[derive(Debug, Clone, PartialEq)]
pub struct SftExample {
    /// Context (chat template, generation prompt, response prefix).
    pub prompt_ids: Vec<u32>,
    /// Target tokens (trained on), ending with the stop token.
    pub target_ids: Vec<u32>,
}

/// One SFT optimizer update: token-mean cross-entropy over all target tokens of `examples`,
/// accumulated over micro-batches of `micro` examples. Returns (loss, grad norm, tokens through
/// forward and backward).
pub fn sft_update(
    policy: &Policy,
    opt: &mut AdamW,
    examples: &[SftExample],
    micro: usize,
    s: &UpdateSettings<'_>,
) -> Result<(f64, f64, f64)> {
    let total: usize = examples.iter().map(|e| e.target_ids.len()).sum();
    if total == 0 {
        return Ok((0.0, 0.0, 0.0));
    }
    opt.zero_grad()?;
    let chunked = ChunkedOptions { temperature: 1.0, chunk_tokens: s.logit_chunk, entropy_grad: false };
    let (mut loss, mut tokens) = (0.0, 0.0);
    for chunk in examples.chunks(micro.max(1)) {
        let rows: Vec<MaskedRow<'_>> =
            chunk.iter().map(|e| MaskedRow { prompt: &e.prompt_ids, completion: &e.target_ids, mask: None }).collect();
        let batch = LogprobBatch::from_rows(&rows, policy.pad_id(), policy.model.device())?;
        let _ = chunked_logprobs_backward(&policy.model, &batch, &chunked, |c| -> Result<Option<Tensor>> {
            let l = c.logp.f_sum(Kind::Float)?.f_div_scalar(-(total as f64))?;
            loss += l.f_double_value(&[])?;
            Ok(Some(l))
        })?;
        tokens += chunk.iter().map(|e| (e.prompt_ids.len() + e.target_ids.len()) as f64).sum::<f64>();
    }
    if !loss.is_finite() {
        return Err(TrainError::NonFinite { step: opt.step_count(), what: "sft loss" });
    }
    let gn = opt.clip_grad_norm(s.grad_clip)?;
    if gn.is_finite() {
        opt.step(s.lr)?;
    } else {
        tracing::warn!("non-finite gradient norm; SFT update skipped");
        opt.zero_grad()?;
    }
    Ok((loss, gn, tokens))
}
