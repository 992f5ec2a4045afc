#!/usr/bin/env bash
# Creates (or reuses) the venv with the SWE-bench and SWE-smith harnesses that the grading parity
# tests run and that scripts/gen-harness-specs.py reads:
#   - swebench 5.0.2 installed normally: grading, log parsers, make_test_spec of 5.x rows;
#   - swebench 4.1.0 + swesmith 0.0.9 under $SRL_SWE_SWEBENCH_VENV/legacy (pip --target): the
#     last swebench with MAP_REPO_VERSION_TO_SPECS (eval scripts of rows without `eval_script`)
#     and the SWE-smith profiles, which import swebench 4.x modules.
# Packages are installed with --no-deps plus only what the imported modules need, pinned.
# Idempotent: a stamp file marks a complete venv, keyed by the pinned versions. Tests ask
# `bash scripts/venvs/swebench.sh --path` where it is (no set-up).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SWEBENCH_VERSION=5.0.2
SWEBENCH_LEGACY_VERSION=4.1.0
SWESMITH_VERSION=0.0.9
DEPS="datasets==5.2.0 python-dotenv==1.2.4 tqdm==4.70.1 unidiff==1.0.1 requests==2.34.2 beautifulsoup4==4.15.0 ghapi==2.1.4 docker==7.2.0 tenacity==9.2.1 PyYAML==6.0.4"
key="$(printf '%s %s %s %s' "$SWEBENCH_VERSION" "$SWEBENCH_LEGACY_VERSION" "$SWESMITH_VERSION" "$DEPS" | sha256sum | cut -c1-12)"
cache="${SRL_SWE_CACHE:-$HOME/.cache/srl-swe}"
venv="${SRL_SWE_SWEBENCH_VENV:-$cache/venv-swebench-$SWEBENCH_VERSION-$key}"
stamp="$venv/.srl-swe-complete"
if [ "${1:-}" = "--path" ]; then
  echo "$venv"
  exit 0
fi
if [ ! -f "$stamp" ]; then
  echo "[setup] creating swebench venv $venv (swebench $SWEBENCH_VERSION, $SWEBENCH_LEGACY_VERSION, swesmith $SWESMITH_VERSION)" >&2
  mkdir -p "$cache"
  rm -rf "$venv"
  python3 -m venv "$venv"
  # shellcheck disable=SC2086
  "$venv/bin/pip" install --quiet --no-input $DEPS >&2
  "$venv/bin/pip" install --quiet --no-input --no-deps "swebench==$SWEBENCH_VERSION" >&2
  "$venv/bin/pip" install --quiet --no-input --no-deps --target "$venv/legacy" \
    "swebench==$SWEBENCH_LEGACY_VERSION" "swesmith==$SWESMITH_VERSION" >&2
  "$venv/bin/python" "$here/../swebench_harness.py" check "$venv/legacy" >&2
  touch "$stamp"
fi
echo "[setup] swebench venv ready: $venv" >&2
