#!/usr/bin/env bash
# The engine (wasm32 + simd128) against onnxruntime-web 1.30 (wasm, SIMD, one thread) in one
# headless Chromium, interleaved: tests/bench/ort_vs_engine.spec.ts. Prints a table per variant.
#   scripts/bench_wasm_ort.sh                         # the nine CamVid variants
#   BENCH_VARIANTS="transposed-add bilinear-concat" BENCH_ROUNDS=7 BENCH_RUNS=3 scripts/bench_wasm_ort.sh
#   ENGINE_WASM=/path/to/other.wasm scripts/bench_wasm_ort.sh   # an engine build other than this tree's
# Needs: npm install (onnxruntime-web, @playwright/test), python3 with numpy, onnx, safetensors.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$HOME/.cargo/bin:$PATH"
target="${CARGO_TARGET_DIR:-target}"
out=tests/bench/out
mkdir -p "$out"
if [ -z "${ENGINE_WASM:-}" ]; then
  cargo build --release --target wasm32-unknown-unknown -p skipscope-engine --example wasm_bench
  ENGINE_WASM="$target/wasm32-unknown-unknown/release/examples/wasm_bench.wasm"
fi
cp "$ENGINE_WASM" "$out/engine.wasm"
variants="${BENCH_VARIANTS:-unpool-none unpool-add unpool-concat transposed-none transposed-add transposed-concat bilinear-none bilinear-add bilinear-concat}"
for v in $variants; do
  [ -f "$out/camvid-$v.onnx" ] && [ "$out/camvid-$v.onnx" -nt "www/models/camvid-$v.safetensors" ] ||
    python3 python/onnx_export.py "www/models/camvid-$v.safetensors" "$out/camvid-$v.onnx" > /dev/null
done
export BENCH_VARIANTS="$variants"
exec npx playwright test -c tests/bench/playwright.config.ts
