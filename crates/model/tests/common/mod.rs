//! Helpers for the parity tests: the project venv's Python (`$SRL_SWE_PYTHON`, set by
//! `scripts/env.sh`, else `python3`) runs transformers as the reference implementation.
#![allow(dead_code)]

use std::path::Path;
use std::process::Command;

/// The Python interpreter with torch + transformers.
pub(crate) fn python() -> String {
    std::env::var("SRL_SWE_PYTHON").unwrap_or_else(|_| "python3".into())
}

/// Runs `script` with `args`; panics with set-up instructions when transformers is missing and
/// with Python's stderr when the script fails. Returns stdout.
pub(crate) fn run_python(script: &str, args: &[&Path]) -> String {
    let py = python();
    let probe = Command::new(&py).args(["-c", "import torch, transformers, safetensors, tokenizers"]).output();
    match probe {
        Ok(o) if o.status.success() => {}
        Ok(o) => panic!(
            "{py} cannot import torch/transformers ({}): run `bash scripts/setup.sh` (installs them into the \
             project venv) and `source scripts/env.sh` (sets SRL_SWE_PYTHON)",
            String::from_utf8_lossy(&o.stderr).lines().last().unwrap_or("")
        ),
        Err(e) => panic!("cannot run {py} ({e}): run `bash scripts/setup.sh` and `source scripts/env.sh`"),
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("script.py");
    std::fs::write(&file, script).unwrap();
    let out = Command::new(&py)
        .arg(&file)
        .args(args)
        .env("TRANSFORMERS_VERBOSITY", "error")
        .env("HF_HUB_OFFLINE", "1")
        .env("TOKENIZERS_PARALLELISM", "false")
        .output()
        .unwrap();
    assert!(out.status.success(), "python reference failed:\n{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}
