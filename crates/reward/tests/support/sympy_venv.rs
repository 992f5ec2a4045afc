//! Locates the sympy venv made by `scripts/venvs/sympy.sh` (sympy 1.12, the version
//! Qwen2.5-Math's evaluation pins), for the parity test and the math bench.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Command;

/// The venv's python; panics with the set-up command when the venv is missing.
pub(crate) fn sympy_python() -> PathBuf {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scripts/venvs/sympy.sh");
    let out = Command::new("bash")
        .arg(&script)
        .arg("--path")
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", script.display()));
    let venv = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    assert!(
        out.status.success() && venv.join(".srl-swe-complete").exists(),
        "the sympy venv is missing ({}): run bash scripts/setup.sh",
        venv.display()
    );
    venv.join("bin/python")
}
