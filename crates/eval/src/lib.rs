//! Agentless-mini evaluation of SWE skill as the SRL paper measures it (Deng et al., arXiv
//! 2510.25992, Table 5: resolve rate with oracle files and end-to-end), following
//! facebookresearch/swe-rl `src/swerl/agentless_mini/` (docs/method.md §10–12):
//!
//! - [`prompts`]: the `AGENTLESS_REPAIR` and `LOCALIZATION` prompts, verbatim;
//! - [`localize`]: repository tree and localization parsing (end-to-end mode);
//! - [`search_replace`]: SEARCH/REPLACE parsing and application with a reason per edit;
//! - [`patch`]: `diff --git` patches built with git2, and the empty-patch rules;
//! - [`rerank`]: majority vote over normalized patches when sampling;
//! - [`backend`] / [`openai`]: the model backend trait and its implementations;
//! - [`unidiff`]: reading gold diffs (touched files, reversal, in-memory application).
//!
//! ```
//! use srl_eval::prompts::SourceFile;
//! use srl_eval::search_replace::apply_answer;
//! let files = [SourceFile { path: "a.py".into(), content: "x = 1\n".into() }];
//! let answer = "```python\n### a.py\n<<<<<<< SEARCH\nx = 1\n=======\nx = 2\n>>>>>>> REPLACE\n```";
//! let edits = apply_answer(answer, &files);
//! assert_eq!(edits.files[0].new, "x = 2\n");
//! let patch = srl_eval::patch::build_patch(&edits.files).unwrap();
//! assert!(patch.starts_with("diff --git a/a.py b/a.py\n"));
//! ```
//!
//! Sibling crates: `srl-core` (records), `srl-sandbox` (containers, grading); the binary
//! (`srl-swe eval`) draws progress through the [`Reporter`](pipeline::Reporter) trait.

pub mod backend;
mod error;
pub mod instances;
pub mod localize;
pub mod openai;
pub mod outputs;
pub mod parquet_instances;
pub mod patch;
pub mod pipeline;
pub mod prompts;
mod pystr;
pub mod rerank;
pub mod search_replace;
pub mod unidiff;

pub use backend::{ChatRequest, Completion, EmptyBackend, GoldBackend, ModelBackend, Purpose, ReplayBackend};
pub use error::{EvalError, Result};
pub use openai::{OpenAiBackend, OpenAiConfig};
