#!/usr/bin/env bash
# One command on a machine with (or without) a GPU: install from this working tree, then run the
# kernel-parity tests and the throughput benchmark on every backend that starts here (webgpu,
# node-gpu / node when installed, wasm), with PyTorch beside it when python3 imports torch, and
# write summary.json + summary.md (default tools/bench/results/gpu-check/).
#
#   bash tools/gpu-check.sh [--out DIR] [--models conv4,resnet20] [--rounds 1] [--seconds 2]
#
# MNEMO_GPU_CHECK_INSTALL=0 skips the install step (a tree that is already installed).
# For side-by-side ratios install PyTorch first: apt-get install -y python3-torch libopenblas0-pthread
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "${MNEMO_GPU_CHECK_INSTALL:-1}" != "0" ]; then
  echo "== install (npm ci from this working tree)" >&2
  npm ci --no-audit --no-fund --prefer-offline >&2
  # webgpu (Dawn's Node binding, prebuilt in its tarball) is optional: say so when it is missing.
  if ! node -e 'require.resolve("webgpu/package.json")' 2>/dev/null; then
    echo "note: the optional webgpu package did not install; webgpu will be reported as unavailable" >&2
  fi
fi
exec node --import tsx tools/gpu-check.ts "$@"
