#!/usr/bin/env python3
"""Draws the figures of RESULTS.md and BENCHMARKS.md as SVG, from committed data only.

    scripts/plots.py            # writes docs/val-miou.svg and docs/gflops.svg

- docs/val-miou.svg: validation mIoU per epoch of the nine CamVid variants, read from
  runs/camvid-<upsample>-<skip>/log.jsonl (one JSON line per epoch, written by `skipscope
  train`).
- docs/gflops.svg: forward GFLOP/s per layer, native against wasm, read from
  docs/bench/native-w10.txt and docs/bench/wasm-w10.txt (the output of the bench commands
  in BENCHMARKS.md).

Standard library only, so it runs anywhere Python 3 does.
"""

import json
import pathlib
import sys
from xml.sax.saxutils import escape

ROOT = pathlib.Path(__file__).resolve().parent.parent
UPSAMPLES = ["transposed", "unpool", "bilinear"]
SKIPS = ["none", "add", "concat"]
COLOURS = {"transposed": "#1b6ca8", "unpool": "#c0392b", "bilinear": "#2e8b57"}
DASHES = {"none": "2,3", "add": "8,3", "concat": ""}
FONT = 'font-family="sans-serif" font-size="12"'


def text(x, y, s, anchor="start", extra=""):
    return f'<text x="{x:.1f}" y="{y:.1f}" text-anchor="{anchor}" {FONT} {extra}>{escape(s)}</text>'


def svg(width, height, body):
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}">\n'
        f'<rect width="{width}" height="{height}" fill="white"/>\n' + "\n".join(body) + "\n</svg>\n"
    )


def read_log(path):
    """(epoch, validation mIoU in %) per line of a training log."""
    points = []
    for line in path.read_text().splitlines():
        if line.strip():
            entry = json.loads(line)
            points.append((entry["epoch"], 100.0 * entry["val"]["miou"]))
    return points


def plot_val_miou(out):
    runs = {}
    for u in UPSAMPLES:
        for s in SKIPS:
            log = ROOT / "runs" / f"camvid-{u}-{s}" / "log.jsonl"
            if not log.exists():
                sys.exit(f"missing {log}: the nine CamVid runs' logs are committed under runs/")
            runs[(u, s)] = read_log(log)
    epochs = max(e for pts in runs.values() for e, _ in pts)
    top = 10 * (int(max(m for pts in runs.values() for _, m in pts)) // 10 + 1)
    left, right, upper, lower, width, height = 60, 200, 30, 50, 860, 420
    pw, ph = width - left - right, height - upper - lower
    x = lambda e: left + pw * (e - 1) / max(epochs - 1, 1)
    y = lambda m: upper + ph * (1 - m / top)
    body = [text(left, 18, "CamVid validation mIoU (%) per epoch, width 10, the nine variants", extra='font-weight="bold"')]
    for m in range(0, top + 1, 10):
        body.append(f'<line x1="{left}" x2="{left + pw}" y1="{y(m):.1f}" y2="{y(m):.1f}" stroke="#ddd"/>')
        body.append(text(left - 6, y(m) + 4, str(m), "end"))
    for e in range(0, epochs + 1, 10):
        if e >= 1:
            body.append(text(x(e), upper + ph + 16, str(e), "middle"))
    body.append(text(left + pw / 2, height - 12, "epoch", "middle"))
    for i, ((u, s), pts) in enumerate(runs.items()):
        path = " ".join(f"{x(e):.1f},{y(m):.1f}" for e, m in pts)
        dash = f'stroke-dasharray="{DASHES[s]}"' if DASHES[s] else ""
        body.append(f'<polyline points="{path}" fill="none" stroke="{COLOURS[u]}" stroke-width="1.6" {dash}/>')
        ly = upper + 14 + 20 * i
        body.append(f'<line x1="{left + pw + 14}" x2="{left + pw + 44}" y1="{ly - 4}" y2="{ly - 4}" stroke="{COLOURS[u]}" stroke-width="2" {dash}/>')
        best = max(m for _, m in pts)
        body.append(text(left + pw + 50, ly, f"{u}-{s} ({best:.1f})"))
    body.append(text(left + pw + 14, upper + 14 + 20 * 9 + 6, "(best validation mIoU)", extra='fill="#555"'))
    out.write_text(svg(width, height, body))


def read_bench(path):
    """layer -> forward GFLOP/s, for the rows of a `bench` table that have one."""
    rates = {}
    for line in path.read_text().splitlines():
        cols = line.split()
        if len(cols) >= 5 and cols[0].startswith(("enc.", "dec.", "bottleneck.", "head")):
            rates[cols[0]] = float(cols[4])
    return rates


def plot_gflops(out):
    native = read_bench(ROOT / "docs/bench/native-w10.txt")
    wasm = read_bench(ROOT / "docs/bench/wasm-w10.txt")
    layers = [name for name in native if name in wasm]
    left, upper, bar, gap, width = 130, 40, 7, 6, 720
    plot_w = width - left - 40
    height = upper + len(layers) * (2 * bar + gap) + 50
    top = 10 * (int(max(native.values())) // 10 + 1)
    x = lambda v: left + plot_w * v / top
    body = [
        text(10, 18, "Forward GFLOP/s per layer, transposed-add, width 10, 192x256, one thread", extra='font-weight="bold"'),
        f'<rect x="{left}" y="26" width="12" height="8" fill="#1b6ca8"/>',
        text(left + 16, 34, "native x86-64 (AVX2/FMA)"),
        f'<rect x="{left + 200}" y="26" width="12" height="8" fill="#e67e22"/>',
        text(left + 216, 34, "wasm simd128, headless Chromium"),
    ]
    for v in range(0, top + 1, 10):
        body.append(f'<line x1="{x(v):.1f}" x2="{x(v):.1f}" y1="{upper}" y2="{height - 40}" stroke="#ddd"/>')
        body.append(text(x(v), height - 26, str(v), "middle"))
    body.append(text(left + plot_w / 2, height - 8, "GFLOP/s", "middle"))
    for i, name in enumerate(layers):
        y0 = upper + 6 + i * (2 * bar + gap)
        body.append(text(left - 6, y0 + bar + 4, name, "end"))
        body.append(f'<rect x="{left}" y="{y0}" width="{x(native[name]) - left:.1f}" height="{bar}" fill="#1b6ca8"/>')
        body.append(f'<rect x="{left}" y="{y0 + bar}" width="{x(wasm[name]) - left:.1f}" height="{bar}" fill="#e67e22"/>')
    out.write_text(svg(width, height, body))


if __name__ == "__main__":
    plot_val_miou(ROOT / "docs/val-miou.svg")
    plot_gflops(ROOT / "docs/gflops.svg")
    print("wrote docs/val-miou.svg and docs/gflops.svg")
