//! The error type of srl-model: one enum with structured variants (file, field, tensor name), the workspace convention.

use std::path::PathBuf;

/// Result alias of this crate.
pub type Result<T, E = ModelError> = std::result::Result<T, E>;

/// Everything that can go wrong loading, running or saving a model.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A JSON file (config.json, tokenizer_config.json, …) did not parse.
    #[error("{path}: invalid JSON: {source}")]
    Json {
        /// The file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: serde_json::Error,
    },
    /// A config field is missing or has an invalid value.
    #[error("{path}: field `{field}`: {reason}")]
    Config {
        /// The file (or `<preset>` for built-in presets).
        path: PathBuf,
        /// The field.
        field: String,
        /// What is wrong.
        reason: String,
    },
    /// The checkpoint asks for something this implementation does not do (refused, not ignored).
    #[error("{path}: field `{field}` = {value}: not supported by srl-model's Qwen2 ({hint})")]
    Unsupported {
        /// The file.
        path: PathBuf,
        /// The field.
        field: String,
        /// Its value.
        value: String,
        /// What is supported.
        hint: String,
    },
    /// A weight the architecture needs is not in the checkpoint.
    #[error("{dir}: tensor `{name}` not found in the checkpoint")]
    MissingTensor {
        /// The checkpoint folder.
        dir: PathBuf,
        /// Tensor name.
        name: String,
    },
    /// A weight has the wrong shape.
    #[error("{file}: tensor `{name}` has shape {got:?}, expected {expected:?}")]
    TensorShape {
        /// The shard file.
        file: PathBuf,
        /// Tensor name.
        name: String,
        /// Shape from the config.
        expected: Vec<i64>,
        /// Shape in the file.
        got: Vec<i64>,
    },
    /// A safetensors file is malformed.
    #[error("{path}: safetensors: {reason}")]
    Safetensors {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The tokenizer failed to load, train, encode or decode.
    #[error("tokenizer ({context}): {reason}")]
    Tokenizer {
        /// File or operation.
        context: String,
        /// The tokenizers crate's message.
        reason: String,
    },
    /// The chat template failed to compile or render.
    #[error("chat template ({context}): {reason}")]
    Template {
        /// File or operation.
        context: String,
        /// minijinja's message (with line where known).
        reason: String,
    },
    /// Invalid arguments to generation / log-prob APIs (shapes, empty prompts, …).
    #[error("invalid input: {0}")]
    Input(String),
    /// An unknown preset, device or dtype name.
    #[error("unknown {what} `{name}` (expected one of: {expected})")]
    UnknownName {
        /// "preset", "device", "dtype".
        what: &'static str,
        /// The given name.
        name: String,
        /// Allowed names.
        expected: String,
    },
    /// A libtorch operation failed.
    #[error("libtorch: {0}")]
    Tch(#[from] tch::TchError),
    /// Atomic output failed.
    #[error(transparent)]
    Core(#[from] srl_core::CoreError),
}

impl ModelError {
    /// A short label for metrics and logs.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Io { .. } => "io",
            Self::Json { .. } => "json",
            Self::Config { .. } => "config",
            Self::Unsupported { .. } => "unsupported",
            Self::MissingTensor { .. } => "missing_tensor",
            Self::TensorShape { .. } => "tensor_shape",
            Self::Safetensors { .. } => "safetensors",
            Self::Tokenizer { .. } => "tokenizer",
            Self::Template { .. } => "template",
            Self::Input(_) => "input",
            Self::UnknownName { .. } => "unknown_name",
            Self::Tch(_) => "tch",
            Self::Core(_) => "core",
        }
    }

    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> Self {
        let path = path.into();
        move |source| Self::Io { path, source }
    }
}
