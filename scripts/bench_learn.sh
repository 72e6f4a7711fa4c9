#!/usr/bin/env bash
# The learn view's training benchmark (tests/bench/learn.spec.ts): steps/s per model and the
# longest frame gap while three models train, min and median of BENCH_RUNS (default 3) runs.
#   scripts/bench_learn.sh                                        # builds dist/ if missing, times it
#   BENCH_DISTS="before=/tmp/dist-old,after=dist" scripts/bench_learn.sh   # builds interleaved
#   BENCH_SECONDS=30 BENCH_OUT=docs/bench/learn.txt scripts/bench_learn.sh
# Set PW_PORT (default 8765) when another Playwright run shares the machine.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$HOME/.cargo/bin:$PATH"
if [ -z "${BENCH_DISTS:-}" ] && [ ! -f dist/index.html ]; then
  trunk build --release
fi
exec npx playwright test -c tests/bench/learn.config.ts
