//! `srl-swe-torch`: the commands of `srl-swe` that run tensors (`train`, `eval`, `model`), in a
//! binary of their own so that the main `srl-swe` binary does not load libtorch (`main.rs`).
//! Users run them as `srl-swe train …`; `srl-swe` executes this binary with the same arguments.

mod commands {
    pub(crate) mod eval;
    pub(crate) mod eval_math;
    pub(crate) mod eval_srl;
    // `eval` grades with the `grade` rules and runs Docker through the sandbox helpers; the rest
    // of those two files serves the main binary.
    #[allow(dead_code)]
    pub(crate) mod grade;
    pub(crate) mod model;
    #[allow(dead_code)]
    pub(crate) mod sandbox;
    pub(crate) mod train;
}
mod progress;
mod startup;

use clap::{CommandFactory, FromArgMatches, Subcommand};
use std::process::ExitCode;

/// Supervised Reinforcement Learning for SWE agents and math reasoning (tensor commands).
#[derive(Debug, clap::Parser)]
#[command(name = "srl-swe", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Log filter (tracing `EnvFilter` syntax), e.g. `info`, `srl_train=debug`.
    #[arg(long, global = true, env = "SRL_SWE_LOG", default_value = "info")]
    log: String,
}

// Parsed once per process; the size of the largest variant does not matter.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
enum Command {
    /// Evaluate a model: Agentless-mini oracle / end-to-end on SWE tasks, SRL step reward, or math accuracy.
    Eval(commands::eval::Args),
    /// Create model checkpoints (e.g. the tiny demo model) and generate with them.
    #[command(
        subcommand,
        after_help = "Examples:\n  srl-swe model init --preset tiny --out models/tiny\n  srl-swe model generate --model models/tiny --prompt 'Fix the bug'"
    )]
    Model(commands::model::Command),
    /// Train a policy: SFT, SRL and RLVR stages (GRPO).
    Train(commands::train::Args),
}

fn main() -> ExitCode {
    let matches = Cli::command().get_matches();
    let cli = Cli::from_arg_matches(&matches).unwrap_or_else(|e| e.exit());
    startup::init_logging(&cli.log);
    startup::exit_code(match cli.command {
        Command::Eval(args) => {
            let eval_matches = matches.subcommand_matches("eval").expect("the eval subcommand was parsed");
            commands::eval::refuse_flags_of_other_modes(&args, eval_matches).and_then(|()| commands::eval::run(args))
        }
        Command::Model(cmd) => commands::model::run(cmd),
        Command::Train(args) => commands::train::run(args),
    })
}
