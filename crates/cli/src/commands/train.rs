//! `srl-swe train`.
use std::process::ExitCode;

/// Options of `srl-swe train`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {}

pub(crate) fn run(_args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`srl-swe train` is not available in this build yet")
}
