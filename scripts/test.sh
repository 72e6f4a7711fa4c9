#!/usr/bin/env bash
# Runs every test: the lint gates, the engine and trainer natively, then the page built with Trunk, the
# wasm-bindgen tests in headless Chromium, and the browser tests of the whole page.
# This is what CI runs (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$PWD/node_modules/.bin:$HOME/.cargo/bin:$PATH"
step() { printf '\n=== %s\n' "$*"; }
log=$(mktemp)
trap 'rm -f "$log"' EXIT
# Runs a test command, keeping its output for the summary at the end.
run_tests() { "$@" 2>&1 | tee -a "$log"; }

step "lint: rustfmt, clippy (native and wasm32), rustdoc"
cargo fmt --all --check
cargo clippy --workspace --all-targets -- -D warnings
cargo clippy --target wasm32-unknown-unknown -p skipscope -p skipscope-engine --all-targets -- -D warnings
cargo clippy --target wasm32-unknown-unknown -p skipscope -p skipscope-engine --all-targets --features skipscope/relaxed-simd -- -D warnings
RUSTDOCFLAGS="-D warnings" cargo doc --no-deps --workspace --quiet

step "native tests: engine, trainer and the page's pure modules (release)"
run_tests cargo test --release --workspace
# Where the CPU has AVX-512 the run above took its kernels; the AVX2 ones against im2col too.
SKIPSCOPE_NO_AVX512=1 run_tests cargo test --release -p skipscope-engine --test direct_conv

step "the PyTorch side of the family (python/tests), where PyTorch is installed"
torch_python=${SKIPSCOPE_TORCH_VENV:-$HOME/.cache/skipscope/venv-torch}/bin/python
# python/tests writes the model it trained here for tests/e2e/own.spec.ts: only this run's counts.
rm -f tests/e2e/artifacts/torch-trained.safetensors
if [ -x "$torch_python" ] && "$torch_python" -c 'import torch' 2>/dev/null; then
  run_tests "$torch_python" -m unittest discover -s python/tests -v
else
  echo "skipped: no PyTorch at $torch_python (bash scripts/setup_torch.sh installs it); the engine's side,"
  echo "crates/engine/tests/torch_parity.rs on the committed PyTorch fixtures, ran above"
fi

step "build the page with Trunk (release)"
trunk build --release

# The engine runs in the worker: its wasm must use simd128.
simd=$(wasm2wat --enable-all dist/worker_bg.wasm | grep -c 'f32x4.mul' || true)
echo "worker wasm: $simd f32x4.mul instructions"
if [ "$simd" -eq 0 ]; then
  echo "error: the worker's wasm has no SIMD instructions (expected +simd128)" >&2
  exit 1
fi
# Its second build, which the page runs where relaxed SIMD validates, must use it.
relaxed=$(wasm2wat --enable-all dist/worker_relaxed_bg.wasm | grep -c 'f32x4.relaxed_madd' || true)
echo "relaxed worker wasm: $relaxed f32x4.relaxed_madd instructions"
if [ "$relaxed" -eq 0 ]; then
  echo "error: dist/worker_relaxed_bg.wasm has no relaxed SIMD (expected the relaxed-simd feature)" >&2
  exit 1
fi

step "wasm tests in headless Chromium (release)"
run_tests cargo test --release --target wasm32-unknown-unknown -p skipscope
# The direct kernels of the relaxed-SIMD build against im2col + GEMM.
run_tests cargo test --release --target wasm32-unknown-unknown -p skipscope --features relaxed-simd --test bench_wasm

if [ -f playwright.config.ts ] || [ -f playwright.config.js ]; then
  step "browser tests of the page (Playwright, Debian Chromium)"
  run_tests npx playwright test --reporter=list
fi

# One closing line over every runner above (cargo per target, Playwright).
awk '/^test result:/ { p += $4; f += $6 } /^Ran [0-9]+ tests? in/ { p += $2 } /^ *[0-9]+ passed/ { p += $1 } /^ *[0-9]+ failed/ { f += $1 } END { printf "tests: %d passed, %d failed\n", p, f }' "$log"
