#!/usr/bin/env bash
# The page benchmark (tests/bench/page.spec.ts): cold load, sample, toggles and stage switches,
# timed in headless Chromium, min and median of BENCH_RUNS (default 5) runs each.
#   scripts/bench_page.sh                                  # builds dist/ if missing, times it
#   BENCH_DISTS="before=/tmp/dist-old,after=dist" scripts/bench_page.sh   # builds interleaved
#   BENCH_OUT=docs/bench/page-after.txt scripts/bench_page.sh             # also writes the table
# Set PW_PORT (default 8765) when another Playwright run shares the machine.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$HOME/.cargo/bin:$PATH"
if [ -z "${BENCH_DISTS:-}" ] && [ ! -f dist/index.html ]; then
  trunk build --release
fi
exec npx playwright test -c tests/bench/page.config.ts
