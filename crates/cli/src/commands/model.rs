//! `srl-swe model`.
use std::process::ExitCode;

/// Subcommands of `srl-swe model`.
#[derive(Debug, clap::Subcommand)]
pub(crate) enum Command {}

pub(crate) fn run(cmd: Command) -> anyhow::Result<ExitCode> {
    match cmd {}
}
