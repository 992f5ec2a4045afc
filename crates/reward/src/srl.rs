//! The SRL reward (paper §4.2, docs/method.md §5) and the [`RewardFn`] seam the trainer plugs rewards
//! into.
//!
//! r = `difflib.SequenceMatcher(None, model_action, expert_action).ratio()` when the output
//! follows the format ([`crate::format`]), −1 otherwise; r ∈ [0, 1] ∪ {−1}. The monologue is
//! ignored. `a` = the model's action, `b` = the expert's (fixed; see
//! [`crate::sequence_matcher`]): the expert's index is built once per group and reused for all
//! G rollouts. Two empty actions cannot occur (an empty action is a format error), so CPython's
//! "both empty → 1.0" rule never decides a reward.
//!
//! SWE actions are compared in canonical form: the model's call is parsed and re-rendered
//! ([`srl_core::Action::to_canonical`]), so layout whitespace between the XML tags does not
//! count; the expert target is used as given (prepare writes it canonical).
//! [`Comparison::AsWritten`] compares the action text as the model wrote it instead.

use crate::format::{parse_output, FormatError};
use crate::sequence_matcher::{MatcherOptions, SequenceMatcher};
use crate::{Result, RewardError};
use rayon::prelude::*;
use srl_core::{RlvrItem, StepInstance, TaskKind};

/// Reward of an output that does not follow the format.
pub const FORMAT_ERROR_REWARD: f64 = -1.0;

/// What an output is scored against.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RewardTarget {
    /// SWE action or math step.
    pub kind: TaskKind,
    /// The expert's action (SRL): canonical tool-call text or step text.
    #[serde(default)]
    pub expert: Option<String>,
    /// The reference final answer (RLVR).
    #[serde(default)]
    pub answer: Option<String>,
}

impl RewardTarget {
    /// A target for the SRL reward.
    pub fn expert(kind: TaskKind, expert: impl Into<String>) -> Self {
        Self { kind, expert: Some(expert.into()), answer: None }
    }

    /// A target for the math answer reward.
    pub fn answer(answer: impl Into<String>) -> Self {
        Self { kind: TaskKind::Math, expert: None, answer: Some(answer.into()) }
    }

    /// The target of a step instance: its expert action and, for math, its reference answer.
    pub fn from_step(step: &StepInstance) -> Self {
        Self { kind: step.kind, expert: Some(step.target.clone()), answer: step.reference_answer.clone() }
    }

    /// The target of an RLVR item.
    pub fn from_rlvr(item: &RlvrItem) -> Self {
        Self::answer(item.answer.clone())
    }
}

/// The score of one output, with what a log needs to explain it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct RewardOutcome {
    /// The reward.
    pub reward: f64,
    /// Whether the output followed the format.
    pub format_ok: bool,
    /// Reason code of a format error ([`FormatError::kind`]), or why no answer was found.
    pub reason: Option<&'static str>,
    /// The extracted final answer (math answer reward).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub extracted: Option<String>,
}

impl RewardOutcome {
    /// A well-formed output's score.
    pub fn scored(reward: f64) -> Self {
        Self { reward, format_ok: true, reason: None, extracted: None }
    }

    /// A format error: reward −1 and the reason.
    pub fn format_error(err: &FormatError) -> Self {
        Self { reward: FORMAT_ERROR_REWARD, format_ok: false, reason: Some(err.kind()), extracted: None }
    }
}

/// A reward function: scores model outputs against a target. Implementations are shared by
/// the trainer's threads, hence `Send + Sync`.
pub trait RewardFn: Send + Sync {
    /// A short name for logs and metrics (`srl`, `math_answer`, …).
    fn name(&self) -> &'static str;

    /// Scores one output. Errors only when the target lacks what this reward needs.
    fn score(&self, output: &str, target: &RewardTarget) -> Result<RewardOutcome>;

    /// Scores the G outputs of one prompt. Implementations share per-target work (the SRL
    /// reward indexes the expert action once) and may use all cores.
    fn score_group(&self, outputs: &[String], target: &RewardTarget) -> Result<Vec<RewardOutcome>> {
        outputs.par_iter().map(|o| self.score(o, target)).collect()
    }
}

