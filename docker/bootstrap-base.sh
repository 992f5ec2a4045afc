#!/usr/bin/env bash
# Builds the sandbox base image without any container registry: a minimal Debian root made with
# debootstrap from the distribution's package mirror (python3, pytest, git, patch), imported with
# `docker import` and tagged srl-swe/base:<version>. Skips the work when the image exists.
# On machines with a registry, `docker build -t srl-swe/base:1 docker/` does the same from
# docker/Dockerfile.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
source "$here/../scripts/env.sh"
if docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
  echo "[setup] docker base image ready: $BASE_IMAGE" >&2
  exit 0
fi
if ! command -v debootstrap >/dev/null 2>&1; then
  echo "[setup] installing debootstrap (apt-get)" >&2
  if [ "$(id -u)" -eq 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq debootstrap >/dev/null
fi
packages="python3,python3-pytest,git,patch,ca-certificates,procps,coreutils,findutils,grep,sed,less"
cache="$SRL_SWE_CACHE/debootstrap-${DEBIAN_SUITE}-v${BASE_IMAGE_VERSION}"
root="$(mktemp -d /tmp/srl-swe-rootfs.XXXXXX)"
trap 'rm -rf "$root"' EXIT
mkdir -p "$cache"
echo "[setup] building $BASE_IMAGE with debootstrap from $DEBIAN_MIRROR (a few minutes)" >&2
debootstrap --variant=minbase --cache-dir="$cache" --include="$packages" \
  "$DEBIAN_SUITE" "$root" "$DEBIAN_MIRROR" >"$root.log" 2>&1 || { tail -n 30 "$root.log" >&2; exit 1; }
rm -f "$root.log"
# Slim the root: package lists and docs are not needed inside the sandbox.
rm -rf "$root"/var/lib/apt/lists/* "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/var/cache/apt/*.bin
tar --numeric-owner -C "$root" -c . | docker import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV LANG=C.UTF-8' \
  --change 'WORKDIR /' \
  --change 'CMD ["/bin/bash"]' \
  - "$BASE_IMAGE" >/dev/null
echo "[setup] docker base image ready: $BASE_IMAGE" >&2
