//! `srl-swe reward`.
use std::process::ExitCode;

/// Options of `srl-swe reward`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {}

pub(crate) fn run(_args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`srl-swe reward` is not available in this build yet")
}
