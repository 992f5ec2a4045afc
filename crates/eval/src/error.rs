//! The error type of `srl-eval` (one enum for the crate, structured variants).
use std::path::PathBuf;

/// Errors of the evaluation library. Per-instance problems (bad model answers, failed patches,
/// hanging tests) are **not** errors: they become recorded outcomes (`crate::outputs`). These
/// variants are for problems that stop a whole run or a whole backend call.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A record in an input file is malformed.
    #[error("{path}:{line}: field `{field}`: {message}")]
    Record {
        /// The file.
        path: PathBuf,
        /// 1-based line (JSONL) or row (parquet).
        line: usize,
        /// Offending field (`-` when the whole record is bad).
        field: String,
        /// What was wrong.
        message: String,
    },
    /// Shared I/O helpers failed.
    #[error(transparent)]
    Core(#[from] srl_core::CoreError),
    /// JSON (de)serialization failed.
    #[error("JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// A git2 operation failed while building a patch.
    #[error("git ({op}): {source}")]
    Git {
        /// What was being done.
        op: &'static str,
        /// The cause.
        #[source]
        source: git2::Error,
    },
    /// A unified diff could not be parsed or applied.
    #[error("diff for `{file}`: {message}")]
    Diff {
        /// File named by the diff (or `-`).
        file: String,
        /// What was wrong.
        message: String,
    },
    /// A model backend failed (after retries).
    #[error("backend `{backend}`: {message}")]
    Backend {
        /// Backend name.
        backend: String,
        /// What went wrong.
        message: String,
    },
    /// The sandbox failed in a way that is not a per-instance outcome.
    #[error("sandbox: {0}")]
    Sandbox(#[from] srl_sandbox::SandboxError),
    /// A command the pipeline itself runs in the container (not the model's) failed.
    #[error("sandbox: `{command}` failed (exit {exit_code}): {output}")]
    SandboxCommand {
        /// The command.
        command: &'static str,
        /// Its exit code.
        exit_code: i64,
        /// Its output (trimmed).
        output: String,
    },
    /// An evaluation worker task panicked or was cancelled.
    #[error("worker task failed: {0}")]
    Worker(#[from] tokio::task::JoinError),
    /// A configuration value is invalid.
    #[error("config `{field}`: {message}")]
    Config {
        /// The option.
        field: &'static str,
        /// What was wrong.
        message: String,
    },
}

impl EvalError {
    /// A short label for metrics and per-instance reasons.
    pub fn kind(&self) -> &'static str {
        match self {
            EvalError::Io { .. } => "io",
            EvalError::Record { .. } => "record",
            EvalError::Core(_) => "io",
            EvalError::Json(_) => "json",
            EvalError::Git { .. } => "git",
            EvalError::Diff { .. } => "diff",
            EvalError::Backend { .. } => "backend",
            EvalError::Sandbox(_) | EvalError::SandboxCommand { .. } => "sandbox",
            EvalError::Worker(_) => "worker",
            EvalError::Config { .. } => "config",
        }
    }

    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> EvalError {
        let path = path.into();
        move |source| EvalError::Io { path, source }
    }

    pub(crate) fn git(op: &'static str) -> impl FnOnce(git2::Error) -> EvalError {
        move |source| EvalError::Git { op, source }
    }
}

/// Result alias of `srl-eval`.
pub type Result<T> = std::result::Result<T, EvalError>;
