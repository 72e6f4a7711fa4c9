#!/usr/bin/env bash
# Trains the nine CamVid variants with one recipe, resuming whatever is already in runs/,
# then publishes each finished run to www/models (F16 weights + manifest.json).
# Usage: scripts/train_camvid.sh [EPOCHS] [VARIANT ...]   (variants like transposed-add)
# Safe to interrupt and rerun: every epoch is checkpointed.
set -euo pipefail
cd "$(dirname "$0")/.."
epochs=${1:-40}
shift || true
variants=("$@")
if [ ${#variants[@]} -eq 0 ]; then
  variants=(transposed-none transposed-add transposed-concat unpool-none unpool-add unpool-concat bilinear-none bilinear-add bilinear-concat)
fi
cargo build --release -p skipscope-train
for v in "${variants[@]}"; do
  up=${v%-*}; skip=${v#*-}
  ./target/release/skipscope train --out "runs/camvid-$v" --upsample "$up" --skip "$skip" \
    --channels 8 --depth 4 --height 192 --width 256 --epochs "$epochs" --batch 8 --lr 2e-3 \
    --weight-decay 1e-4 --max-zoom 1.5 --seed 1 --threads 2 --resume
  ./target/release/skipscope export --run "runs/camvid-$v" --to www/models
done
