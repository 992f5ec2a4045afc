#!/usr/bin/env bash
# Installs what is missing and reuses what is there: the torch venv (for tch and parity tests),
# the Docker base image, and the task-environment images. Sourced by demo.sh and test.sh.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/env.sh"
bash "$here/setup-venv.sh"
bash "$here/venvs/swebench.sh"
bash "$here/venvs/engines.sh"
bash "$here/venvs/sympy.sh"
if ! docker info >/dev/null 2>&1; then
  echo "error: Docker Engine is not reachable (DOCKER_HOST=${DOCKER_HOST:-unset}); start it or fix permissions" >&2
  exit 2
fi
bash "$here/../docker/bootstrap-base.sh"
