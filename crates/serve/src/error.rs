//! The error type of `srl-serve`: what can stop a server from starting or running. Problems of a
//! request are answered on the wire (400 with the field, or a scored item with `error = 1`), never
//! returned here.

use std::path::PathBuf;

/// Errors of the serve crate.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// The listen address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address asked for.
        addr: std::net::SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The server loop failed.
    #[error("server error: {0}")]
    Serve(#[source] std::io::Error),
    /// The scoring thread pool could not be built.
    #[error("cannot start the scoring pool: {0}")]
    Pool(#[from] rayon::ThreadPoolBuildError),
    /// A tokenizer file (for the special tokens to strip) could not be read.
    #[error("cannot read tokenizer {path}: {source}")]
    TokenizerRead {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A tokenizer file is not a Hugging Face `tokenizer.json`.
    #[error("{path}: not a Hugging Face tokenizer.json ({source})")]
    TokenizerParse {
        /// The file.
        path: PathBuf,
        /// Why.
        source: serde_json::Error,
    },
    /// A setting is out of range.
    #[error("invalid setting {field}: {message}")]
    Config {
        /// The setting.
        field: &'static str,
        /// What is wrong.
        message: String,
    },
}

/// Result alias of `srl-serve`.
pub type Result<T> = std::result::Result<T, ServeError>;
