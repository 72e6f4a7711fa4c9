#!/usr/bin/env bash
# The engine (wasm32: the simd128 build and the relaxed-SIMD build the page runs where it can)
# against onnxruntime-web 1.30 (wasm, SIMD, one thread) in one headless Chromium, interleaved
# round by round: tests/bench/ort_vs_engine.spec.ts. Prints a table per variant.
#   scripts/bench_wasm_ort.sh                         # the nine CamVid variants
#   BENCH_VARIANTS="transposed-add bilinear-concat" BENCH_ROUNDS=7 BENCH_RUNS=3 scripts/bench_wasm_ort.sh
#   ENGINE_WASM=/path/to/other.wasm scripts/bench_wasm_ort.sh   # one engine build other than this tree's
# Needs: npm install (onnxruntime-web, @playwright/test), python3 with numpy, onnx, safetensors.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$HOME/.cargo/bin:$PATH"
target="${CARGO_TARGET_DIR:-target}"
out=tests/bench/out
mkdir -p "$out"
example="$target/wasm32-unknown-unknown/release/examples/wasm_bench.wasm"
if [ -n "${ENGINE_WASM:-}" ]; then
  cp "$ENGINE_WASM" "$out/engine.wasm"
  export BENCH_ENGINE_WASMS="engine=/tests/bench/out/engine.wasm"
else
  cargo build --release --target wasm32-unknown-unknown -p skipscope-engine --example wasm_bench --features relaxed-simd
  cp "$example" "$out/engine-relaxed.wasm"
  cargo build --release --target wasm32-unknown-unknown -p skipscope-engine --example wasm_bench
  cp "$example" "$out/engine.wasm"
fi
variants="${BENCH_VARIANTS:-unpool-none unpool-add unpool-concat transposed-none transposed-add transposed-concat bilinear-none bilinear-add bilinear-concat}"
for v in $variants; do
  [ -f "$out/camvid-$v.onnx" ] && [ "$out/camvid-$v.onnx" -nt "www/models/camvid-$v.safetensors" ] ||
    python3 python/onnx_export.py "www/models/camvid-$v.safetensors" "$out/camvid-$v.onnx" > /dev/null
done
export BENCH_VARIANTS="$variants"
exec npx playwright test -c tests/bench/playwright.config.ts