/// How the SRL reward compares actions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Comparison {
    /// The model's SWE call re-rendered canonically (default); math steps as written.
    #[default]
    Canonical,
    /// The action text as written (after `</think>`, trimmed).
    AsWritten,
}

/// Settings of the SRL reward.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct SrlConfig {
    /// Canonical or as-written comparison.
    #[serde(default)]
    pub comparison: Comparison,
    /// CPython's `autojunk` (default true, as the paper's `SequenceMatcher(...)` call).
    #[serde(default = "default_true")]
    pub autojunk: bool,
}

fn default_true() -> bool {
    true
}

impl Default for SrlConfig {
    fn default() -> Self {
        Self { comparison: Comparison::Canonical, autojunk: true }
    }
}

/// The SRL reward: SequenceMatcher ratio between the model's action and the expert's, −1 on a
/// format error.
#[derive(Debug, Clone, Copy, Default)]
pub struct SrlReward {
    /// Settings.
    pub config: SrlConfig,
}

/// The expert's action indexed once, to score many outputs against it.
#[derive(Debug, Clone)]
pub struct PreparedExpert {
    kind: TaskKind,
    comparison: Comparison,
    matcher: SequenceMatcher,
}

impl PreparedExpert {
    /// Scores one output against the indexed expert action.
    pub fn score(&self, output: &str) -> RewardOutcome {
        match parse_output(output, self.kind) {
            Err(e) => RewardOutcome::format_error(&e),
            Ok(parsed) => {
                let ratio = match self.comparison {
                    Comparison::Canonical => self.matcher.ratio(&parsed.canonical_action()),
                    Comparison::AsWritten => self.matcher.ratio(parsed.action_text),
                };
                RewardOutcome::scored(ratio)
            }
        }
    }
}

impl SrlReward {
    /// The SRL reward with the given settings.
    pub fn new(config: SrlConfig) -> Self {
        Self { config }
    }

    /// Indexes an expert action (the `b` of the SequenceMatcher).
    pub fn prepare(&self, kind: TaskKind, expert: &str) -> PreparedExpert {
        let options = MatcherOptions { autojunk: self.config.autojunk, isjunk: None };
        PreparedExpert {
            kind,
            comparison: self.config.comparison,
            matcher: SequenceMatcher::with_options(expert, options),
        }
    }

    fn prepare_target(&self, target: &RewardTarget) -> Result<PreparedExpert> {
        let expert =
            target.expert.as_deref().ok_or(RewardError::MissingTargetField { reward: "srl", field: "expert" })?;
        Ok(self.prepare(target.kind, expert))
    }
}

impl RewardFn for SrlReward {
    fn name(&self) -> &'static str {
        "srl"
    }

    fn score(&self, output: &str, target: &RewardTarget) -> Result<RewardOutcome> {
        Ok(self.prepare_target(target)?.score(output))
    }

    fn score_group(&self, outputs: &[String], target: &RewardTarget) -> Result<Vec<RewardOutcome>> {
        let prepared = self.prepare_target(target)?;
        Ok(outputs.par_iter().map(|o| prepared.score(o)).collect())
    }
}

/// `srl_reward(output, expert)`: the SRL reward with default settings (canonical comparison,
/// autojunk on) for an SWE or math output.
pub fn srl_reward(output: &str, expert: &str, kind: TaskKind) -> f64 {
    SrlReward::default().prepare(kind, expert).score(output).reward
}

/// One group of a batch: the G outputs of one prompt and their target.
#[derive(Debug, Clone, Copy)]
pub struct Group<'a> {
    /// Model outputs.
    pub outputs: &'a [String],
    /// What they are scored against.
    pub target: &'a RewardTarget,
}

pub use srl_core::progress::{NoProgress, Progress};

