#!/usr/bin/env python3
"""Prints RESULTS.md's tables for one dataset from a manifest (by default the page's,
www/models/manifest.json; runs/<dataset>-models/manifest.json holds runs exported but not
yet published), and the training speed of each variant from its run log
(runs/<id>/log.jsonl: the current recipe's runs; CamVid's width-8 runs are in runs/camvid-w8-*).

Usage: scripts/results_tables.py camvid|ccp [MANIFEST]
"""
import json
import pathlib
import statistics
import sys

CLASSES = {
    "camvid": ["Sky", "Building", "Pole", "Road", "Pavement", "Tree", "SignSymbol", "Fence", "Car", "Pedestrian", "Bicyclist"],
    "ccp": ["Background", "Skin", "Hair", "Clothes"],
}
ORDER = [f"{u}-{s}" for u in ("transposed", "unpool", "bilinear") for s in ("none", "add", "concat")]


def main(dataset, manifest=None):
    root = pathlib.Path(__file__).resolve().parent.parent
    manifest = pathlib.Path(manifest) if manifest else root / "www/models/manifest.json"
    models = {e["id"].split("-", 1)[1]: e for e in json.loads(manifest.read_text())["models"] if e["dataset"] == dataset}
    pct = lambda x: "-" if x is None else f"{100 * x:.1f}"
    print("| variant | params | G | C | mIoU | BF | epochs | train time |")
    print("|---|---|---|---|---|---|---|---|")
    for v in ORDER:
        e = models.get(v)
        if e is None:
            continue
        t = e["test"]
        print(f"| {v} | {e['parameters'] / 1e6:.3f}M | {pct(t['g'])} | {pct(t['c'])} | {pct(t['miou'])} | {pct(t['bf'])} | {e['epochs']} | {e['train_seconds'] / 60:.0f} min |")
    print()
    names = CLASSES[dataset]
    print("| variant | " + " | ".join(names) + " |")
    print("|---|" + "---|" * len(names))
    for v in ORDER:
        if v in models:
            print(f"| {v} | " + " | ".join(pct(x) for x in models[v]["test"]["iou"]) + " |")
    print()
    print("| variant | images/s, median epoch | fastest epoch | slowest epoch |")
    print("|---|---|---|---|")
    for v in ORDER:
        log = root / "runs" / f"{dataset}-{v}" / "log.jsonl"
        if v in models and log.exists():
            speeds = sorted(json.loads(line)["images_per_second"] for line in log.read_text().splitlines() if line.strip())
            print(f"| {v} | {statistics.median(speeds):.1f} | {speeds[-1]:.1f} | {speeds[0]:.1f} |")


if __name__ == "__main__":
    if len(sys.argv) not in (2, 3) or sys.argv[1] not in CLASSES:
        sys.exit(__doc__)
    main(*sys.argv[1:])
