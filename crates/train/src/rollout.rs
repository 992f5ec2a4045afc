//! The rollout seam between where trajectories come from and the GRPO update (veRL's
//! `AgentLoop` / TRL's `rollout_func` play the same role): a [`RolloutSource`] samples a group
//! of G [`Trajectory`]s for each prompt item it is asked for, each with its token ids, a loss
//! mask and a reward. The update (`crate::update`) only ever sees trajectories, so a multi-turn
//! SWE episode source (tool observations inside the response, masked out of the loss) plugs in
//! without touching `grpo.rs` or the update loop. `docs/training.md` describes the contract.
//!
//! [`TextRollouts`] is the first implementation: one text turn per trajectory (the SRL step
//! reward or the math answer reward), sampled through `srl-model`'s generation with one seed
//! per trajectory, so what a trajectory draws depends on (run seed, step, round, item slot,
//! sample index) only — not on how trajectories are batched.

use crate::data::PromptItem;
use crate::error::{Result, TrainError};
use crate::rng::SplitMix64;
use srl_model::{GenerationConfig, Policy};
use srl_reward::RewardFn;
use std::path::PathBuf;
use std::time::Instant;

/// One sampled trajectory, ready for the update.
///
/// `response_ids` is everything after the prompt (policy tokens, and for multi-turn episodes the
/// observation tokens between them); `loss_mask[i]` says whether `response_ids[i]` was produced
/// by the policy and is trained on. Masked tokens still sit in the sequence the policy conditions
/// on; they just carry no loss and no log-prob.
#[derive(Debug, Clone, PartialEq)]
pub struct Trajectory {
    /// Context tokens (chat template, generation prompt, response prefix). Never trained on.
    pub prompt_ids: Vec<u32>,
    /// Tokens after the prompt.
    pub response_ids: Vec<u32>,
    /// One entry per `response_ids` token: true = policy token with loss.
    pub loss_mask: Vec<bool>,
    /// Scalar reward of the whole trajectory.
    pub reward: f64,
    /// Whether the output followed the format (false counts as a format error in metrics).
    pub format_ok: bool,
    /// Text of the response as scored (for logs).
    pub text: String,
}

impl Trajectory {
    /// Checks the invariants the update relies on.
    pub fn validate(&self) -> Result<()> {
        if self.prompt_ids.is_empty() {
            return Err(TrainError::invalid("trajectory.prompt_ids", "empty (the first token has no log-prob)"));
        }
        if self.loss_mask.len() != self.response_ids.len() {
            return Err(TrainError::Shape {
                what: "Trajectory",
                detail: format!(
                    "{} mask entries for {} response tokens",
                    self.loss_mask.len(),
                    self.response_ids.len()
                ),
            });
        }
        if !self.reward.is_finite() {
            return Err(TrainError::invalid("trajectory.reward", format!("{} is not finite", self.reward)));
        }
        Ok(())
    }

    /// Trained tokens.
    pub fn trained_tokens(&self) -> usize {
        self.loss_mask.iter().filter(|m| **m).count()
    }
}

/// The G trajectories of one prompt item; advantages are normalized within it.
#[derive(Debug, Clone, PartialEq)]
pub struct RolloutGroup {
    /// Index of the item in the source.
    pub item: usize,
    /// The trajectories (G of them).
    pub trajectories: Vec<Trajectory>,
}

impl RolloutGroup {
    /// The rewards, in order.
    pub fn rewards(&self) -> Vec<f64> {
        self.trajectories.iter().map(|t| t.reward).collect()
    }
}

/// What the trainer asks of a source for one generation round.
#[derive(Debug, Clone)]
pub struct RolloutRequest<'a> {
    /// Item indices (into the source), one group each, in this order.
    pub items: &'a [usize],
    /// G.
    pub group_size: usize,
    /// Sampling settings (temperature, top-p, max new tokens); seeds are set per trajectory.
    pub generation: &'a GenerationConfig,
    /// Seed of this round; trajectory j of slot k uses [`trajectory_seed`]`(seed, k, j)`.
    pub seed: u64,
}

/// Groups sampled in one round, with timings for the metrics.
#[derive(Debug, Clone, Default)]
pub struct RolloutBatch {
    /// One group per requested item, in request order.
    pub groups: Vec<RolloutGroup>,
    /// Tokens the policy generated.
    pub generated_tokens: usize,
    /// Seconds generating.
    pub generate_s: f64,
    /// Seconds scoring.
    pub score_s: f64,
}

