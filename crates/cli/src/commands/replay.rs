//! `srl-swe replay`.
use std::process::ExitCode;

/// Options of `srl-swe replay`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {}

pub(crate) fn run(_args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`srl-swe replay` is not available in this build yet")
}
