//! The TOML run configuration of `srl-swe train`: a file layer (serde, `deny_unknown_fields`,
//! defaults from the SRL paper, arXiv 2510.25992 App. B / `docs/training.md`), `--set
//! key=value` overrides on dotted paths, and a validated resolved layer with one entry per stage
//! (so SRL → RLVR is one run). The resolved config and the seed are written into the run folder
//! before step 0.
//!
//! ```toml
//! seed = 1
//! output-dir = "runs/demo"
//! [model]
//! path = "models/tiny"
//! [[stages]]
//! name = "sft"
//! kind = "sft"
//! data = "datasets/toy-srl/train.jsonl"
//! steps = 5
//! [[stages]]
//! name = "srl"
//! data = "datasets/toy-srl/train.jsonl"
//! reward = "srl"
//! steps = 20
//! [[stages]]
//! name = "rlvr"
//! data = "out/math/rlvr.jsonl"
//! reward = "math"
//! epochs = 1
//! optimizer = { lr = 1e-6 }
//! ```

use crate::error::{Result, TrainError};
use crate::grpo::{AdvantageNorm, KlEstimator, LossAgg, PolicyLossConfig};
use crate::optimizer::AdamWConfig;
use crate::schedule::ScheduleKind;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

pub mod episode;
pub use episode::{EpisodeReward, StageRollout, SweEpisodeConfig};

/// Most rollouts per prompt accepted (the paper uses 8).
pub const MAX_GROUP_SIZE: usize = 1024;
/// Longest response accepted, in tokens.
pub const MAX_NEW_TOKENS: usize = 131_072;
/// Most rollouts (prompts × group) one step may hold in memory.
pub const MAX_ROLLOUTS_PER_STEP: u64 = 65_536;

/// Where the policy comes from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ModelConfig {
    /// Checkpoint folder (HF layout for Qwen2; `config.json` names the architecture).
    pub path: PathBuf,
    /// Create the checkpoint when `path` holds none, as `srl-swe model init --preset <init>`
    /// would (seeded with the run seed): `"toy"` (character tokenizer, for `datasets/toy-srl`),
    /// `"tiny"` (BPE tokenizer trained on `init-corpus`), or a Qwen2.5 shape.
    #[serde(default)]
    pub init: Option<String>,
    /// Tokenizer training text for `init` presets with a BPE tokenizer (default: `datasets`,
    /// `environments`, `README.md`, `docs`, `crates`, whichever exist).
    #[serde(default)]
    pub init_corpus: Vec<PathBuf>,
    /// `cpu`, `cuda` or `auto`.
    #[serde(default = "default_device")]
    pub device: String,
    /// Frozen reference for the KL penalty (defaults to `path`); loaded only when `kl-coef > 0`.
    #[serde(default)]
    pub reference: Option<PathBuf>,
}

fn default_device() -> String {
    "cpu".into()
}

/// Rollout generation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct RolloutConfig {
    /// G: rollouts per prompt (paper: 8).
    pub group_size: usize,
    /// Sampling temperature (paper: 1.0).
    pub temperature: f64,
    /// Nucleus mass (1.0 = off).
    pub top_p: f64,
    /// Longest response in tokens.
    pub max_new_tokens: usize,
    /// Text that opens every response (appended to the prompt, prepended to the response text
    /// before scoring), e.g. `<think>` as reasoning-model templates do. Empty = none.
    pub response_prefix: String,
    /// Sequences per generation call.
    pub generation_batch: usize,
}

impl Default for RolloutConfig {
    fn default() -> Self {
        Self {
            group_size: 8,
            temperature: 1.0,
            top_p: 1.0,
            max_new_tokens: 512,
            response_prefix: String::new(),
            generation_batch: 64,
        }
    }
}

