//! The error type of `srl-sandbox` (one enum for the crate, structured variants).
use std::path::PathBuf;

/// Errors of the sandbox, its tools, environments, grading and replay.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    /// The Docker Engine could not be reached or refused the API version.
    #[error("Docker Engine not reachable ({detail}): start dockerd / set DOCKER_HOST; base image missing: run bash scripts/setup.sh")]
    DockerUnavailable {
        /// What the client said.
        detail: String,
    },
    /// A Docker API call failed.
    #[error("docker {op} failed{}: {source}", container.as_deref().map(|c| format!(" for container {c}")).unwrap_or_default())]
    Docker {
        /// The operation (`create_container`, `exec`, ...).
        op: &'static str,
        /// The container, when there is one.
        container: Option<String>,
        /// The cause.
        #[source]
        source: bollard::errors::Error,
    },
    /// An image needed by a task is not present locally.
    #[error("docker image {image:?} not found locally{}; build it with `srl-swe sandbox build` (environments/) or pull it where a registry exists", instance.as_deref().map(|i| format!(" (needed by {i})")).unwrap_or_default())]
    ImageMissing {
        /// The image name.
        image: String,
        /// The task that needs it.
        instance: Option<String>,
    },
    /// Building an image failed.
    #[error("building image {image}: {message}")]
    ImageBuild {
        /// The image tag.
        image: String,
        /// Builder output explaining the failure.
        message: String,
    },
    /// A file inside the sandbox does not exist.
    #[error("{}: no such file or directory in the sandbox", clip_for_message(path, PATH_CHARS))]
    NotFound {
        /// The path inside the sandbox.
        path: String,
    },
    /// A path was expected to be a regular file.
    #[error("{}: is a directory", clip_for_message(path, PATH_CHARS))]
    IsDirectory {
        /// The path inside the sandbox.
        path: String,
    },
    /// A path inside the sandbox is not absolute.
    #[error("{}: sandbox paths must be absolute", clip_for_message(path, PATH_CHARS))]
    RelativePath {
        /// The path as given.
        path: String,
    },
    /// The sandbox was already removed.
    #[error("sandbox {name} was already removed")]
    Removed {
        /// The sandbox name.
        name: String,
    },
    /// A command the sandbox relies on (setup, git) failed.
    #[error(
        "command {:?} in {sandbox} exited with {exit_code}: {}",
        clip_for_message(cmd, PATH_CHARS),
        clip_for_message(output, OUTPUT_CHARS)
    )]
    CommandFailed {
        /// The sandbox name.
        sandbox: String,
        /// The command.
        cmd: String,
        /// Its exit code.
        exit_code: i64,
        /// Its (capped) output.
        output: String,
    },
    /// Host I/O failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A record file (instances, trajectories) is malformed.
    #[error("{}:{line}: field {}: {}", path.display(), clip_for_message(field, PATH_CHARS), clip_for_message(message, MESSAGE_CHARS))]
    Record {
        /// The file.
        path: PathBuf,
        /// 1-based line (0 when the whole file is one record).
        line: usize,
        /// The field at fault (`-` when the record does not parse at all).
        field: String,
        /// What is wrong.
        message: String,
    },
    /// A task instance is unknown.
    #[error("no task instance {:?} in {searched}", clip_for_message(instance_id, PATH_CHARS))]
    UnknownInstance {
        /// The id looked for.
        instance_id: String,
        /// Where it was looked for.
        searched: String,
    },
    /// A tool call is malformed.
    #[error("invalid action: {0}")]
    Action(#[from] srl_core::ActionParseError),
    /// Shared I/O helpers failed.
    #[error(transparent)]
    Core(#[from] srl_core::CoreError),
    /// Tar packing or unpacking failed.
    #[error("tar archive for {path}: {source}")]
    Tar {
        /// The path packed or unpacked.
        path: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// A configuration file is invalid.
    #[error("sandbox config {}: {}", path.display(), clip_for_message(message, MESSAGE_CHARS))]
    Config {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
}

impl SandboxError {
    /// A short stable label for counting failures.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::DockerUnavailable { .. } => "docker_unavailable",
            Self::Docker { .. } => "docker",
            Self::ImageMissing { .. } => "image_missing",
            Self::ImageBuild { .. } => "image_build",
            Self::NotFound { .. } => "not_found",
            Self::IsDirectory { .. } => "is_directory",
            Self::RelativePath { .. } => "relative_path",
            Self::Removed { .. } => "removed",
            Self::CommandFailed { .. } => "command_failed",
            Self::Io { .. } => "io",
            Self::Record { .. } => "record",
            Self::UnknownInstance { .. } => "unknown_instance",
            Self::Action(_) => "action",
            Self::Core(_) => "core",
            Self::Tar { .. } => "tar",
            Self::Config { .. } => "config",
        }
    }

    pub(crate) fn docker(op: &'static str, container: Option<&str>, source: bollard::errors::Error) -> Self {
        Self::Docker { op, container: container.map(str::to_string), source }
    }
}

/// Longest path, command or id quoted whole in an error message (characters).
const PATH_CHARS: usize = 300;
/// Longest command output quoted in an error message (characters).
const OUTPUT_CHARS: usize = 4000;
/// Longest free-form message quoted in an error message (characters).
const MESSAGE_CHARS: usize = 1000;

/// `text` when it has at most `max` characters, else its first `max` characters and a note
/// saying how many bytes were left out: values in messages come from user data (a 50 MB field,
/// a model-written path) and must not be echoed whole.
pub fn clip_for_message(text: &str, max: usize) -> std::borrow::Cow<'_, str> {
    match text.char_indices().nth(max) {
        None => std::borrow::Cow::Borrowed(text),
        Some((end, _)) => std::borrow::Cow::Owned(format!("{}… ({} more bytes)", &text[..end], text.len() - end)),
    }
}

/// Result alias of `srl-sandbox`.
pub type Result<T> = std::result::Result<T, SandboxError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn huge_values_are_clipped_in_messages() {
        let big = "x".repeat(50 << 20);
        let err = SandboxError::Record { path: "f.jsonl".into(), line: 3, field: "patch".into(), message: big.clone() };
        let text = err.to_string();
        assert!(text.len() < 2000, "{}", text.len());
        assert!(text.starts_with("f.jsonl:3: field patch: xxx"), "{}", &text[..40]);
        assert!(
            text.ends_with(&format!("… ({} more bytes)", (50 << 20) - MESSAGE_CHARS)),
            "{}",
            &text[text.len() - 40..]
        );
        let err = SandboxError::CommandFailed { sandbox: "s".into(), cmd: big.clone(), exit_code: 1, output: big };
        assert!(err.to_string().len() < 2 * OUTPUT_CHARS);
        assert_eq!(clip_for_message("héllo", 2), "hé… (3 more bytes)");
        assert_eq!(clip_for_message("hé", 2), "hé");
    }
}
