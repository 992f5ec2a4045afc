//! Helpers shared by the trainer's integration tests: the repository root and the run-config
//! header every toy-task test starts with (seed, run folder, toy Qwen2 on the toy vocabulary).
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// The repository root.
pub(crate) fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

/// TOML lines for a run in `out` with `seed`, one thread, and a model of the `toy` preset
/// (`srl-swe model init --preset toy`) created on first use.
pub(crate) fn toy_header(out: &Path, seed: u64) -> String {
    format!(
        "seed = {seed}\noutput-dir = \"{out}/run\"\nthreads = 1\n[model]\npath = \"{out}/model\"\ninit = \"toy\"\n",
        out = out.display(),
    )
}
