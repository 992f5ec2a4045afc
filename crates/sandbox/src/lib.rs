//! `srl-sandbox`: where SWE actions run (SRL, arXiv 2510.25992, evaluates SWE policies in Docker).
//!
//! - [`Sandbox`]: the trait (exec with timeout and capped output, files in and out, removal),
//!   implemented by [`DockerSandbox`] (bollard 0.21, one long-lived container per task) and
//!   [`FakeSandbox`] (host bash in a temporary folder, for fast tests above the sandbox).
//! - [`grading`]: running a task's tests, parsing pytest logs, SWE-bench / SWE-smith grading,
//!   applying patches with the SWE-bench fallbacks.
//! - [`task`]: a task's environment (image + branch) and the base of its diff.
//! - [`tools`]: SWE-agent's `bash`, `str_replace_editor` and `submit` on top of a sandbox.
//! - [`replay`]: re-executing expert trajectories and grading their final state.
//! - [`episode`]: the environment side of a multi-turn agent episode (task turn, format errors,
//!   observation turns, caps), shared by the RLVR rollouts and the session server.
//! - [`expert`]: recording the expert trajectory specs of the shipped environments.
//! - [`environments`]: the shipped task environments and their images (built with bollard).
//! - [`hardening`], [`owner`]: the containers' security profile and their owner labels
//!   (docs/sandbox.md: what a command can and cannot do).
//!
//! Sibling crates: `srl-core` (records, actions), `srl-eval` (uses this crate to grade).
//!
//! ```no_run
//! # async fn demo() -> srl_sandbox::Result<()> {
//! use srl_sandbox::{DockerSandbox, ExecRequest, Sandbox, SandboxConfig};
//! let sb = DockerSandbox::start("srl-swe/base:1", &SandboxConfig::default()).await?;
//! let out = sb.exec(&ExecRequest::new("echo hi").workdir("/")).await?;
//! assert_eq!(out.stdout, "hi\n");
//! sb.remove().await?;
//! # Ok(()) }
//! ```

pub mod config;
pub mod docker;
pub mod environments;
pub mod episode;
mod error;
pub mod expert;
mod fake;
pub mod grading;
pub mod hardening;
pub mod owner;
mod paths;
pub mod replay;
mod sandbox;
pub mod session;
pub mod task;
pub mod tools;

pub use config::{default_run_id, SandboxConfig};
pub use docker::DockerSandbox;
pub use error::{clip_for_message, Result, SandboxError};
pub use fake::FakeSandbox;
pub use paths::{pack_tar, shell_quote};
pub use sandbox::{truncation_marker, Capture, ExecOutput, ExecRequest, Sandbox};
pub use srl_core::progress::{NoProgress, Progress};
pub use task::{prepare_task, start_task, TaskEnv};
pub use tools::{SweTools, ToolOutput};
