#!/usr/bin/env bash
# Creates (or reuses) the sympy venv of the math-grading parity test and bench: sympy 1.12 (the
# version Qwen2.5-Math's evaluation pins) with mpmath and the ANTLR runtime that sympy's
# `parse_latex` needs. Plain venv (no torch), keyed by the pinned versions, marked complete by a
# stamp file. Tests and benches ask `bash scripts/venvs/sympy.sh --path` where it is (no set-up).
set -euo pipefail
SRL_SWE_CACHE="${SRL_SWE_CACHE:-$HOME/.cache/srl-swe}"
SYMPY_REQUIREMENTS="sympy==1.12 mpmath==1.3.0 antlr4-python3-runtime==4.11.1"
key="$(printf '%s' "$SYMPY_REQUIREMENTS" | sha256sum | cut -c1-12)"
venv="${SRL_SWE_SYMPY_VENV:-$SRL_SWE_CACHE/venv-sympy-1.12-$key}"
stamp="$venv/.srl-swe-complete"
if [ "${1:-}" = "--path" ]; then
  echo "$venv"
  exit 0
fi
if [ -f "$stamp" ]; then
  echo "[setup] sympy venv ready: $venv" >&2
  exit 0
fi
echo "[setup] creating sympy venv $venv" >&2
mkdir -p "$SRL_SWE_CACHE"
rm -rf "$venv"
python3 -m venv "$venv"
# shellcheck disable=SC2086
"$venv/bin/pip" install --quiet --no-input $SYMPY_REQUIREMENTS
"$venv/bin/python" -c "import sympy; assert sympy.__version__ == '1.12', sympy.__version__; from sympy.parsing.latex import parse_latex; parse_latex('x^2')"
touch "$stamp"
echo "[setup] sympy venv ready: $venv" >&2
