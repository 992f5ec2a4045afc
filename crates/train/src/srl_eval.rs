//! SRL evaluation on held-out step instances (SRL, arXiv 2510.25992 §4–5): the policy writes
//! `<think>…</think>` and the next action for each instance's context; the SRL reward
//! (`srl-reward`, the exact CPython `SequenceMatcher` ratio of the action against the expert's,
//! −1 on a format error) scores it. Greedy by default (the paper validates greedily, veRL's
//! default too), or the mean over K samples. `srl-swe eval --mode srl` and the trainer's
//! validation of SRL stages both call [`evaluate_srl_with`].

use crate::data::PromptItem;
use crate::error::{Result, TrainError};
use crate::rollout::{prompt_ids, trajectory_seed};
use serde::{Deserialize, Serialize};
use srl_model::{GenerationConfig, Policy};
use srl_reward::{RewardFn, SrlReward};

/// Settings of an SRL evaluation.
#[derive(Debug, Clone, PartialEq)]
pub struct SrlEvalOptions {
    /// Samples per instance; 0 or 1 = one greedy output.
    pub samples: usize,
    /// Sampling temperature when `samples > 1`.
    pub temperature: f64,
    /// Longest response.
    pub max_new_tokens: usize,
    /// Sequences per generation call.
    pub batch_size: usize,
    /// Seed of the samples.
    pub seed: u64,
    /// Text opening each response (the trainer's `rollout.response-prefix`).
    pub response_prefix: String,
}

impl Default for SrlEvalOptions {
    fn default() -> Self {
        Self {
            samples: 1,
            temperature: 1.0,
            max_new_tokens: 256,
            batch_size: 16,
            seed: 0,
            response_prefix: String::new(),
        }
    }
}

impl SrlEvalOptions {
    /// Whether decoding is greedy.
    pub fn greedy(&self) -> bool {
        self.samples <= 1
    }
}

/// One instance's outputs and scores (a line of `results.jsonl`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SrlResult {
    /// Instance id.
    pub id: String,
    /// The expert action.
    pub target: String,
    /// Outputs (prefix included), one per sample.
    pub outputs: Vec<String>,
    /// SRL reward of each output.
    pub rewards: Vec<f64>,
    /// Outputs with a format error.
    pub format_errors: usize,
    /// Mean of `rewards`.
    pub mean_reward: f64,
}

/// Aggregate scores (`report.json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SrlReport {
    /// Instances evaluated.
    pub instances: usize,
    /// Mean over instances of the per-instance mean reward.
    pub mean_reward: f64,
    /// Share of all outputs with a format error.
    pub format_error_rate: f64,
    /// Outputs per instance.
    pub samples: usize,
    /// Whether decoding was greedy.
    pub greedy: bool,
    /// Records skipped while loading.
    pub skipped: usize,
}

/// Evaluates the local `policy` (generation through `srl-model`).
pub fn evaluate_srl(
    policy: &Policy,
    items: &[PromptItem],
    opts: &SrlEvalOptions,
    progress: &dyn Fn(usize),
) -> Result<(Vec<SrlResult>, SrlReport)> {
    let k = opts.samples.max(1);
    let mut complete = |batch: &[&PromptItem], first: usize| -> Result<Vec<String>> {
        let prompts = batch
            .iter()
            .map(|it| prompt_ids(policy, &it.messages, &opts.response_prefix))
            .collect::<Result<Vec<_>>>()?;
        let mut out = Vec::with_capacity(batch.len() * k);
        for chunk_start in (0..prompts.len()).step_by(opts.batch_size.max(1).div_ceil(k).max(1)) {
            let chunk_end = (chunk_start + opts.batch_size.max(1).div_ceil(k).max(1)).min(prompts.len());
            let expanded: Vec<Vec<u32>> =
                (chunk_start..chunk_end).flat_map(|i| std::iter::repeat_n(prompts[i].clone(), k)).collect();
            let config = if opts.greedy() {
                GenerationConfig::greedy(opts.max_new_tokens)
            } else {
                GenerationConfig {
                    max_new_tokens: opts.max_new_tokens,
                    temperature: opts.temperature,
                    sequence_seeds: (chunk_start..chunk_end)
                        .flat_map(|i| (0..k).map(move |j| trajectory_seed(opts.seed, first + i, j)))
                        .collect(),
                    ..GenerationConfig::default()
                }
            };
            for g in policy.generate(&expanded, &config)? {
                out.push(format!("{}{}", opts.response_prefix, g.text.unwrap_or_default()));
            }
        }
        Ok(out)
    };
    evaluate_srl_with(items, &mut complete, opts, progress)
}

/// A completer for [`evaluate_srl_with`]: `(batch, first)` → outputs.
pub type Completer<'a> = dyn FnMut(&[&PromptItem], usize) -> Result<Vec<String>> + 'a;

/// Evaluates any completer: `complete(batch, first)` returns `opts.samples.max(1)` outputs per
/// item of `batch` (item-major; `first` is the index of `batch[0]` in `items`), each the full
/// text to score (response prefix included).
pub fn evaluate_srl_with(
    items: &[PromptItem],
    complete: &mut Completer<'_>,
    opts: &SrlEvalOptions,
    progress: &dyn Fn(usize),
) -> Result<(Vec<SrlResult>, SrlReport)> {
    let k = opts.samples.max(1);
    let reward = SrlReward::default();
    let mut results = Vec::with_capacity(items.len());
    let per_call = opts.batch_size.max(1).div_ceil(k).max(1);
    for (c, chunk) in items.chunks(per_call).enumerate() {
        let refs: Vec<&PromptItem> = chunk.iter().collect();
        let outs = complete(&refs, c * per_call)?;
        if outs.len() != chunk.len() * k {
            return Err(TrainError::Shape {
                what: "evaluate_srl_with",
                detail: format!("{} outputs for {} items × {k} samples", outs.len(), chunk.len()),
            });
        }
        for (item, group) in chunk.iter().zip(outs.chunks(k)) {
            let scored = reward.score_group(group, &item.target).map_err(|e| TrainError::Data {
                path: "<srl eval>".into(),
                line: 0,
                field: item.id.clone(),
                message: e.to_string(),
            })?;
            let rewards: Vec<f64> = scored.iter().map(|s| s.reward).collect();
            results.push(SrlResult {
                id: item.id.clone(),
                target: item.target.expert.clone().unwrap_or_default(),
                outputs: group.to_vec(),
                format_errors: scored.iter().filter(|s| !s.format_ok).count(),
                mean_reward: rewards.iter().sum::<f64>() / k as f64,
                rewards,
            });
        }
        progress(results.len());
    }
    let n = results.len();
    let report = SrlReport {
        instances: n,
        mean_reward: if n == 0 { 0.0 } else { results.iter().map(|r| r.mean_reward).sum::<f64>() / n as f64 },
        format_error_rate: if n == 0 {
            0.0
        } else {
            results.iter().map(|r| r.format_errors).sum::<usize>() as f64 / (n * k) as f64
        },
        samples: k,
        greedy: opts.greedy(),
        skipped: 0,
    };
    Ok((results, report))
}
