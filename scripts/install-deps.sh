#!/usr/bin/env bash
# Installs everything random-labeler needs to build, test and benchmark, from Debian 12 packages.
set -euo pipefail
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
PKGS=(build-essential cmake ninja-build ccache pkg-config git
      libboost1.81-dev libboost-url1.81-dev libboost-json1.81-dev
      libcbor-dev libsimdjson-dev librocksdb-dev prometheus-cpp-dev catch2
      libsecp256k1-dev libssl-dev libzstd-dev libtomlplusplus-dev libfmt-dev libjemalloc-dev
      ca-certificates nodejs npm wrk clang-14 libclang-rt-14-dev)
missing=()
for p in "${PKGS[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
# node/npm may come from elsewhere than Debian's packages; accept any node >= 20 on PATH.
if command -v node >/dev/null && command -v npm >/dev/null; then
  missing=("${missing[@]/nodejs}"); missing=("${missing[@]/npm}")
fi
read -ra missing <<<"${missing[*]}"
if [ ${#missing[@]} -gt 0 ]; then
  echo "install-deps: installing ${missing[*]}" >&2
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
