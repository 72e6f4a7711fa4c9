#!/usr/bin/env bash
# Builds SkipScope and serves it at http://127.0.0.1:8080 (installing what is missing).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="$PWD/node_modules/.bin:$HOME/.cargo/bin:$PATH"
exec trunk serve --release --address 127.0.0.1 --port "${PORT:-8080}"
