//! `srl-swe`: Supervised Reinforcement Learning (Deng et al., arXiv 2510.25992) for
//! software-engineering agents and math reasoning. One subcommand per phase; each lives in its
//! own file under `commands/`. Logs go to stderr, data to files or stdout.
//!
//! This binary does not link libtorch, so `--version`, `prepare`, `reward`, `grade`, `replay`,
//! `sandbox` and the servers start in milliseconds. The commands that run tensors (`train`,
//! `eval`, `model`) are in the sibling binary `srl-swe-torch` (`torch_main.rs`), which this one
//! executes in its place with the same arguments (docs/design.md, "Two binaries").
//!
//! Exit codes: 0 success, 1 the job ran but its verdict is negative (e.g. a replay did not
//! resolve), 2 error.

mod commands {
    pub(crate) mod grade;
    pub(crate) mod prepare;
    pub(crate) mod replay;
    pub(crate) mod reward;
    pub(crate) mod sandbox;
    pub(crate) mod serve;
    pub(crate) mod serve_sandbox;
}
mod progress;
mod startup;
mod torch_commands;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Supervised Reinforcement Learning for SWE agents and math reasoning.
#[derive(Debug, Parser)]
#[command(name = "srl-swe", version, about, long_about = None, after_help = EXAMPLES)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Log filter (tracing `EnvFilter` syntax), e.g. `info`, `srl_trajectory=debug`.
    #[arg(long, global = true, env = "SRL_SWE_LOG", default_value = "info")]
    log: String,
}

const EXAMPLES: &str = "Examples:
  srl-swe prepare datasets/swe-smith --out out/swe
  srl-swe train --config configs/demo-swe.toml
  srl-swe eval --mode oracle --model gold --out out/eval-gold
  srl-swe <command> --help";

#[derive(Debug, Subcommand)]
enum Command {
    /// Turn expert trajectories (SWE-smith) or solutions (s1K-1.1 with --math) into step-wise SRL instances.
    Prepare(commands::prepare::Args),
    /// Score (model output, expert action) pairs with the SRL reward, or plain SequenceMatcher ratios.
    Reward(commands::reward::Args),
    /// Run and manage the Docker sandbox.
    #[command(subcommand, after_help = "Examples:\n  srl-swe sandbox build\n  srl-swe sandbox gc")]
    Sandbox(commands::sandbox::Command),
    /// Re-execute expert trajectories in their task environment and check that they resolve the task.
    Replay(commands::replay::Args),
    /// Evaluate a model: Agentless-mini oracle / end-to-end on SWE tasks, SRL step reward, or math accuracy.
    #[command(disable_help_flag = true)]
    Eval(torch_commands::Forwarded),
    /// Re-grade saved SWE-bench / SWE-smith test logs without Docker.
    Grade(commands::grade::Args),
    /// Create model checkpoints (e.g. the tiny demo model) and generate with them.
    #[command(disable_help_flag = true)]
    Model(torch_commands::Forwarded),
    /// Train a policy: SFT, SRL and RLVR stages (GRPO).
    #[command(disable_help_flag = true)]
    Train(torch_commands::Forwarded),
    /// Serve srl-swe over HTTP for other trainers: `serve reward` (OpenRLHF protocol + batched /score).
    #[command(subcommand, after_help = "Example:\n  srl-swe serve reward --bind 127.0.0.1:8080")]
    Serve(commands::serve::Command),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Command::Eval(_) | Command::Model(_) | Command::Train(_) = cli.command {
        // Replaces this process: signals, exit code and output are the torch binary's own.
        return startup::exit_code(torch_commands::exec());
    }
    startup::init_logging(&cli.log);
    startup::exit_code(match cli.command {
        Command::Prepare(args) => commands::prepare::run(args),
        Command::Reward(args) => commands::reward::run(args),
        Command::Sandbox(cmd) => commands::sandbox::run(cmd),
        Command::Replay(args) => commands::replay::run(args),
        Command::Grade(args) => commands::grade::run(args),
        Command::Serve(cmd) => commands::serve::run(cmd),
        Command::Eval(_) | Command::Model(_) | Command::Train(_) => unreachable!("forwarded above"),
    })
}
