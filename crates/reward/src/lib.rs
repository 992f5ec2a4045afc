//! `srl-reward`: the reward of Supervised Reinforcement Learning (Deng et al., arXiv 2510.25992,
//! §4.2; docs/method.md §5–6, §13), shared by the trainer, the `srl-swe reward` command and a future
//! reward server.
//!
//! - [`sequence_matcher`]: an exact port of CPython's `difflib.SequenceMatcher` over Unicode
//!   code points (bit-identical `ratio()`, checked against CPython in `tests/parity.rs`).
//! - [`format`]: the `<think>…</think>` + action output grammar with reason codes.
//! - [`srl`]: the SRL reward (ratio of model action vs expert action, −1 on format errors), the
//!   [`RewardFn`] trait and batch scoring on all cores.
//! - [`math_grader`] / [`strip_string`]: Qwen2.5-Math answer extraction, normalization and
//!   equivalence, and the RLVR reward [`MathAnswerReward`].
//! - [`protocol`]: the JSONL request/response records of `srl-swe reward`.
//!
//! Speed (`cargo bench -p srl-reward --bench vs_cpython`: the same 300 pairs, one thread,
//! thread CPU time, on a shared 2-core machine; runs vary by ~10%): SWE actions of 50–3,000
//! chars ≈ 5.5 ms vs CPython ≈ 285 ms (50–57×), math steps of 200–2,000 chars ≈ 5.1 ms vs
//! ≈ 340 ms (65–70×). Batch SRL scoring costs the same CPU per output on 1 and 2 threads.
//!
//! Math grading (`cargo bench -p srl-reward --bench math_grading`, 1,600 normalized answer pairs
//! of 32 kinds, shared 2-core machine): ≈ 60 µs per pair vs ≈ 90 ms for sympy-based grading in
//! the sympy 1.12 venv (≈ 1,500×); the symbolic equality behind it is the private `math` module
//! (docs/math-grading.md).
//!
//! Sibling crates: `srl-core` (actions, records), `srl-train` (calls [`RewardFn`]), `srl-eval`
//! (math accuracy with [`math_grader`]).
//!
//! ```
//! use srl_core::TaskKind;
//! use srl_reward::{srl_reward, ratio};
//! // CPython: difflib.SequenceMatcher(None, "abcd", "bcde").ratio() == 0.75
//! assert_eq!(ratio("abcd", "bcde"), 0.75);
//! let expert = "<function=bash>\n<parameter=command>ls</parameter>\n</function>";
//! let output = "<think>look first</think>\n<function=bash><parameter=command>ls</parameter></function>";
//! assert_eq!(srl_reward(output, expert, TaskKind::Swe), 1.0);
//! assert_eq!(srl_reward("no think block", expert, TaskKind::Swe), -1.0);
//! ```

mod error;
pub mod format;
mod math;
pub mod math_grader;
pub mod protocol;
pub mod sequence_matcher;
pub mod srl;
pub mod strip_string;

pub use error::{Result, RewardError};
pub use format::{parse_output, FormatError, ParsedOutput};
pub use math_grader::{extract_answer, math_equal, GraderOptions, MathAnswerReward};
pub use sequence_matcher::{ratio, ratio_with, Match, MatcherOptions, SequenceMatcher};
pub use srl::{
    score_batch, srl_reward, Comparison, Group, NoProgress, PreparedExpert, Progress, RewardFn, RewardOutcome,
    RewardTarget, SrlConfig, SrlReward, FORMAT_ERROR_REWARD,
};
