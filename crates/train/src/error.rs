//! The error type of `srl-train`: one enum with structured variants (file, line, field where they
//! apply), following the workspace conventions.
use std::path::PathBuf;

/// Errors of the trainer, its configuration, checkpoints and math evaluation.
#[derive(Debug, thiserror::Error)]
pub enum TrainError {
    /// The run configuration file could not be parsed.
    #[error("{path}: {message}")]
    ConfigParse {
        /// The TOML file.
        path: PathBuf,
        /// Parser message (names the key and line).
        message: String,
    },
    /// A configuration value is out of range or inconsistent.
    #[error("config field `{field}`: {message}")]
    ConfigInvalid {
        /// Dotted key, e.g. `stages.0.reward`.
        field: String,
        /// What is wrong.
        message: String,
    },
    /// A `--set key=value` override could not be applied.
    #[error("--set {expr}: {message}")]
    Override {
        /// The override as given.
        expr: String,
        /// What is wrong.
        message: String,
    },
    /// A data record is unusable.
    #[error("{path}:{line}: field `{field}`: {message}")]
    Data {
        /// The JSONL file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// The offending field.
        field: String,
        /// What is wrong.
        message: String,
    },
    /// A data file has no usable records.
    #[error("{path}: no usable records ({skipped} skipped)")]
    EmptyData {
        /// The JSONL file.
        path: PathBuf,
        /// How many records were skipped.
        skipped: usize,
    },
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A checkpoint folder is missing a part or disagrees with the run.
    #[error("checkpoint {path}: {message}")]
    Checkpoint {
        /// The checkpoint folder or file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// Drawing the training curves failed.
    #[error("drawing {path}: {source}")]
    Plot {
        /// The image being drawn.
        path: PathBuf,
        /// plotters' error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// Tensors passed to a loss function have inconsistent shapes.
    #[error("shape mismatch in {what}: {detail}")]
    Shape {
        /// The function.
        what: &'static str,
        /// The shapes seen.
        detail: String,
    },
    /// The policy model failed (loading, generation, log-probs, saving).
    #[error("policy model: {0}")]
    Model(#[from] srl_model::ModelError),
    /// A libtorch operation failed.
    #[error("libtorch: {0}")]
    Tch(#[from] tch::TchError),
    /// Shared I/O helpers failed.
    #[error(transparent)]
    Core(#[from] srl_core::CoreError),
    /// JSON (de)serialization failed.
    #[error("json: {0}")]
    Json(#[from] serde_json::Error),
    /// Training produced a non-finite value.
    #[error("step {step}: non-finite {what}")]
    NonFinite {
        /// Global step.
        step: u64,
        /// Which quantity.
        what: &'static str,
    },
}

impl TrainError {
    /// A short label for metrics and logs.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::ConfigParse { .. } => "config_parse",
            Self::ConfigInvalid { .. } => "config_invalid",
            Self::Override { .. } => "override",
            Self::Data { .. } => "data",
            Self::EmptyData { .. } => "empty_data",
            Self::Io { .. } => "io",
            Self::Checkpoint { .. } => "checkpoint",
            Self::Plot { .. } => "plot",
            Self::Shape { .. } => "shape",
            Self::Model(_) => "model",
            Self::Tch(_) => "tch",
            Self::Core(_) => "core",
            Self::Json(_) => "json",
            Self::NonFinite { .. } => "non_finite",
        }
    }

    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> TrainError {
        let path = path.into();
        move |source| TrainError::Io { path, source }
    }

    pub(crate) fn invalid(field: impl Into<String>, message: impl Into<String>) -> TrainError {
        TrainError::ConfigInvalid { field: field.into(), message: message.into() }
    }
}

/// Result alias of `srl-train`.
pub type Result<T> = std::result::Result<T, TrainError>;
