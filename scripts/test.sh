#!/usr/bin/env bash
# The whole test suite (README command 2): set-up (torch venv, Docker base image; reused when
# present), formatting and clippy checks, then every test in the workspace — Docker, libtorch and parity
# tests included. The task-environment images are built first with `srl-swe sandbox build`
# (idempotent, ~30 ms when present), since the sandbox and eval tests run inside them.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/setup.sh"
cd "$here/.."
cargo fmt --all -- --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo build --locked -p srl-swe
"$CARGO_TARGET_DIR/debug/srl-swe" sandbox build
cargo test --workspace --locked --no-fail-fast
