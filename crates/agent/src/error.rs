//! The error type of `srl-agent`.
use std::path::PathBuf;

/// Errors of episode rollouts.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    /// The sandbox failed (Docker unreachable, a container died, an image is missing).
    #[error("sandbox: {0}")]
    Sandbox(#[from] srl_sandbox::SandboxError),
    /// The policy failed (generation, tokenizer, chat template).
    #[error("policy: {0}")]
    Model(#[from] srl_model::ModelError),
    /// No task instance matched.
    #[error("{}: no task instances{}", path.display(), if filter.is_empty() { String::new() } else { format!(" matching {filter:?}") })]
    NoInstances {
        /// The environments folder.
        path: PathBuf,
        /// The `instances` filter.
        filter: Vec<String>,
    },
    /// A scripted policy's script file is malformed.
    #[error("{}: {message}", path.display())]
    Script {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// Host I/O (metrics files).
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The async runtime could not start.
    #[error("cannot start the tokio runtime: {0}")]
    Runtime(#[source] std::io::Error),
}

impl AgentError {
    /// A short stable label for metrics.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Sandbox(_) => "sandbox",
            Self::Model(_) => "model",
            Self::NoInstances { .. } => "no_instances",
            Self::Script { .. } => "script",
            Self::Io { .. } => "io",
            Self::Runtime(_) => "runtime",
        }
    }
}

/// Result alias of `srl-agent`.
pub type Result<T> = std::result::Result<T, AgentError>;
