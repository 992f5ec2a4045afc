//! GRPO trainer on tch for Supervised Reinforcement Learning (Deng et al., arXiv 2510.25992):
//! rollouts, SRL and RLVR rewards, dynamic sampling, the clipped policy loss, AdamW, checkpoints
//! with exact resume, validation, metrics, and the math evaluation (`srl-swe eval --mode math`).
//!
//! The algorithm follows veRL as `reference/method.md` §7–9 describes it. Sibling crates:
//! `srl-core` (records), `srl-reward` (SRL and math rewards), `srl-model` (Qwen2 policy).
//!
//! Entry points:
//! - [`RunConfig::load`] (TOML + `--set` overrides) → [`RunConfig::resolve`] →
//!   [`train`]`(&ResolvedConfig, &TrainOptions, &dyn Reporter)` → [`TrainSummary`];
//! - [`math_eval::load_math_problems`] + [`math_eval::evaluate_math`] (greedy accuracy, Avg@k);
//! - [`Policy`] (`load`, `generate`, `logprobs`, `save`) over a [`codec::TextCodec`];
//! - the pure pieces: [`grpo`] (advantages, clipped loss, aggregation, KL), [`dynamic_sampling`],
//!   [`optimizer::AdamW`], [`schedule::Schedule`], [`checkpoint`], [`metrics`].
//!
//! ```
//! use srl_train::grpo::{group_advantages, AdvantageNorm};
//! let r = tch::Tensor::from_slice(&[1.0f64, 0.0, 0.5, 0.5]);
//! let a = group_advantages(&r, 2, AdvantageNorm::MeanOnly, 1e-6, true).unwrap();
//! assert_eq!(Vec::<f64>::try_from(&a).unwrap(), vec![0.5, -0.5, 0.0, 0.0]);
//! ```

pub mod checkpoint;
pub mod codec;
pub mod config;
pub mod data;
pub mod dynamic_sampling;
mod error;
pub mod grpo;
pub mod math_eval;
pub mod metrics;
pub mod optimizer;
pub mod png;
pub mod policy;
pub mod rng;
pub mod schedule;
pub mod trainer;

pub use config::{ResolvedConfig, RunConfig};
pub use error::{Result, TrainError};
pub use metrics::{NoReporter, Reporter, StepMetrics};
pub use policy::Policy;
pub use trainer::{train, TrainOptions, TrainSummary};
