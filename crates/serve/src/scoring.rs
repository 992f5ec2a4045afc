//! Scoring items on a bounded CPU pool with a per-item time budget and input caps: the rules
//! that veRL and OpenRLHF force on a reward server (`docs/engines.md`).
//!
//! - Every item gets an [`ItemResult`] with the same four keys and finite numbers; an item that
//!   cannot be scored (missing target, over the length cap, over the time budget, a panic) scores
//!   [`FORMAT_ERROR_REWARD`] with `error = 1` (OpenRLHF aborts a run when a reward is missing; veRL
//!   builds its batch from the first sample's keys).
//! - The SRL reward is `srl_reward::SrlReward` (CPython `SequenceMatcher(None, model_action,
//!   expert_action).ratio()`, −1 on a format error) and RLVR is `srl_reward::MathAnswerReward`:
//!   the trainer's own code.
//! - The expert action of a batch's items is indexed once per distinct (kind, expert) and shared
//!   by its items (TRL and veRL send the G rollouts of a prompt together).
//! - The budget counts scoring time only, from the moment a worker picks the item up, so a full
//!   queue under load never turns correct scores into errors. SequenceMatcher cannot be
//!   interrupted: the worker finishes the item in the background (bounded by the length cap) while
//!   the answer goes out on time.

use crate::config::{ItemKind, RewardServerConfig};
use crate::error::Result;
use crate::metrics::{ItemError, Metrics};
use serde::Serialize;
use srl_core::TaskKind;
use srl_reward::{MathAnswerReward, PreparedExpert, SrlReward, FORMAT_ERROR_REWARD};
use std::collections::HashMap;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::oneshot;

/// One pair to score.
#[derive(Debug, Clone, PartialEq)]
pub struct Item {
    /// The model's output (monologue and action).
    pub response: String,
    /// What it is scored as.
    pub kind: ItemKind,
    /// The expert action (SRL kinds).
    pub expert: Option<String>,
    /// The reference final answer (RLVR).
    pub answer: Option<String>,
}

/// The result of one item: the same keys on every path, numbers only (engines log each key as a
/// metric, and torch cannot average booleans).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ItemResult {
    /// The reward: SRL ratio in [0, 1], −1 on a format error or failure; RLVR correct/wrong.
    pub score: f64,
    /// 1 if the output followed the `<think>…</think>` + action format, else 0.
    pub format_ok: f64,
    /// SequenceMatcher ratio of the action (0 when the format failed, for RLVR, or on error).
    pub srl_ratio: f64,
    /// 1 if the item could not be scored (then `score` is −1), else 0.
    pub error: f64,
}

impl ItemResult {
    /// The result of an item that could not be scored.
    pub const FAILED: Self = Self { score: FORMAT_ERROR_REWARD, format_ok: 0.0, srl_ratio: 0.0, error: 1.0 };
}

/// Scores items on its own thread pool.
pub struct Scorer {
    pool: rayon::ThreadPool,
    srl: SrlReward,
    answer: MathAnswerReward,
    budget: Duration,
    max_chars: usize,
    metrics: Arc<Metrics>,
}

/// A unit of pool work: the items of one (kind, expert) group with their result slots.
struct Slot {
    response: String,
    started: oneshot::Sender<()>,
    done: oneshot::Sender<ItemResult>,
}

enum Target {
    Srl(String),
    Answer(String),
}

impl Scorer {
    /// A scorer with `config.workers` threads.
    pub fn new(config: &RewardServerConfig, metrics: Arc<Metrics>) -> Result<Self> {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(config.workers)
            .thread_name(|i| format!("srl-serve-score-{i}"))
            .build()?;
        // The graders build their regex tables on first use (~1 s in a debug build): do it now, so
        // that the first RLVR item is not charged for it against its time budget.
        let answer = config.answer;
        let srl = SrlReward::new(config.srl);
        pool.install(|| {
            let _ = answer.grade("<think>t</think>\\boxed{\\frac{1}{2}}", "0.5");
            let _ = srl.prepare(TaskKind::Swe, "<function=submit>\n</function>").score("<think>t</think>x");
        });
        Ok(Self {
            pool,
            srl,
            answer: config.answer,
            budget: Duration::from_millis(config.item_budget_ms),
            max_chars: config.max_item_chars,
            metrics,
        })
    }

