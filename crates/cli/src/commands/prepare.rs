//! `srl-swe prepare`.
use std::process::ExitCode;

/// Options of `srl-swe prepare`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {}

pub(crate) fn run(_args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`srl-swe prepare` is not available in this build yet")
}
