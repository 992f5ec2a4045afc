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
    #[error("{path}: no such file or directory in the sandbox")]
    NotFound {
        /// The path inside the sandbox.
        path: String,
    },
    /// A path was expected to be a regular file.
    #[error("{path}: is a directory")]
    IsDirectory {
        /// The path inside the sandbox.
        path: String,
    },
    /// A path inside the sandbox is not absolute.
    #[error("{path}: sandbox paths must be absolute")]
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
    #[error("command {cmd:?} in {sandbox} exited with {exit_code}: {output}")]
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
    #[error("{path}:{line}: field {field}: {message}")]
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
    #[error("no task instance {instance_id:?} in {searched}")]
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
    #[error("sandbox config {path}: {message}")]
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

/// Result alias of `srl-sandbox`.
pub type Result<T> = std::result::Result<T, SandboxError>;