/// Scores many groups on all cores (rayon's global pool): per group, [`RewardFn::score_group`].
/// Results are in input order; a group whose target lacks a field yields its error.
pub fn score_batch(
    reward: &dyn RewardFn,
    groups: &[Group<'_>],
    progress: &dyn Progress,
) -> Vec<Result<Vec<RewardOutcome>>> {
    let results: Vec<Result<Vec<RewardOutcome>>> = groups
        .par_iter()
        .map(|g| {
            let out = reward.score_group(g.outputs, g.target);
            progress.advance(g.outputs.len() as u64);
            out
        })
        .collect();
    let scored: Vec<&RewardOutcome> = results.iter().flatten().flatten().collect();
    let format_errors = scored.iter().filter(|o| !o.format_ok).count();
    let failed_groups = results.iter().filter(|r| r.is_err()).count();
    tracing::debug!(
        reward = reward.name(),
        groups = groups.len(),
        outputs = scored.len(),
        format_errors,
        failed_groups,
        "scored batch"
    );
    results
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicU64, Ordering};

    const LS: &str = "<function=bash>\n<parameter=command>ls -la</parameter>\n</function>";

    #[test]
    fn exact_action_scores_one_and_layout_does_not_count() {
        let out = format!("<think>list files</think>\n{LS}");
        assert_eq!(srl_reward(&out, LS, TaskKind::Swe), 1.0);
        let spaced = "<think>x</think>  <function=bash>  <parameter=command>ls -la</parameter></function>";
        assert_eq!(srl_reward(spaced, LS, TaskKind::Swe), 1.0);
        let as_written = SrlReward::new(SrlConfig { comparison: Comparison::AsWritten, autojunk: true });
        let r = as_written.score(spaced, &RewardTarget::expert(TaskKind::Swe, LS)).unwrap().reward;
        // CPython: SequenceMatcher(None, "<function=bash>  <parameter=command>ls -la</parameter>
        // </function>", LS).ratio() == 0.9692307692307692 (the written text, without newlines).
        assert_eq!(r, 0.9692307692307692);
    }

    #[test]
    fn config_defaults_and_unknown_fields() {
        let c: SrlConfig = serde_json::from_str("{}").unwrap();
        assert_eq!(c, SrlConfig { comparison: Comparison::Canonical, autojunk: true });
        let c: SrlConfig = serde_json::from_str(r#"{"comparison": "as-written", "autojunk": false}"#).unwrap();
        assert_eq!(c, SrlConfig { comparison: Comparison::AsWritten, autojunk: false });
        assert!(serde_json::from_str::<SrlConfig>(r#"{"auto-junk": false}"#).is_err());
    }

    #[test]
    fn format_error_is_minus_one_with_reason() {
        let o = SrlReward::default().score("no think", &RewardTarget::expert(TaskKind::Swe, LS)).unwrap();
        assert_eq!(o, RewardOutcome { reward: -1.0, format_ok: false, reason: Some("missing_think"), extracted: None });
    }

    #[test]
    fn reward_is_ratio_with_model_as_a_and_expert_as_b() {
        // docs/method.md §6: SequenceMatcher(None, "abcd", "bcde").ratio() == 0.75.
        let r = srl_reward("<think>t</think>abcd", "bcde", TaskKind::Math);
        assert_eq!(r, 0.75);
        // Asymmetric golden pair: a = "ab"*10 + "x" (model), b = "ab"*150 (expert).
        let model = format!("<think>t</think>{}x", "ab".repeat(10));
        assert_eq!(srl_reward(&model, &"ab".repeat(150), TaskKind::Math), 0.12461059190031153);
    }

    #[test]
    fn batch_matches_single_scores_and_reports_progress() {
        struct Count(AtomicU64);
        impl Progress for Count {
            fn advance(&self, n: u64) {
                self.0.fetch_add(n, Ordering::Relaxed);
            }
        }
        let outputs: Vec<String> = vec![
            format!("<think>a</think>{LS}"),
            "<think>a</think><function=bash><parameter=command>ls</parameter></function>".into(),
            "garbage".into(),
        ];
        let targets = [RewardTarget::expert(TaskKind::Swe, LS), RewardTarget::answer("4")];
        let groups =
            [Group { outputs: &outputs, target: &targets[0] }, Group { outputs: &outputs, target: &targets[1] }];
        let count = Count(AtomicU64::new(0));
        let reward = SrlReward::default();
        let results = score_batch(&reward, &groups, &count);
        let first = results[0].as_ref().unwrap();
        for (o, got) in outputs.iter().zip(first) {
            assert_eq!(got, &reward.score(o, &targets[0]).unwrap());
        }
        assert_eq!(first[0].reward, 1.0);
        assert_eq!(first[2].reward, -1.0);
        assert_eq!(results[1], Err(RewardError::MissingTargetField { reward: "srl", field: "expert" }));
        assert_eq!(count.0.load(Ordering::Relaxed), 6);
    }
}