    /// Scores `items`, results in input order.
    pub async fn score(&self, items: Vec<Item>) -> Vec<ItemResult> {
        let n = items.len();
        let mut results = vec![None; n];
        let mut groups: HashMap<(ItemKind, String), Vec<Slot>> = HashMap::new();
        let mut waits = Vec::with_capacity(n);
        for (index, item) in items.into_iter().enumerate() {
            let target = match self.check(&item) {
                Ok(target) => target,
                Err(reason) => {
                    self.metrics.item_error(reason);
                    results[index] = Some(ItemResult::FAILED);
                    continue;
                }
            };
            let (started_tx, started_rx) = oneshot::channel();
            let (done_tx, done_rx) = oneshot::channel();
            let key = match target {
                Target::Srl(expert) => (item.kind, expert),
                Target::Answer(answer) => (ItemKind::Rlvr, answer),
            };
            groups.entry(key).or_default().push(Slot { response: item.response, started: started_tx, done: done_tx });
            waits.push((index, started_rx, done_rx));
        }
        for ((kind, target), slots) in groups {
            self.dispatch(kind, target, slots);
        }
        for (index, started, done) in waits {
            let result = if started.await.is_err() {
                self.metrics.item_error(ItemError::Internal);
                ItemResult::FAILED
            } else {
                match tokio::time::timeout(self.budget, done).await {
                    Ok(Ok(r)) if r.score.is_finite() && r.srl_ratio.is_finite() => r,
                    Ok(Ok(_)) | Ok(Err(_)) => {
                        self.metrics.item_error(ItemError::Internal);
                        ItemResult::FAILED
                    }
                    Err(_) => {
                        tracing::warn!(budget_ms = self.budget.as_millis() as u64, "item over its time budget");
                        self.metrics.item_error(ItemError::Budget);
                        ItemResult::FAILED
                    }
                }
            };
            results[index] = Some(result);
        }
        self.metrics.items_scored(n as u64);
        results.into_iter().map(|r| r.unwrap_or(ItemResult::FAILED)).collect()
    }

    fn check(&self, item: &Item) -> std::result::Result<Target, ItemError> {
        let too_long = |s: &str| s.len() > self.max_chars && s.chars().count() > self.max_chars;
        if too_long(item.response.as_str()) {
            return Err(ItemError::TooLong);
        }
        let target = match item.kind {
            ItemKind::Swe | ItemKind::Math => {
                let expert = item.expert.clone().filter(|e| !e.is_empty()).ok_or(ItemError::MissingTarget)?;
                Target::Srl(expert)
            }
            ItemKind::Rlvr => Target::Answer(item.answer.clone().ok_or(ItemError::MissingTarget)?),
        };
        let target_text = match &target {
            Target::Srl(t) | Target::Answer(t) => t.as_str(),
        };
        if too_long(target_text) {
            return Err(ItemError::TooLong);
        }
        Ok(target)
    }

    /// Runs one group on the pool: the expert is indexed once, then each item is its own task so
    /// a slow item does not hold up its siblings.
    fn dispatch(&self, kind: ItemKind, target: String, slots: Vec<Slot>) {
        let srl = self.srl;
        let answer = self.answer;
        self.pool.spawn(move || {
            let prepared: Option<Arc<PreparedExpert>> = match kind {
                ItemKind::Swe => Some(Arc::new(srl.prepare(TaskKind::Swe, &target))),
                ItemKind::Math => Some(Arc::new(srl.prepare(TaskKind::Math, &target))),
                ItemKind::Rlvr => None,
            };
            let target = Arc::new(target);
            for slot in slots {
                let prepared = prepared.clone();
                let target = Arc::clone(&target);
                rayon::spawn(move || {
                    if slot.started.send(()).is_err() {
                        return; // the request is gone (client hung up): nothing to do
                    }
                    let outcome = std::panic::catch_unwind(AssertUnwindSafe(|| match &prepared {
                        Some(p) => {
                            let o = p.score(&slot.response);
                            ItemResult {
                                score: o.reward,
                                format_ok: if o.format_ok { 1.0 } else { 0.0 },
                                srl_ratio: if o.format_ok { o.reward } else { 0.0 },
                                error: 0.0,
                            }
                        }
                        None => {
                            let o = answer.grade(&slot.response, &target);
                            ItemResult {
                                score: o.reward,
                                format_ok: if o.format_ok { 1.0 } else { 0.0 },
                                srl_ratio: 0.0,
                                error: 0.0,
                            }
                        }
                    }));
                    let _ = slot.done.send(outcome.unwrap_or(ItemResult::FAILED));
                });
            }
        });
    }
}