/// Advantage and loss settings (veRL names in the docs of each field).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct AlgorithmConfig {
    /// `group-std` (GRPO) or `mean-only` (Dr. GRPO).
    pub adv_norm: AdvantageNorm,
    /// ε in (r − mean)/(std + ε) (veRL 1e-6).
    pub adv_eps: f64,
    /// Unbiased (N−1) std for advantages (veRL, TRL).
    pub adv_std_unbiased: bool,
    /// ε_low of the ratio clip.
    pub clip_low: f64,
    /// ε_high of the ratio clip (clip-higher).
    pub clip_high: f64,
    /// Dual-clip constant c > 1 (off when absent).
    pub dual_clip: Option<f64>,
    /// `token-mean`, `seq-mean-token-sum`, `seq-mean-token-mean`, `seq-mean-token-sum-norm`.
    pub loss_agg: LossAgg,
    /// KL penalty coefficient (paper: 0; then no reference model is loaded).
    pub kl_coef: f64,
    /// KL estimator.
    pub kl_estimator: KlEstimator,
    /// Entropy bonus coefficient (loss −= coef · entropy).
    pub entropy_coef: f64,
}

impl Default for AlgorithmConfig {
    fn default() -> Self {
        Self {
            adv_norm: AdvantageNorm::GroupStd,
            adv_eps: 1e-6,
            adv_std_unbiased: true,
            clip_low: 0.2,
            clip_high: 0.2,
            dual_clip: None,
            loss_agg: LossAgg::TokenMean,
            kl_coef: 0.0,
            kl_estimator: KlEstimator::LowVarKl,
            entropy_coef: 0.0,
        }
    }
}

impl AlgorithmConfig {
    /// The loss settings.
    pub fn policy_loss(&self) -> PolicyLossConfig {
        PolicyLossConfig {
            clip_low: self.clip_low,
            clip_high: self.clip_high,
            dual_clip: self.dual_clip,
            agg: self.loss_agg,
        }
    }
}

/// Dynamic sampling (paper §4.3).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct DynamicSamplingConfig {
    /// Filter groups by reward spread.
    pub enabled: bool,
    /// Keep a group iff its population reward std exceeds this.
    pub std_eps: f64,
    /// Generation rounds per step before training on what is there.
    pub max_rounds: usize,
}

impl Default for DynamicSamplingConfig {
    fn default() -> Self {
        Self { enabled: true, std_eps: 1e-4, max_rounds: 10 }
    }
}

/// Optimizer (paper: lr 5e-7, max grad norm 1.0).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct OptimizerConfig {
    /// Peak learning rate.
    pub lr: f64,
    /// AdamW β1.
    pub beta1: f64,
    /// AdamW β2.
    pub beta2: f64,
    /// AdamW ε.
    pub eps: f64,
    /// Decoupled weight decay.
    pub weight_decay: f64,
    /// Global grad-norm clip (≤ 0 = off).
    pub grad_clip: f64,
}

impl Default for OptimizerConfig {
    fn default() -> Self {
        let a = AdamWConfig::default();
        Self { lr: 5e-7, beta1: a.beta1, beta2: a.beta2, eps: a.eps, weight_decay: a.weight_decay, grad_clip: 1.0 }
    }
}

impl OptimizerConfig {
    /// The AdamW part.
    pub fn adamw(&self) -> AdamWConfig {
        AdamWConfig { beta1: self.beta1, beta2: self.beta2, eps: self.eps, weight_decay: self.weight_decay }
    }
}

/// Per-stage optimizer overrides (absent fields inherit the run's).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct OptimizerOverride {
    /// Peak learning rate.
    pub lr: Option<f64>,
    /// AdamW β1.
    pub beta1: Option<f64>,
    /// AdamW β2.
    pub beta2: Option<f64>,
    /// AdamW ε.
    pub eps: Option<f64>,
    /// Weight decay.
    pub weight_decay: Option<f64>,
    /// Grad clip.
    pub grad_clip: Option<f64>,
}

/// Learning-rate schedule (paper: warmup 0, constant).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct ScheduleConfig {
    /// `constant` or `cosine`.
    pub kind: ScheduleKind,
    /// Linear warmup steps.
    pub warmup_steps: u64,
    /// Cosine floor as a fraction of the peak.
    pub min_lr_ratio: f64,
}

