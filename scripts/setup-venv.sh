#!/usr/bin/env bash
# Creates (or reuses) the project's Python venv with torch 2.13.0 for tch and the parity-test
# packages. Idempotent: a complete venv is marked by a stamp file and reused.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/env.sh"
stamp="$SRL_SWE_VENV/.srl-swe-complete"
if [ -f "$stamp" ]; then
  echo "[setup] python venv ready: $SRL_SWE_VENV" >&2
  exit 0
fi
echo "[setup] creating python venv $SRL_SWE_VENV (torch ${TORCH_VERSION}, ~5 GB, a few minutes)" >&2
mkdir -p "$SRL_SWE_CACHE"
# A venv records its own path, so it is built in place; the stamp marks it complete.
rm -rf "$SRL_SWE_VENV"
python3 -m venv "$SRL_SWE_VENV"
# shellcheck disable=SC2086
"$SRL_SWE_VENV/bin/pip" install --quiet --no-input $PY_REQUIREMENTS
"$SRL_SWE_VENV/bin/python" -c "import torch; assert torch.__version__.split('+')[0] == '${TORCH_VERSION}', torch.__version__"
touch "$stamp"
echo "[setup] python venv ready: $SRL_SWE_VENV" >&2
