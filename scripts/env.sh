# Shared settings for the project's scripts: where caches live, which versions are pinned.
# Sourced, not run. Everything heavy lives outside the checkout, keyed by version, so a fresh
# clone reuses it.
SRL_SWE_CACHE="${SRL_SWE_CACHE:-$HOME/.cache/srl-swe}"
TORCH_VERSION="2.13.0"
# Python packages for tch (torch) and for the parity tests (transformers, pyarrow).
PY_REQUIREMENTS="torch==${TORCH_VERSION} transformers==4.57.6 numpy==2.3.5 pyarrow==26.0.1 safetensors==0.7.0 jinja2==3.1.6"
PY_REQ_KEY="$(printf '%s' "$PY_REQUIREMENTS" | sha256sum | cut -c1-12)"
SRL_SWE_VENV="${SRL_SWE_VENV:-$SRL_SWE_CACHE/venv-torch-${TORCH_VERSION}-${PY_REQ_KEY}}"
# Docker base image, built offline from Debian's mirror.
BASE_IMAGE_VERSION="1"
BASE_IMAGE="srl-swe/base:${BASE_IMAGE_VERSION}"
DEBIAN_SUITE="bookworm"
DEBIAN_MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
# Build settings for tch: use the venv's torch, shared target dir.
export LIBTORCH_USE_PYTORCH=1
export VIRTUAL_ENV="$SRL_SWE_VENV"
export PATH="$SRL_SWE_VENV/bin:$PATH"
export SRL_SWE_PYTHON="$SRL_SWE_VENV/bin/python"
export SRL_SWE_BASE_IMAGE="$BASE_IMAGE"
# Shared build cache outside the checkout: a fresh clone reuses compiled dependencies.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$SRL_SWE_CACHE/target}"
