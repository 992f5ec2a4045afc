#!/usr/bin/env bash
# The main job on the shipped samples (README command 1): prepare → train a tiny model a few
# steps → eval. Set-up is included and reused when present.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/setup.sh"
cd "$here/.."
cargo build --release --locked -p srl-swe
bin="$CARGO_TARGET_DIR/release/srl-swe"
out="${1:-out/demo}"
mkdir -p "$out"
echo "== prepare: SWE-smith sample trajectories → step instances" >&2
"$bin" prepare datasets/swe-smith --out "$out/prepare-swe"
echo "== prepare: s1K-1.1 sample → math step instances" >&2
"$bin" prepare --math datasets/s1k --out "$out/prepare-math"
