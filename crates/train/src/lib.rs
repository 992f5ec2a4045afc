//! GRPO trainer on tch for Supervised Reinforcement Learning (Deng et al., arXiv 2510.25992):
//! rollouts, SRL and RLVR rewards, dynamic sampling, the clipped policy loss, AdamW, checkpoints
//! with exact resume, validation, metrics, and the math evaluation (`srl-swe eval --mode math`).
//!
//! The algorithm follows veRL as `docs/training.md` describes it. Sibling crates:
//! `srl-core` (records), `srl-reward` (SRL and math rewards), `srl-model` (Qwen2 policy).
//!
//! Entry points:
//! - [`RunConfig::load`] (TOML + `--set` overrides) → [`RunConfig::resolve`] →
//!   [`train`]`(&ResolvedConfig, &TrainOptions, &dyn Reporter)` → [`TrainSummary`];
//!   [`train_with_sources`] to take GRPO rollouts from any [`rollout::RolloutSource`];
//! - [`srl_eval::evaluate_srl`] (held-out SRL reward, `srl-swe eval --mode srl`),
//!   [`math_eval::load_math_problems`] + [`math_eval::evaluate_math`] (greedy accuracy, Avg@k);
//! - [`update`]: GRPO and SFT updates on trajectories with the memory-bounded LM head;
//! - the pure pieces: [`grpo`] (advantages, clipped loss, aggregation, KL), [`dynamic_sampling`],
//!   [`optimizer::AdamW`], [`schedule::Schedule`], [`checkpoint`], [`metrics`].
//!
//! The policy is `srl-model`'s [`srl_model::Policy`] (one generation and log-prob path for
//! training, evaluation and serving); `docs/training.md` describes the stages and the seam.
//!
//! ```
//! use srl_train::grpo::{group_advantages, AdvantageNorm};
//! let r = tch::Tensor::from_slice(&[1.0f64, 0.0, 0.5, 0.5]);
//! let a = group_advantages(&r, 2, AdvantageNorm::MeanOnly, 1e-6, true).unwrap();
//! assert_eq!(Vec::<f64>::try_from(&a).unwrap(), vec![0.5, -0.5, 0.0, 0.0]);
//! ```

pub mod checkpoint;
pub mod config;
pub mod curves;
pub mod data;
pub mod dynamic_sampling;
mod error;
pub mod grpo;
pub mod math_eval;
pub mod metrics;
pub mod optimizer;
/// The seeded RNG (SplitMix64), at home in `srl-core`.
pub use srl_core::rng;
pub mod rollout;
pub mod schedule;
pub mod srl_eval;
pub mod trainer;
pub mod update;

pub use config::{ResolvedConfig, RunConfig};
pub use error::{Result, TrainError};
pub use metrics::{NoReporter, Reporter, StepMetrics};
pub use srl_model::Policy;
pub use trainer::{train, train_with_sources, TrainOptions, TrainSummary};
