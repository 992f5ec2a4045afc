//! The error type of `srl-core`.
use std::path::PathBuf;

/// Errors of the shared I/O helpers.
#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A JSONL line did not parse as the expected record.
    #[error("{path}:{line}: {message}")]
    Record {
        /// The file.
        path: PathBuf,
        /// 1-based line number.
        line: usize,
        /// What was wrong.
        message: String,
    },
    /// Serializing a record failed.
    #[error("serializing a record: {0}")]
    Serialize(#[from] serde_json::Error),
}

/// Result alias of `srl-core`.
pub type Result<T> = std::result::Result<T, CoreError>;
