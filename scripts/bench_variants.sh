#!/usr/bin/env bash
# One training step of each of the nine variants on one core (width 10 as the CamVid recipe,
# or CHANNELS; 192x256, batch 1, min of 5 runs): its time, images/s, and the convolutions'
# share. Run it on an idle machine. Usage: [CHANNELS=8] scripts/bench_variants.sh [SKIPSCOPE_BINARY]
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-}
channels=${CHANNELS:-10}
if [ -z "$bin" ]; then
  cargo build --release -p skipscope-train
  bin=./target/release/skipscope
fi
echo "| variant | training step ms | images/s (one core) | convolutions ms | convolutions' share |"
echo "|---|---|---|---|---|"
for up in transposed unpool bilinear; do
  for skip in none add concat; do
    out=$("$bin" bench --channels "$channels" --upsample "$up" --skip "$skip")
    step=$(sed -n 's/^training step .*: \([0-9.]*\) ms, .* GFLOP\/s, \([0-9.]*\) images\/s.*/\1 | \2/p' <<<"$out")
    conv=$(sed -n 's/^convolutions (forward + backward): \([0-9.]*\) ms, \([0-9]*\)%.*/\1 | \2%/p' <<<"$out")
    echo "| $up-$skip | $step | $conv |"
  done
done