impl Default for ScheduleConfig {
    fn default() -> Self {
        Self { kind: ScheduleKind::Constant, warmup_steps: 0, min_lr_ratio: 0.0 }
    }
}

/// Per-stage schedule overrides.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ScheduleOverride {
    /// `constant` or `cosine`.
    pub kind: Option<ScheduleKind>,
    /// Warmup steps.
    pub warmup_steps: Option<u64>,
    /// Cosine floor.
    pub min_lr_ratio: Option<f64>,
}

/// Batch geometry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct BatchConfig {
    /// B: prompts per training step (after dynamic sampling).
    pub prompts_per_step: usize,
    /// Passes over each rollout batch (veRL `ppo_epochs`).
    pub ppo_epochs: usize,
    /// Optimizer updates per pass (the batch is cut into this many mini-batches).
    pub mini_batches: usize,
    /// Sequences per forward/backward (gradient accumulation inside a mini-batch).
    pub micro_batch_size: usize,
    /// Scored tokens per LM-head chunk: the `[chunk, vocab]` logits of one chunk are the only
    /// ones alive at a time (their loss is backpropagated before the next chunk).
    pub logit_chunk: usize,
}

impl Default for BatchConfig {
    fn default() -> Self {
        Self { prompts_per_step: 8, ppo_epochs: 1, mini_batches: 1, micro_batch_size: 8, logit_chunk: 1024 }
    }
}

/// Checkpointing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct CheckpointConfig {
    /// Save every N steps (0 = only at the end).
    pub every: u64,
    /// Keep the last K step checkpoints (the best is kept besides).
    pub keep_last: usize,
    /// Keep the checkpoint with the best validation score.
    pub keep_best: bool,
}

impl Default for CheckpointConfig {
    fn default() -> Self {
        Self { every: 0, keep_last: 2, keep_best: true }
    }
}

/// Validation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case", default)]
pub struct ValidationConfig {
    /// Validate every N steps (0 = only at the end).
    pub every: u64,
    /// Held-out items used (the first N).
    pub max_items: usize,
    /// Also validate before the first step.
    pub at_start: bool,
}

impl Default for ValidationConfig {
    fn default() -> Self {
        Self { every: 0, max_items: 64, at_start: true }
    }
}

/// Reward of a stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RewardKind {
    /// SRL step reward on step instances (similarity of the action, −1 on format errors).
    Srl,
    /// Verifiable final-answer reward on RLVR items (1 correct, 0 wrong).
    Math,
}

/// What a stage optimizes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StageKind {
    /// GRPO on rollouts scored by the stage's reward (SRL or RLVR).
    #[default]
    Grpo,
    /// Supervised fine-tuning: token-level cross-entropy on `<think>` + the expert's thought +
    /// `</think>` + the expert action of each step instance, prompt tokens masked (the paper's
    /// SFT baseline and SRL's warm start).
    Sft,
}

fn default_reward() -> RewardKind {
    RewardKind::Srl
}

/// One stage of the curriculum (its file layer is `episode::StageFile`, which also accepts the
/// episode rewards `resolved` / `f2p-fraction` under `reward`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(from = "episode::StageFile", into = "episode::StageFile")]
pub struct StageConfig {
    /// Name (used in metrics and checkpoints).
    pub name: String,
    /// `grpo` (default) or `sft`.
    #[serde(default)]
    pub kind: StageKind,
    /// JSONL of `srl_step` records (reward `srl`, and every `sft` stage) or `rlvr_item` records
    /// (reward `math`).
    pub data: PathBuf,
    /// Held-out JSONL of the same type for validation.
    #[serde(default)]
    pub val_data: Option<PathBuf>,
    /// `srl` (default) or `math`; an `sft` stage validates with it.
    #[serde(default = "default_reward")]
    pub reward: RewardKind,
    /// Training steps of the stage (exactly one of `steps` / `epochs`).
    #[serde(default)]
    pub steps: Option<u64>,
    /// Passes over `data` (steps = ceil(items · epochs / prompts-per-step)).
    #[serde(default)]
    pub epochs: Option<u64>,
    /// Optimizer overrides.
    #[serde(default)]
    pub optimizer: OptimizerOverride,
    /// Schedule overrides.
    #[serde(default)]
    pub schedule: ScheduleOverride,
    /// System prompt of RLVR prompts (reward `math`); default: Qwen2.5-Math's CoT prompt.
    #[serde(default)]
    pub system_prompt: Option<String>,
    /// Where the rollouts come from: `text` (default) or `swe-episode` (multi-turn episodes in
    /// the sandbox, run by `srl-agent`; `data` then names the environments folder).
    pub rollout: StageRollout,
    /// The reward of a `swe-episode` stage (`reward = "resolved"` / `"f2p-fraction"`).
    pub episode_reward: Option<EpisodeReward>,
}

