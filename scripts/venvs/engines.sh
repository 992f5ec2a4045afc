#!/usr/bin/env bash
# Creates (or reuses) one Python venv per RL engine for the engine tests of `srl-swe serve reward`
# and the `prepare --format verl|openrlhf|trl` exports (docs/engines.md). The engines pin
# different transformers versions, so each gets its own venv; all reuse the project's torch venv
# ($SRL_SWE_VENV, read-only) through a .pth file, so torch is not installed again. Engines go in
# with --no-deps (their full pins pull CUDA-only packages: deepspeed, flash-attn, vllm) plus the
# few imports the tested code paths need, every one pinned. Idempotent: a complete venv carries a
# stamp file and is reused; its folder name is keyed by the hash of its package list.
#
#   bash scripts/venvs/engines.sh            # all three
#   bash scripts/venvs/engines.sh verl trl   # some
#
# Tests find the venvs with `srl_engine_venv NAME` (scripts/venvs/engines-env.sh), which computes
# the same paths.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/../env.sh"
source "$here/engines-env.sh"

if [ ! -f "$SRL_SWE_VENV/.srl-swe-complete" ]; then
  bash "$here/../setup-venv.sh"
fi
torch_site="$("$SRL_SWE_VENV/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"

build_engine() {
  local name="$1"
  local venv
  venv="$(srl_engine_venv "$name")"
  local stamp="$venv/.srl-swe-complete"
  if [ -f "$stamp" ]; then
    echo "[setup] $name venv ready: $venv" >&2
    return 0
  fi
  local nodeps_var="SRL_ENGINE_${name^^}_NODEPS" deps_var="SRL_ENGINE_${name^^}_DEPS" check_var="SRL_ENGINE_${name^^}_CHECK"
  echo "[setup] creating $name venv $venv (a few minutes)" >&2
  rm -rf "$venv"
  mkdir -p "$(dirname "$venv")"
  # The torch venv's interpreter, so the Python ABI matches the torch wheel; --system-site-packages
  # keeps the interpreter's own site visible and the .pth appends the torch venv after the
  # engine's own site-packages, so the engine's transformers pin shadows the torch venv's.
  "$SRL_SWE_VENV/bin/python" -m venv --system-site-packages "$venv"
  local site
  site="$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
  echo "$torch_site" >"$site/srl-swe-torch-venv.pth"
  # shellcheck disable=SC2086
  "$venv/bin/pip" install --quiet --no-input --disable-pip-version-check --no-deps ${!nodeps_var}
  # shellcheck disable=SC2086
  "$venv/bin/pip" install --quiet --no-input --disable-pip-version-check --no-deps ${!deps_var}
  "$venv/bin/python" -c "${!check_var}"
  touch "$stamp"
  echo "[setup] $name venv ready: $venv" >&2
}

engines=("$@")
if [ ${#engines[@]} -eq 0 ]; then
  engines=(verl openrlhf trl pyserver)
fi
for engine in "${engines[@]}"; do
  build_engine "$engine"
done
