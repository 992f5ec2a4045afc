//! The error type of `srl-reward`. Format errors of model outputs are not errors: they are
//! scored (−1) and reported with a reason code ([`crate::FormatError::kind`]). These are the
//! caller's mistakes: a target without the field the reward needs, or a bad request line.

/// Errors of the reward crate.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RewardError {
    /// The reward needs a field that the target does not carry (e.g. the SRL reward on a
    /// target without an expert action, the RLVR reward without a reference answer).
    #[error("reward {reward} needs the target field {field:?}")]
    MissingTargetField {
        /// Reward name ([`crate::RewardFn::name`]).
        reward: &'static str,
        /// The missing field.
        field: &'static str,
    },
    /// A request line (JSONL, `srl-swe reward`) is not valid.
    #[error("line {line}: {message}")]
    BadRequest {
        /// 1-based line number.
        line: usize,
        /// The field at fault, when one is.
        field: Option<String>,
        /// What is wrong.
        message: String,
    },
}

/// Result alias of `srl-reward`.
pub type Result<T> = std::result::Result<T, RewardError>;