/// The file layer: what `run.toml` holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct RunConfig {
    /// Seed of every random choice (data order, sampling, initialization).
    #[serde(default)]
    pub seed: u64,
    /// Run folder.
    #[serde(default = "default_output_dir")]
    pub output_dir: PathBuf,
    /// libtorch intra-op threads (absent = libtorch's choice).
    #[serde(default)]
    pub threads: Option<usize>,
    /// Skip bad records (counted and logged) instead of failing; `--strict` sets it false.
    #[serde(default = "default_true")]
    pub skip_bad_records: bool,
    /// Policy.
    pub model: ModelConfig,
    /// Rollouts.
    #[serde(default)]
    pub rollout: RolloutConfig,
    /// Advantages and loss.
    #[serde(default)]
    pub algorithm: AlgorithmConfig,
    /// Dynamic sampling.
    #[serde(default)]
    pub dynamic_sampling: DynamicSamplingConfig,
    /// Optimizer defaults for all stages.
    #[serde(default)]
    pub optimizer: OptimizerConfig,
    /// Schedule defaults for all stages.
    #[serde(default)]
    pub schedule: ScheduleConfig,
    /// Batch geometry.
    #[serde(default)]
    pub batch: BatchConfig,
    /// Checkpoints.
    #[serde(default)]
    pub checkpoint: CheckpointConfig,
    /// Validation.
    #[serde(default)]
    pub validation: ValidationConfig,
    /// Ordered stages.
    pub stages: Vec<StageConfig>,
}

fn default_output_dir() -> PathBuf {
    PathBuf::from("out/runs/train")
}

fn default_true() -> bool {
    true
}

/// A stage with its optimizer and schedule merged.
#[derive(Debug, Clone, PartialEq)]
pub struct ResolvedStage {
    /// Index in `stages`.
    pub index: usize,
    /// The stage as configured.
    pub config: StageConfig,
    /// Merged optimizer settings.
    pub optimizer: OptimizerConfig,
    /// Merged schedule settings.
    pub schedule: ScheduleConfig,
}

/// A validated configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct ResolvedConfig {
    /// The file layer after overrides (what is written to the run folder).
    pub run: RunConfig,
    /// Stages with merged settings.
    pub stages: Vec<ResolvedStage>,
}