/// Where GRPO's trajectories come from.
pub trait RolloutSource {
    /// Short name for logs.
    fn name(&self) -> &str;
    /// Number of prompt items (the trainer's data cursor walks `0..len()`).
    fn len(&self) -> usize;
    /// Whether there are no items.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Samples `request.group_size` trajectories for each of `request.items` with `policy`.
    fn sample(&mut self, policy: &Policy, request: &RolloutRequest<'_>) -> Result<RolloutBatch>;
}

/// The seed of trajectory `sample` of request slot `slot` in a round seeded with `round_seed`.
pub fn trajectory_seed(round_seed: u64, slot: usize, sample: usize) -> u64 {
    SplitMix64::derive(round_seed, &[slot as u64, sample as u64]).next_u64()
}

/// Single-turn text rollouts scored by a [`RewardFn`] (the SRL step reward or the math reward).
pub struct TextRollouts {
    items: Vec<PromptItem>,
    reward: Box<dyn RewardFn>,
    prefix: String,
    generation_batch: usize,
    origin: PathBuf,
}

impl std::fmt::Debug for TextRollouts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TextRollouts").field("items", &self.items.len()).field("prefix", &self.prefix).finish()
    }
}

impl TextRollouts {
    /// Rollouts over `items` (read from `origin`, named in errors): the prompt is the chat
    /// template with the generation prompt, then `prefix` (e.g. `<think>`); the scored text is
    /// `prefix` + the decoded response. `generation_batch` sequences go through one generate call.
    pub fn new(
        items: Vec<PromptItem>,
        reward: Box<dyn RewardFn>,
        prefix: String,
        generation_batch: usize,
        origin: PathBuf,
    ) -> Self {
        Self { items, reward, prefix, generation_batch: generation_batch.max(1), origin }
    }

    /// The items.
    pub fn items(&self) -> &[PromptItem] {
        &self.items
    }
}

/// Prompt ids of a chat plus a response prefix.
pub fn prompt_ids(policy: &Policy, messages: &[srl_core::Message], prefix: &str) -> Result<Vec<u32>> {
    let mut ids = policy.prompt_ids(messages)?;
    if !prefix.is_empty() {
        ids.extend(policy.encode_text(prefix)?);
    }
    Ok(ids)
}

impl RolloutSource for TextRollouts {
    fn name(&self) -> &str {
        "text"
    }

    fn len(&self) -> usize {
        self.items.len()
    }

    fn sample(&mut self, policy: &Policy, request: &RolloutRequest<'_>) -> Result<RolloutBatch> {
        let g = request.group_size;
        let mut prompts = Vec::with_capacity(request.items.len());
        for &i in request.items {
            let item =
                self.items.get(i).ok_or_else(|| TrainError::invalid("rollout.item", format!("{i} out of range")))?;
            prompts.push(prompt_ids(policy, &item.messages, &self.prefix)?);
        }
        // (slot, sample) of every trajectory, in order.
        let slots: Vec<(usize, usize)> = (0..prompts.len()).flat_map(|k| (0..g).map(move |j| (k, j))).collect();
        let t0 = Instant::now();
        let mut gens = Vec::with_capacity(slots.len());
        for chunk in slots.chunks(self.generation_batch) {
            let batch: Vec<Vec<u32>> = chunk.iter().map(|&(k, _)| prompts[k].clone()).collect();
            let config = GenerationConfig {
                sequence_seeds: chunk.iter().map(|&(k, j)| trajectory_seed(request.seed, k, j)).collect(),
                ..request.generation.clone()
            };
            gens.extend(policy.generate(&batch, &config)?);
        }
        let generate_s = t0.elapsed().as_secs_f64();
        let generated_tokens = gens.iter().map(|x| x.token_ids.len()).sum();
        let t1 = Instant::now();
        let mut groups = Vec::with_capacity(prompts.len());
        let mut gens = gens.into_iter();
        for (k, &i) in request.items.iter().enumerate() {
            let outs: Vec<srl_model::Generation> = gens.by_ref().take(g).collect();
            let texts: Vec<String> =
                outs.iter().map(|o| format!("{}{}", self.prefix, o.text.as_deref().unwrap_or(""))).collect();
            let scored = self.reward.score_group(&texts, &self.items[i].target).map_err(|e| TrainError::Data {
                path: self.origin.clone(),
                line: 0,
                field: self.items[i].id.clone(),
                message: e.to_string(),
            })?;
            let trajectories = outs
                .into_iter()
                .zip(texts)
                .zip(scored)
                .map(|((o, text), s)| Trajectory {
                    prompt_ids: prompts[k].clone(),
                    loss_mask: vec![true; o.token_ids.len()],
                    response_ids: o.token_ids,
                    reward: s.reward,
                    format_ok: s.format_ok,
                    text,
                })
                .collect();
            groups.push(RolloutGroup { item: i, trajectories });
        }
        Ok(RolloutBatch { groups, generated_tokens, generate_s, score_s: t1.elapsed().as_secs_f64() })
    }
}
