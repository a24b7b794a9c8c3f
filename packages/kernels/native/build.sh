#!/bin/sh
# Rebuilds the committed .wasm files (needs Debian's clang + lld: apt-get install -y clang lld).
# Two variants because an imported memory's "shared" flag must match the tfjs build's memory:
#   mnemo-kernels.wasm        for tfjs's single-thread SIMD build (plain memory)
#   mnemo-kernels-shared.wasm for the threaded SIMD build (shared memory, max 4 GiB)
set -eu
cd "$(dirname "$0")"
COMMON="--target=wasm32 -O3 -msimd128 -nostdlib -fno-builtin -ffreestanding -Wall -Werror \
  -Wl,--no-entry -Wl,--import-memory -Wl,-z,stack-size=0 -Wl,--strip-all"
clang $COMMON -o mnemo-kernels.wasm mnemo_kernels.c
clang $COMMON -matomics -mbulk-memory -Wl,--shared-memory -Wl,--max-memory=4294967296 \
  -o mnemo-kernels-shared.wasm mnemo_kernels.c
# The module shares tfjs's heap and has no stack of its own: any use of the stack pointer (the only
# global) would write into tfjs's memory. Arrays must stay in locals (fully unrolled loops).
for f in mnemo-kernels.wasm mnemo-kernels-shared.wasm; do
  if llvm-objdump -d "$f" | grep -q "global\.[gs]et"; then
    echo "build.sh: $f uses the stack pointer (a local array was not promoted to registers)" >&2
    exit 1
  fi
done
ls -l *.wasm
