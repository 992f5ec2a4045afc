//! `srl-swe sandbox`.
use std::process::ExitCode;

/// Subcommands of `srl-swe sandbox`.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum Command {}

pub(crate) fn run(cmd: Command) -> anyhow::Result<ExitCode> {
    match cmd {}
}
