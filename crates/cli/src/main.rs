//! `srl-swe`: Supervised Reinforcement Learning (Deng et al., arXiv 2510.25992) for
//! software-engineering agents and math reasoning. One subcommand per phase; each lives in its
//! own file under `commands/`. Logs go to stderr, data to files or stdout.
//!
//! Exit codes: 0 success, 1 the job ran but its verdict is negative (e.g. a replay did not
//! resolve), 2 error.

mod commands;
mod progress;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Supervised Reinforcement Learning for SWE agents and math reasoning.
#[derive(Debug, Parser)]
#[command(name = "srl-swe", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Log filter (tracing `EnvFilter` syntax), e.g. `info`, `srl_trajectory=debug`.
    #[arg(long, global = true, env = "SRL_SWE_LOG", default_value = "info")]
    log: String,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Turn expert trajectories (SWE-smith) or solutions (s1K-1.1 with --math) into step-wise SRL instances.
    Prepare(commands::prepare::Args),
    /// Score (model output, expert action) pairs with the SRL reward, or plain SequenceMatcher ratios.
    Reward(commands::reward::Args),
    /// Run and manage the Docker sandbox.
    #[command(subcommand)]
    Sandbox(commands::sandbox::Command),
    /// Re-execute expert trajectories in their task environment and check that they resolve the task.
    Replay(commands::replay::Args),
    /// Evaluate a model: Agentless-mini oracle / end-to-end on SWE tasks, or math accuracy.
    Eval(commands::eval::Args),
    /// Re-grade saved SWE-bench / SWE-smith test logs without Docker.
    Grade(commands::grade::Args),
    /// Create model checkpoints (e.g. the tiny demo model).
    #[command(subcommand)]
    Model(commands::model::Command),
    /// Train a policy with GRPO on SRL and RLVR rewards.
    Train(commands::train::Args),
    /// Serve srl-swe over HTTP for other trainers: `serve reward` (OpenRLHF protocol + batched /score).
    #[command(subcommand)]
    Serve(commands::serve::Command),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let filter =
        tracing_subscriber::EnvFilter::try_new(&cli.log).unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::env::var_os("NO_COLOR").is_none())
        .init();
    let result = match cli.command {
        Command::Prepare(args) => commands::prepare::run(args),
        Command::Reward(args) => commands::reward::run(args),
        Command::Sandbox(cmd) => commands::sandbox::run(cmd),
        Command::Replay(args) => commands::replay::run(args),
        Command::Eval(args) => commands::eval::run(args),
        Command::Grade(args) => commands::grade::run(args),
        Command::Model(cmd) => commands::model::run(cmd),
        Command::Train(args) => commands::train::run(args),
        Command::Serve(cmd) => commands::serve::run(cmd),
    };
    match result {
        Ok(code) => code,
        Err(err) => {
            if is_broken_pipe(&err) {
                return ExitCode::SUCCESS;
            }
            eprintln!("error: {err:#}");
            ExitCode::from(2)
        }
    }
}

fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|c| c.downcast_ref::<std::io::Error>().is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe))
}
