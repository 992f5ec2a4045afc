//! `srl-swe serve sandbox`: multi-turn SWE sessions over the Docker sandbox for other engines'
//! agent loops (`srl_serve::sandbox`; protocol and adapters in docs/agent.md and
//! `integrations/`). Prints `listening on http://ADDR` on stdout once bound, logs to stderr,
//! and on SIGTERM / Ctrl-C stops accepting, then removes every session's container.
use anyhow::Context;
use srl_serve::sandbox::{SandboxServer, SandboxServerConfig};
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

/// Options of `srl-swe serve sandbox`.
#[derive(Debug, clap::Args)]
pub(crate) struct SandboxArgs {
    /// Listen address (loopback by default; port 0 picks a free port).
    #[arg(long, default_value = srl_serve::sandbox::DEFAULT_SANDBOX_BIND)]
    bind: SocketAddr,
    /// Folder holding the environments (`<name>/instances.jsonl`; images from `srl-swe sandbox build`).
    #[arg(long, env = "SRL_SWE_ENVIRONMENTS", default_value = "environments")]
    environments: PathBuf,
    /// Sessions (containers) alive at once. Default: the number of cores.
    #[arg(long)]
    max_sessions: Option<usize>,
    /// Session creations that may wait for a slot; beyond that 429 at once. Default: 2 × max-sessions.
    #[arg(long)]
    max_queue: Option<usize>,
    /// How long a creation waits for a slot before 429 (ms).
    #[arg(long, default_value_t = 30_000)]
    queue_wait_ms: u64,
    /// Retry-After of a 429 (seconds).
    #[arg(long, default_value_t = 5)]
    retry_after_s: u64,
    /// Idle seconds after which a session is reaped (a create call's `timeout_s` overrides it).
    #[arg(long, default_value_t = srl_serve::sandbox::DEFAULT_IDLE_TTL_S)]
    idle_ttl_s: u64,
    /// Agent turns before an episode is cut (`truncated`).
    #[arg(long, default_value_t = 30)]
    max_turns: usize,
    /// Wall-clock cap of an episode (seconds).
    #[arg(long, default_value_t = 3_600)]
    episode_s: u64,
    /// Per-call timeout of `bash` (seconds); the command's process tree is killed when it fires.
    #[arg(long, default_value_t = 60)]
    bash_timeout_s: u64,
    /// Submit on the first `submit` (no SWE-agent review step).
    #[arg(long)]
    no_review: bool,
}

pub(crate) fn run(args: SandboxArgs) -> anyhow::Result<ExitCode> {
    let defaults = SandboxServerConfig::default();
    let max_sessions = args.max_sessions.unwrap_or(defaults.max_sessions);
    let config = SandboxServerConfig {
        bind: args.bind,
        environments: args.environments,
        max_sessions,
        max_queue: args.max_queue.unwrap_or(2 * max_sessions),
        queue_wait_ms: args.queue_wait_ms,
        retry_after_s: args.retry_after_s,
        idle_ttl_s: args.idle_ttl_s,
        max_turns: args.max_turns,
        episode_s: args.episode_s,
        bash_timeout_s: args.bash_timeout_s,
        review_submit: !args.no_review,
        ..defaults
    };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting tokio")?;
    runtime.block_on(async move {
        let server = SandboxServer::bind(config).await?;
        let mut stdout = std::io::stdout();
        writeln!(stdout, "listening on http://{}", server.local_addr())?;
        stdout.flush()?;
        server.run(super::serve::shutdown_signal()).await?;
        anyhow::Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}