impl RunConfig {
    /// Reads `path` and applies `overrides` (`key.sub=value`, TOML values, bare strings allowed).
    pub fn load(path: &Path, overrides: &[String]) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(TrainError::io(path))?;
        Self::from_toml_str(&text, path, overrides)
    }

    /// Parses TOML text (`origin` names it in errors) and applies overrides.
    pub fn from_toml_str(text: &str, origin: &Path, overrides: &[String]) -> Result<Self> {
        let mut table: toml::Table = toml::from_str(text)
            .map_err(|e| TrainError::ConfigParse { path: origin.to_path_buf(), message: e.to_string() })?;
        for o in overrides {
            apply_override(&mut table, o)?;
        }
        RunConfig::deserialize(toml::Value::Table(table))
            .map_err(|e| TrainError::ConfigParse { path: origin.to_path_buf(), message: e.to_string() })
    }

    /// Validates and merges stage overrides.
    pub fn resolve(self) -> Result<ResolvedConfig> {
        let r = &self.rollout;
        let grpo = self.stages.iter().any(|s| s.kind == StageKind::Grpo);
        if grpo && r.group_size < 2 {
            return Err(TrainError::invalid(
                "rollout.group-size",
                "must be ≥ 2: GRPO normalizes rewards within a group, and a group of one has no spread to learn from",
            ));
        }
        if r.group_size == 0 || r.group_size > MAX_GROUP_SIZE {
            return Err(TrainError::invalid("rollout.group-size", format!("must be in 1..={MAX_GROUP_SIZE}")));
        }
        if r.max_new_tokens > MAX_NEW_TOKENS {
            return Err(TrainError::invalid("rollout.max-new-tokens", format!("must be ≤ {MAX_NEW_TOKENS}")));
        }
        let per_step = (self.batch.prompts_per_step as u64).saturating_mul(r.group_size as u64);
        if per_step > MAX_ROLLOUTS_PER_STEP {
            return Err(TrainError::invalid(
                "batch.prompts-per-step",
                format!(
                    "prompts-per-step × group-size = {per_step} rollouts per step; at most {MAX_ROLLOUTS_PER_STEP} are held in memory at once"
                ),
            ));
        }
        if !above(r.temperature, 0.0) {
            return Err(TrainError::invalid("rollout.temperature", "must be > 0"));
        }
        if !above(r.top_p, 0.0) || r.top_p > 1.0 {
            return Err(TrainError::invalid("rollout.top-p", "must be in (0, 1]"));
        }
        if r.generation_batch == 0 {
            return Err(TrainError::invalid("rollout.generation-batch", "must be ≥ 1"));
        }
        if r.max_new_tokens == 0 {
            return Err(TrainError::invalid("rollout.max-new-tokens", "must be ≥ 1"));
        }
        let a = &self.algorithm;
        if !at_least(a.clip_low, 0.0) || a.clip_low >= 1.0 {
            return Err(TrainError::invalid("algorithm.clip-low", "must be in [0, 1)"));
        }
        if !at_least(a.clip_high, 0.0) {
            return Err(TrainError::invalid("algorithm.clip-high", "must be ≥ 0"));
        }
        if let Some(c) = a.dual_clip {
            if !above(c, 1.0) {
                return Err(TrainError::invalid("algorithm.dual-clip", "must be > 1"));
            }
        }
        if !at_least(a.adv_eps, 0.0) || !at_least(a.kl_coef, 0.0) {
            return Err(TrainError::invalid("algorithm", "adv-eps and kl-coef must be ≥ 0"));
        }
        let d = &self.dynamic_sampling;
        if d.max_rounds == 0 || !at_least(d.std_eps, 0.0) {
            return Err(TrainError::invalid("dynamic-sampling", "max-rounds must be ≥ 1 and std-eps ≥ 0"));
        }
        let b = &self.batch;
        if b.prompts_per_step == 0 || b.ppo_epochs == 0 || b.mini_batches == 0 || b.micro_batch_size == 0 {
            return Err(TrainError::invalid(
                "batch",
                "prompts-per-step, ppo-epochs, mini-batches and micro-batch-size must be ≥ 1",
            ));
        }
        if b.logit_chunk == 0 {
            return Err(TrainError::invalid("batch.logit-chunk", "must be ≥ 1"));
        }
        if b.mini_batches > b.prompts_per_step {
            return Err(TrainError::invalid("batch.mini-batches", "cannot exceed prompts-per-step"));
        }
        if self.checkpoint.keep_last == 0 {
            return Err(TrainError::invalid("checkpoint.keep-last", "must be ≥ 1"));
        }
        // The same parser as every command's `--device` (srl_model::Device), so `cuda:1` works here.
        if let Err(e) = self.model.device.parse::<srl_model::Device>() {
            return Err(TrainError::invalid("model.device", e.to_string()));
        }
        if self.stages.is_empty() {
            return Err(TrainError::invalid("stages", "at least one stage is required"));
        }
        let mut stages = Vec::with_capacity(self.stages.len());
        for (i, s) in self.stages.iter().enumerate() {
            let field = |k: &str| format!("stages.{i}.{k}");
            match (s.steps, s.epochs) {
                (Some(0), _) | (_, Some(0)) => return Err(TrainError::invalid(field("steps"), "must be ≥ 1")),
                (Some(_), Some(_)) => {
                    return Err(TrainError::invalid(field("steps"), "give either steps or epochs, not both"))
                }
                (None, None) => return Err(TrainError::invalid(field("steps"), "give steps or epochs")),
                _ => {}
            }
            if s.kind == StageKind::Sft && s.reward != RewardKind::Srl {
                return Err(TrainError::invalid(
                    field("reward"),
                    "an sft stage trains on srl_step records (reward = \"srl\")",
                ));
            }
            episode::validate_stage(s, i)?;
            let o = &s.optimizer;
            let base = self.optimizer;
            let optimizer = OptimizerConfig {
                lr: o.lr.unwrap_or(base.lr),
                beta1: o.beta1.unwrap_or(base.beta1),
                beta2: o.beta2.unwrap_or(base.beta2),
                eps: o.eps.unwrap_or(base.eps),
                weight_decay: o.weight_decay.unwrap_or(base.weight_decay),
                grad_clip: o.grad_clip.unwrap_or(base.grad_clip),
            };
            let beta_ok = |b: f64| (0.0..1.0).contains(&b);
            if !at_least(optimizer.lr, 0.0) || !beta_ok(optimizer.beta1) || !beta_ok(optimizer.beta2) {
                return Err(TrainError::invalid(field("optimizer"), "lr must be ≥ 0 and betas in [0, 1)"));
            }
            let sc = &s.schedule;
            let schedule = ScheduleConfig {
                kind: sc.kind.unwrap_or(self.schedule.kind),
                warmup_steps: sc.warmup_steps.unwrap_or(self.schedule.warmup_steps),
                min_lr_ratio: sc.min_lr_ratio.unwrap_or(self.schedule.min_lr_ratio),
            };
            if !(0.0..=1.0).contains(&schedule.min_lr_ratio) {
                return Err(TrainError::invalid(field("schedule.min-lr-ratio"), "must be in [0, 1]"));
            }
            stages.push(ResolvedStage { index: i, config: s.clone(), optimizer, schedule });
        }
        Ok(ResolvedConfig { run: self, stages })
    }
}

