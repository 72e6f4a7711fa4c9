#!/usr/bin/env bash
# Installs what building and testing SkipScope needs, only what is missing. Idempotent:
# a second run checks versions and returns in well under a second. What it installs comes
# from the package registries alone (crates.io, npm, Debian): no browser or prebuilt tool
# is downloaded from anywhere else. Once everything is installed it needs no network
# (the crates are fetched offline first; the registries are asked only for what is missing).
set -euo pipefail
cd "$(dirname "$0")/.."

WASM_BINDGEN_VERSION=0.2.130   # must equal the wasm-bindgen version in Cargo.lock
TRUNK_VERSION=0.21.14          # 0.22 needs a newer rustc than this machine has

export PATH="$PWD/node_modules/.bin:$HOME/.cargo/bin:$PATH"
say() { printf '[setup] %s\n' "$*"; }

if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

if [ "$(wasm-bindgen --version 2>/dev/null | awk '{print $2}')" != "$WASM_BINDGEN_VERSION" ]; then
  say "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (about 2 minutes)"
  # Not --locked: its lock file pins a crate version the registry no longer serves.
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --force
fi

if [ "$(trunk --version 2>/dev/null | awk '{print $2}')" != "$TRUNK_VERSION" ]; then
  say "installing trunk $TRUNK_VERSION (about 9 minutes on 2 cores)"
  cargo install trunk --locked --version "$TRUNK_VERSION" --force
fi

if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null || ! command -v wasm2wat >/dev/null; then
  say "installing Chromium, ChromeDriver and wabt from Debian"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver wabt >/dev/null
fi

if [ -f package-lock.json ]; then
  stamp=node_modules/.lock-hash
  want=$(sha256sum package-lock.json | cut -d' ' -f1)
  if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
    say "installing npm packages (binaryen, Playwright without its browser)"
    PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error
    echo "$want" > "$stamp"
  fi
fi

# Trunk builds offline (Trunk.toml), so every crate must already be in the local registry.
if ! cargo fetch --offline --quiet 2>/dev/null; then
  say "fetching crates from crates.io"
  cargo fetch --quiet
fi
