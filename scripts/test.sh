#!/usr/bin/env bash
# Runs every test: the engine and trainer natively, then the page built with Trunk, the
# wasm-bindgen tests in headless Chromium, and the browser tests of the whole page.
# This is what CI runs (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$PWD/node_modules/.bin:$HOME/.cargo/bin:$PATH"
step() { printf '\n=== %s\n' "$*"; }

step "native tests: engine and trainer (release)"
cargo test --release --workspace --exclude skipscope

step "build the page with Trunk (release)"
trunk build --release

if [ "$(wasm2wat --enable-all dist/*_bg.wasm 2>/dev/null | grep -c 'f32x4.mul' || true)" -eq 0 ]; then
  echo "error: the page's wasm has no SIMD instructions (expected +simd128)" >&2
  exit 1
fi

step "wasm tests in headless Chromium (release)"
cargo test --release --target wasm32-unknown-unknown -p skipscope

if [ -f playwright.config.ts ] || [ -f playwright.config.js ]; then
  step "browser tests of the page (Playwright, Debian Chromium)"
  npx playwright test
fi