impl ResolvedConfig {
    /// The resolved file layer as TOML (written to `<run>/config.toml` with the seed).
    pub fn to_toml(&self) -> Result<String> {
        toml::to_string_pretty(&self.run).map_err(|e| TrainError::invalid("<config>", format!("serializing: {e}")))
    }
}

/// `x ≥ lo`, false for NaN.
fn at_least(x: f64, lo: f64) -> bool {
    x >= lo
}

/// `x > lo`, false for NaN.
fn above(x: f64, lo: f64) -> bool {
    x > lo
}

/// Applies one `a.b.0.c=value` override to a TOML table. The value is parsed as TOML (`1e-6`,
/// `true`, `"x"`, `[1, 2]`, `{ lr = 1 }`); anything that does not parse is taken as a string.
/// Numeric path parts index arrays (`stages.0.steps=3`).
pub fn apply_override(table: &mut toml::Table, expr: &str) -> Result<()> {
    let err = |m: &str| TrainError::Override { expr: expr.to_string(), message: m.to_string() };
    let (key, raw) = expr.split_once('=').ok_or_else(|| err("expected key=value"))?;
    let key = key.trim();
    let raw = raw.trim();
    if key.is_empty() {
        return Err(err("empty key"));
    }
    let value = match toml::from_str::<toml::Table>(&format!("v = {raw}")) {
        Ok(mut t) => t.remove("v").unwrap_or_else(|| toml::Value::String(raw.to_string())),
        Err(_) => toml::Value::String(raw.to_string()),
    };
    let parts: Vec<&str> = key.split('.').collect();
    let mut cur: &mut toml::Value = {
        let first = parts[0];
        if parts.len() == 1 {
            table.insert(first.to_string(), value);
            return Ok(());
        }
        table.entry(first.to_string()).or_insert_with(|| toml::Value::Table(toml::Table::new()))
    };
    for (i, part) in parts.iter().enumerate().skip(1) {
        let last = i == parts.len() - 1;
        cur = match cur {
            toml::Value::Table(t) => {
                if last {
                    t.insert(part.to_string(), value);
                    return Ok(());
                }
                t.entry(part.to_string()).or_insert_with(|| toml::Value::Table(toml::Table::new()))
            }
            toml::Value::Array(arr) => {
                let idx: usize = part.parse().map_err(|_| err(&format!("`{part}` is not an array index")))?;
                let len = arr.len();
                let slot = arr.get_mut(idx).ok_or_else(|| err(&format!("index {idx} out of range (length {len})")))?;
                if last {
                    *slot = value;
                    return Ok(());
                }
                slot
            }
            _ => return Err(err(&format!("`{}` is not a table", parts[..i].join(".")))),
        };
    }
    Err(err("empty path"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: &str = r#"
seed = 3
[model]
path = "m"
[[stages]]
name = "srl"
data = "a.jsonl"
reward = "srl"
steps = 4
[[stages]]
name = "rlvr"
data = "b.jsonl"
reward = "math"
epochs = 1
optimizer = { lr = 1e-6 }
"#;

    #[test]
    fn defaults_follow_the_paper_and_stage_overrides_merge() {
        let c = RunConfig::from_toml_str(MIN, Path::new("run.toml"), &[]).unwrap().resolve().unwrap();
        assert_eq!(c.run.rollout.group_size, 8);
        assert_eq!(c.run.rollout.temperature, 1.0);
        assert_eq!(c.run.algorithm.kl_coef, 0.0);
        assert_eq!(c.run.optimizer.grad_clip, 1.0);
        assert_eq!(c.stages[0].optimizer.lr, 5e-7);
        assert_eq!(c.stages[1].optimizer.lr, 1e-6);
        assert_eq!(c.stages[1].config.reward, RewardKind::Math);
    }

    #[test]
    fn set_overrides_reach_nested_keys_and_arrays() {
        let o = vec![
            "optimizer.lr=0.001".to_string(),
            "stages.0.steps=9".to_string(),
            "algorithm.loss-agg=seq-mean-token-mean".to_string(),
            "output-dir=runs/x".to_string(),
        ];
        let c = RunConfig::from_toml_str(MIN, Path::new("run.toml"), &o).unwrap().resolve().unwrap();
        assert_eq!(c.run.optimizer.lr, 0.001);
        assert_eq!(c.stages[0].config.steps, Some(9));
        assert_eq!(c.run.algorithm.loss_agg, LossAgg::SeqMeanTokenMean);
        assert_eq!(c.run.output_dir, PathBuf::from("runs/x"));
        let again = RunConfig::from_toml_str(&c.to_toml().unwrap(), Path::new("x"), &[]).unwrap();
        assert_eq!(again, c.run);
    }

    #[test]
    fn unknown_keys_and_bad_values_are_named() {
        let e = RunConfig::from_toml_str(MIN, Path::new("run.toml"), &["rollout.groupsize=4".into()]).unwrap_err();
        assert!(e.to_string().contains("groupsize"), "{e}");
        let e = RunConfig::from_toml_str(MIN, Path::new("run.toml"), &["stages.5.steps=1".into()]).unwrap_err();
        assert!(e.to_string().contains("out of range"), "{e}");
        let e = RunConfig::from_toml_str(MIN, Path::new("run.toml"), &["rollout.temperature=0".into()])
            .unwrap()
            .resolve()
            .unwrap_err();
        assert!(e.to_string().contains("rollout.temperature"), "{e}");
        let e = RunConfig::from_toml_str(MIN, Path::new("run.toml"), &["stages.0.epochs=2".into()])
            .unwrap()
            .resolve()
            .unwrap_err();
        assert!(e.to_string().contains("stages.0.steps"), "{e}");
    }
}
