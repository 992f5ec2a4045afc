//! Readers for SWE-smith trajectories and s1K-1.1, replay into steps, and the prepare pipeline
//! of srl-swe (Supervised Reinforcement Learning, Deng et al., arXiv 2510.25992, §4.2 and
//! App. A; inputs, rules and speed in `docs/prepare.md`).
//!
//! - [`replay`]: one conversation of the `tool`, `xml` or `ticks` split → (thought, action,
//!   observation) steps; all three renderings of a call give the same [`srl_core::Action`].
//! - [`context`]: SWE step instances (system prompt, task, last k steps, target action).
//! - [`math`]: s1K-1.1 step splitter and math instances.
//! - [`prepare_swe`] / [`prepare_math`]: the streaming pipelines behind `srl-swe prepare`.
//!
//! ```
//! use srl_trajectory::{replay_messages, Split};
//! let messages = serde_json::json!([
//!     {"role": "user", "content": "Fix the bug."},
//!     {"role": "assistant", "content": "Look first.\n\n```\nls /testbed\n```"},
//!     {"role": "user", "content": "OBSERVATION:\nsetup.py\n"}
//! ]);
//! let replay = replay_messages(&messages, Split::Ticks).unwrap();
//! assert_eq!(replay.steps[0].action.to_canonical(),
//!            "<function=bash>\n<parameter=command>ls /testbed</parameter>\n</function>");
//! assert_eq!(replay.steps[0].observation, "setup.py\n");
//! ```

pub mod context;
mod driver;
pub mod engine_formats;
mod error;
mod fast_lines;
pub mod holdout;
mod instance_lines;
pub mod math;
mod math_prepare;
mod messages;
mod out_dir;
mod parquet_rows;
pub mod progress;
pub mod prompts;
mod raw_json;
pub mod renderings;
pub mod replay;
pub mod shell;
pub mod sink;
pub mod sources;
mod split;
pub mod stats;
mod swe_prepare;
pub mod tokens;
mod traj_file;

pub use context::{ContextOptions, History};
pub use error::{Issue, IssueKind, Location, Result, TrajectoryError};
pub use math::MathOptions;
pub use math_prepare::{prepare_math, problem_id, MathPrepareConfig, DEFAULT_VAL_QUESTIONS, MATH_COLUMNS};
pub use progress::{NoProgress, Reporter};
pub use replay::{replay_messages, Replay, Step};
pub use sink::OutputFormat;
pub use split::{Split, SplitVotes};
pub use stats::PrepareStats;
pub use swe_prepare::{
    prepare_swe, SwePrepareConfig, DEFAULT_SEED, DEFAULT_VAL_TRAJECTORIES, RESOLUTION_UNKNOWN, SWE_COLUMNS,
};
