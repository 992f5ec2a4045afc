#!/usr/bin/env bash
# The whole test suite (README command 2): set-up, formatting check, then every test in the
# workspace, Docker and libtorch ones included.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/setup.sh"
cd "$here/.."
cargo fmt --all -- --check
cargo build --workspace --all-targets --locked 2>&1 | tail -n 3
cargo test --workspace --locked --no-fail-fast
