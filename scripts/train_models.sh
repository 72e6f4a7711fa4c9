#!/usr/bin/env bash
# Trains variants of one dataset with that dataset's single recipe, resuming whatever is
# already in runs/<dataset>-<variant>. Each finished run is exported (test scores, F16
# weights) to the staging folder runs/<dataset>-models; once every listed variant has
# finished they are published together to www/models; list all of a dataset's variants (the
# default) so that the page never shows models of two recipes side by side.
# Usage: scripts/train_models.sh camvid|ccp [EPOCHS] [VARIANT ...]   (variants like transposed-add)
# Defaults: camvid width 10, 80 epochs at 192x256, all nine variants; ccp width 8, 16 epochs
# at 256x176, the three transposed variants. Safe to interrupt and rerun: every epoch is
# checkpointed. (CamVid's first recipe, width 8 and 40 epochs, is kept in runs/camvid-w8-*.)
set -euo pipefail
cd "$(dirname "$0")/.."
dataset=${1:?usage: scripts/train_models.sh camvid|ccp [EPOCHS] [VARIANT ...]}
shift
case "$dataset" in
  camvid) channels=10; epochs=80; height=192; width=256
          variants=(transposed-none transposed-add transposed-concat unpool-none unpool-add unpool-concat bilinear-none bilinear-add bilinear-concat) ;;
  ccp)    channels=8; epochs=16; height=256; width=176
          variants=(transposed-none transposed-add transposed-concat) ;;
  *) echo "unknown dataset '$dataset' (expected camvid or ccp)" >&2; exit 2 ;;
esac
if [ $# -gt 0 ]; then epochs=$1; shift; fi
if [ $# -gt 0 ]; then variants=("$@"); fi
cargo build --release -p skipscope-train
for v in "${variants[@]}"; do
  up=${v%-*}; skip=${v#*-}
  ./target/release/skipscope train --dataset "$dataset" --out "runs/$dataset-$v" --upsample "$up" --skip "$skip" \
    --channels "$channels" --depth 4 --height "$height" --width "$width" --epochs "$epochs" --batch 8 --lr 2e-3 \
    --weight-decay 1e-4 --max-zoom 1.5 --seed 1 --threads 2 --resume
  staged="runs/$dataset-models/$dataset-$v.safetensors"
  if [ "$staged" -nt "runs/$dataset-$v/best.safetensors" ]; then
    echo "$dataset-$v: staged weights are newer than the run's best checkpoint; not exporting again"
  else
    ./target/release/skipscope export --run "runs/$dataset-$v" --to "runs/$dataset-models"
  fi
done
./target/release/skipscope publish --from "runs/$dataset-models" --to www/models "${variants[@]/#/$dataset-}"
