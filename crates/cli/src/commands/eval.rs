//! `srl-swe eval`.
use std::process::ExitCode;

/// Options of `srl-swe eval`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {}

pub(crate) fn run(_args: Args) -> anyhow::Result<ExitCode> {
    anyhow::bail!("`srl-swe eval` is not available in this build yet")
}
