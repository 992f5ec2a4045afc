//! Helpers shared by the end-to-end tests.
#![allow(dead_code)]
use std::path::PathBuf;
use std::process::Command;

/// The repository root.
pub(crate) fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

/// A command running the built binary from the repository root.
pub(crate) fn srl_swe() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_srl-swe"));
    cmd.current_dir(repo_root());
    cmd
}
