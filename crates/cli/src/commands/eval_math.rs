//! `srl-swe eval --mode math`: greedy accuracy and Avg@k on AIME/AMC/Minerva-style JSONL with the
//! Qwen2.5-Math grading rules (method.md §13). Owned by the trainer engineer; until it lands,
//! the mode reports that it is not available.
use std::process::ExitCode;

/// Runs the math evaluation with the shared `eval` options.
pub(crate) fn run(_args: &crate::commands::eval::Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`srl-swe eval --mode math` is not available in this build yet")
}
