#!/usr/bin/env bash
# The README's run command: install, build, and start the labeler with the development profile
# (config/development.toml): embedded RocksDB in data/development, a development key made on
# first start, and the shipped sample of Jetstream events, so it serves signed labels offline.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release -DLABELER_BUILD_BENCH=OFF
cmake --build build -j "$(nproc)" --target random-labeler
mkdir -p keys
[ -f keys/development.key ] || build/random-labeler keygen --out keys/development.key
exec build/random-labeler run --config config/development.toml "$@"
