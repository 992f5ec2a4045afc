//! The error type of `srl-trajectory` and the reasons a record is skipped.
//!
//! Bad input is handled per record ("Bad input"): a reader or the replay reports an
//! [`Issue`] (a reason code plus the field and a detail), the pipeline attaches the file and row,
//! logs it, counts it under [`IssueKind::label`] and goes on; with `--strict` the first one becomes
//! [`TrajectoryError::Record`].

use std::fmt;
use std::path::PathBuf;

/// Why a record (or a whole file) was skipped. The labels are the keys of `stats.json`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum IssueKind {
    /// A JSON value (a JSONL line, the `messages` string, a `.traj` file) does not parse.
    MalformedJson,
    /// A required column or key is absent or has the wrong type.
    MissingColumn,
    /// Tool-call `arguments` are not a JSON object.
    BadArguments,
    /// A tool call names a tool that is not bash, str_replace_editor or submit.
    UnknownTool,
    /// An assistant turn carries more than one tool call (or function block).
    MultipleToolCalls,
    /// An assistant turn carries no tool call / function block / command fence.
    MissingToolCall,
    /// A call's parameters do not fit its tool schema.
    InvalidAction,
    /// No assistant step at all, or no task message.
    EmptyTrajectory,
    /// Text that is not UTF-8.
    InvalidUtf8,
    /// A parquet file that cannot be opened or decoded (e.g. truncated).
    BadParquet,
    /// A file that cannot be read.
    Unreadable,
    /// A math row whose `deepseek_attempt` has fewer than two numbered steps.
    TooFewSteps,
    /// A `ticks` turn whose ``` fences do not pair up into one final action block, where
    /// SWE-agent's own parser would read the wrong text (e.g. a lone ``` in the thought).
    UnpairedFence,
}

impl IssueKind {
    /// Stable label used in logs and `stats.json`.
    pub fn label(self) -> &'static str {
        match self {
            Self::MalformedJson => "malformed_json",
            Self::MissingColumn => "missing_column",
            Self::BadArguments => "bad_arguments",
            Self::UnknownTool => "unknown_tool",
            Self::MultipleToolCalls => "multiple_tool_calls",
            Self::MissingToolCall => "missing_tool_call",
            Self::InvalidAction => "invalid_action",
            Self::EmptyTrajectory => "empty_trajectory",
            Self::InvalidUtf8 => "invalid_utf8",
            Self::BadParquet => "bad_parquet",
            Self::Unreadable => "unreadable",
            Self::TooFewSteps => "too_few_steps",
            Self::UnpairedFence => "unpaired_fence",
        }
    }
}

impl fmt::Display for IssueKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// One problem with one record, before its location is known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    /// Reason code.
    pub kind: IssueKind,
    /// The field (column, key or message path such as `messages[3].tool_calls`).
    pub field: String,
    /// What was wrong.
    pub detail: String,
}

impl Issue {
    /// Builds an issue.
    pub fn new(kind: IssueKind, field: impl Into<String>, detail: impl Into<String>) -> Self {
        Self { kind, field: field.into(), detail: detail.into() }
    }
}

/// Where a record lives: file and 0-based row (line index for JSONL; none for `.traj`). Shown as
/// `file row N` (parquet) or `file line N+1` (JSONL).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    /// The file.
    pub path: PathBuf,
    /// 0-based row or line index, when the file has rows.
    pub row: Option<u64>,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let jsonl = self.path.extension().is_some_and(|e| e == "jsonl");
        match self.row {
            // Text files are named by 1-based line, as editors show them.
            Some(r) if jsonl => write!(f, "{} line {}", self.path.display(), r + 1),
            Some(r) => write!(f, "{} row {}", self.path.display(), r),
            None => write!(f, "{}", self.path.display()),
        }
    }
}

/// Errors of `srl-trajectory`.
#[derive(Debug, thiserror::Error)]
pub enum TrajectoryError {
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A bad record under `--strict`.
    #[error("{location}: field {field}: {kind}: {detail}")]
    Record {
        /// File and row.
        location: Location,
        /// Reason code.
        kind: IssueKind,
        /// The offending field.
        field: String,
        /// What was wrong.
        detail: String,
    },
    /// Nothing to read under the input path.
    #[error("{path}: no input files found ({expected})")]
    NoInput {
        /// The input path.
        path: PathBuf,
        /// What was looked for.
        expected: &'static str,
    },
    /// Another prepare run holds the output folder.
    #[error("{path}: another srl-swe prepare is writing to this folder (choose another --out or wait for it)")]
    OutDirBusy {
        /// The output folder.
        path: PathBuf,
    },
    /// An option has an invalid value.
    #[error("invalid option {option}: {message}")]
    InvalidOption {
        /// Option name as on the command line.
        option: &'static str,
        /// Why.
        message: String,
    },
    /// The tokenizer file cannot be loaded or used.
    #[error("tokenizer {path}: {message}")]
    Tokenizer {
        /// The tokenizer.json file.
        path: PathBuf,
        /// The cause.
        message: String,
    },
    /// Writing parquet output failed.
    #[error("writing {path}: {message}")]
    ParquetWrite {
        /// The output file.
        path: PathBuf,
        /// The cause.
        message: String,
    },
    /// Shared I/O helpers failed (atomic output).
    #[error(transparent)]
    Core(#[from] srl_core::CoreError),
    /// Serializing output failed.
    #[error("serializing output: {0}")]
    Json(#[from] serde_json::Error),
}

impl TrajectoryError {
    /// The `--strict` error for an issue at a location.
    pub fn record(location: Location, issue: Issue) -> Self {
        Self::Record { location, kind: issue.kind, field: issue.field, detail: issue.detail }
    }
}

/// Result alias of `srl-trajectory`.
pub type Result<T> = std::result::Result<T, TrajectoryError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_name_rows_and_lines() {
        let p = |path: &str, row| Location { path: PathBuf::from(path), row }.to_string();
        assert_eq!(p("d/tool-00000-of-00008.parquet", Some(3)), "d/tool-00000-of-00008.parquet row 3");
        assert_eq!(p("d/tool.jsonl", Some(3)), "d/tool.jsonl line 4");
        assert_eq!(p("r/i/i.traj", None), "r/i/i.traj");
        let e = TrajectoryError::record(
            Location { path: PathBuf::from("a.jsonl"), row: Some(0) },
            Issue::new(IssueKind::BadArguments, "messages[2].tool_calls", "not JSON"),
        );
        assert_eq!(e.to_string(), "a.jsonl line 1: field messages[2].tool_calls: bad_arguments: not JSON");
    }
}
