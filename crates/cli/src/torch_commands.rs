//! Forwarding of the tensor commands (`train`, `eval`, `model`) from `srl-swe` to the sibling
//! binary `srl-swe-torch`, which links libtorch. `exec` replaces the process, so Ctrl-C, the
//! exit code and the output are the torch binary's own, and nothing is parsed twice.
use anyhow::Context;
use std::ffi::OsString;
use std::path::PathBuf;
use std::process::ExitCode;

/// Name of the sibling binary, installed beside `srl-swe` by `cargo install --path crates/cli`.
pub(crate) const TORCH_BINARY: &str = "srl-swe-torch";

/// The arguments of a forwarded command, taken as they are (`--help` included).
#[derive(Debug, clap::Args)]
pub(crate) struct Forwarded {
    #[arg(trailing_var_arg = true, allow_hyphen_values = true, num_args = 0..)]
    _args: Vec<OsString>,
}

/// `srl-swe-torch` beside the running executable, or `SRL_SWE_TORCH_BIN` when set.
fn torch_binary() -> anyhow::Result<PathBuf> {
    if let Some(p) = std::env::var_os("SRL_SWE_TORCH_BIN") {
        return Ok(PathBuf::from(p));
    }
    let exe = std::env::current_exe().context("locating the srl-swe executable")?;
    let sibling = exe.with_file_name(TORCH_BINARY);
    if !sibling.is_file() {
        anyhow::bail!(
            "{} not found: train, eval and model run in the sibling binary {TORCH_BINARY}; build both with \
             `cargo build -p srl-swe` or install both with `cargo install --path crates/cli --locked`",
            sibling.display()
        );
    }
    Ok(sibling)
}

/// Runs the whole command line in `srl-swe-torch`, in place of this process.
pub(crate) fn exec() -> anyhow::Result<ExitCode> {
    use std::os::unix::process::CommandExt;
    let bin = torch_binary()?;
    let err = std::process::Command::new(&bin).arg0("srl-swe").args(std::env::args_os().skip(1)).exec();
    Err(err).with_context(|| format!("starting {}", bin.display()))
}
