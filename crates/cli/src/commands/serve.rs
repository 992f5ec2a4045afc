//! `srl-swe serve reward`: the SRL reward over HTTP for existing RL engines (OpenRLHF's
//! `--reward.remote_url`, the veRL and TRL shims in `integrations/`); the server is
//! `srl_serve::RewardServer`, the protocol and limits are in `docs/engines.md`.
//!
//! Prints `listening on http://ADDR` on stdout once bound (so `--bind 127.0.0.1:0` is usable
//! from scripts), logs to stderr, and stops gracefully on SIGTERM or Ctrl-C: requests in flight
//! are answered first.
use anyhow::Context;
use srl_serve::{special_tokens_of, ItemKind, RewardServer, RewardServerConfig, ScoreScale};
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

/// `srl-swe serve …` subcommands.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum Command {
    /// Serve the SRL reward: POST /get_reward (OpenRLHF), POST /score (batched), GET /health, /version, /metrics.
    Reward(RewardArgs),
    /// Serve multi-turn SWE sessions over the Docker sandbox: POST/GET /v1/sessions, POST
    /// /v1/sessions/{id}/step, /evaluate, DELETE /v1/sessions/{id}, GET /health (docs/agent.md).
    Sandbox(super::serve_sandbox::SandboxArgs),
}

/// Options of `srl-swe serve reward`.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  srl-swe serve reward\n  srl-swe serve reward --bind 127.0.0.1:0 --tokenizer models/tiny/tokenizer.json"
)]
pub(crate) struct RewardArgs {
    /// Listen address (loopback by default; port 0 picks a free port).
    #[arg(long, default_value = srl_serve::config::DEFAULT_BIND)]
    bind: SocketAddr,
    /// Scoring threads. Default: all cores.
    #[arg(long)]
    workers: Option<usize>,
    /// `scores` of /get_reward: `reward` (= rewards, in [-1, 1]) or `unit` ((r + 1) / 2, in [0, 1]).
    #[arg(long, default_value = "reward", value_parser = ["reward", "unit"])]
    scores: String,
    /// Per-item scoring budget in ms; an item over it scores -1 with error = 1.
    #[arg(long, default_value_t = srl_serve::config::DEFAULT_ITEM_BUDGET_MS)]
    item_budget_ms: u64,
    /// Longest response, expert action or answer scored, in characters (longer: -1, error = 1).
    #[arg(long, default_value_t = srl_serve::config::DEFAULT_MAX_ITEM_CHARS)]
    max_item_chars: usize,
    /// Largest request body in bytes.
    #[arg(long, default_value_t = srl_serve::config::DEFAULT_MAX_BODY_BYTES)]
    max_body_bytes: usize,
    /// Hugging Face tokenizer.json whose special tokens are stripped from the end of /get_reward
    /// responses (in addition to --strip-token).
    #[arg(long)]
    tokenizer: Option<PathBuf>,
    /// Trailing token stripped from /get_reward responses (repeatable). Default: <|im_end|> and
    /// <|endoftext|> when neither this nor --tokenizer is given.
    #[arg(long = "strip-token")]
    strip_tokens: Vec<String>,
    /// Assistant header after which the response starts when `prompts` is not a prefix of `query`.
    #[arg(long, default_value = srl_serve::config::DEFAULT_ASSISTANT_MARKER)]
    assistant_marker: String,
    /// Kind of /get_reward labels given as plain expert text.
    #[arg(long, default_value = "swe", value_parser = ["swe", "math"])]
    default_kind: String,
    #[command(flatten)]
    scoring: super::reward::ScoringFlags,
}

pub(crate) fn run(command: Command) -> anyhow::Result<ExitCode> {
    match command {
        Command::Reward(args) => reward(args),
        Command::Sandbox(args) => super::serve_sandbox::run(args),
    }
}

fn reward(args: RewardArgs) -> anyhow::Result<ExitCode> {
    let mut strip_tokens = args.strip_tokens.clone();
    if let Some(path) = &args.tokenizer {
        for token in special_tokens_of(path)? {
            if !strip_tokens.contains(&token) {
                strip_tokens.push(token);
            }
        }
    }
    let defaults = RewardServerConfig::default();
    if strip_tokens.is_empty() {
        strip_tokens = defaults.strip_tokens.clone();
    }
    let config = RewardServerConfig {
        bind: args.bind,
        workers: args.workers.unwrap_or(defaults.workers),
        item_budget_ms: args.item_budget_ms,
        max_item_chars: args.max_item_chars,
        max_body_bytes: args.max_body_bytes,
        scores: if args.scores == "unit" { ScoreScale::Unit } else { ScoreScale::Reward },
        strip_tokens,
        assistant_marker: args.assistant_marker,
        default_kind: args.default_kind.parse::<ItemKind>().map_err(anyhow::Error::msg)?,
        srl: args.scoring.srl(),
        answer: args.scoring.answer(),
    };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().context("starting tokio")?;
    runtime.block_on(async move {
        let server = RewardServer::bind(config)?;
        let mut stdout = std::io::stdout();
        writeln!(stdout, "listening on http://{}", server.local_addr())?;
        stdout.flush()?;
        server.run(shutdown_signal()).await?;
        anyhow::Ok(())
    })?;
    Ok(ExitCode::SUCCESS)
}

/// Resolves on SIGTERM (what schedulers and `docker stop` send) or Ctrl-C.
pub(crate) async fn shutdown_signal() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::warn!("cannot listen for Ctrl-C: {e}");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::warn!("cannot listen for SIGTERM: {e}");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => tracing::info!("Ctrl-C: finishing requests in flight"),
        () = terminate => tracing::info!("SIGTERM: finishing requests in flight"),
    }
}
