#!/usr/bin/env python3
"""The engine's training step against PyTorch's on the same model, natively, side by side.

    bash scripts/setup_torch.sh && cargo build --release -p skipscope-train
    ~/.cache/skipscope/venv-torch/bin/python scripts/bench_train_torch.py [--rounds 5] [--steps 2] [--before OLD_BIN] [VARIANT ...]

For each variant (default: transposed-add, unpool-add, bilinear-concat) it starts
`skipscope bench --train-only` (the trainer's `parallel_step`: forward, loss, backward on
`--threads` shards, AdamW) and builds the same network in PyTorch (python/skipscope_torch,
`torch.set_num_threads(threads)`, AdamW, cross-entropy), both on a fixed random batch
(`--batch` x 3 x 192 x 256, width 10, 11 classes: the CamVid recipe's model), and
interleaves them: each round times `--steps` engine steps, then `--steps` PyTorch steps. It
prints min and median ms per step, images/s, and the ratio engine images/s / PyTorch's.
"""

import argparse
import os
import statistics
import subprocess
import sys
import time

import torch
import torch.nn.functional as F

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "python"))
from skipscope_torch.model import SkipScopeNet  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("variants", nargs="*", default=["transposed-add", "unpool-add", "bilinear-concat"])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--steps", type=int, default=2, help="steps per framework per round")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--channels", type=int, default=10)
    ap.add_argument("--height", type=int, default=192)
    ap.add_argument("--width", type=int, default=256)
    ap.add_argument("--bin", default=os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")), "release", "skipscope"))
    ap.add_argument("--before", help="an older skipscope binary, interleaved too (its median and the speed-up are added)")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.set_num_interop_threads(1)
    print(f"PyTorch {torch.__version__} ({a.threads} threads) against the engine ({a.threads} shards), batch {a.batch} at {a.height}x{a.width}, "
          f"width {a.channels}, AdamW; {a.rounds} rounds x {a.steps} steps each, interleaved, after one warm-up step each")
    extra = " before ms/step min | median | before / engine |" if a.before else ""
    print(f"| variant | engine ms/step min | median | PyTorch ms/step min | median | engine images/s | PyTorch images/s | engine / PyTorch |{extra}")
    print("|---|---|---|---|---|---|---|---|" + ("---|---|---|" if a.before else ""))
    for variant in a.variants:
        up, skip = variant.split("-")

        def start(binary):
            return subprocess.Popen([binary, "bench", "--train-only", "--upsample", up, "--skip", skip, "--channels", str(a.channels), "--classes", "11",
                                     "--height", str(a.height), "--width", str(a.width), "--batch", str(a.batch), "--threads", str(a.threads)],
                                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

        def steps_of(process):
            def run(n):
                process.stdin.write(f"{n}\n")
                process.stdin.flush()
                return [float(t) for t in process.stdout.readline().split()]
            return run

        engine = start(a.bin)
        engine_steps = steps_of(engine)
        older = start(a.before) if a.before else None
        before_steps = steps_of(older) if older else (lambda n: [])

        config = {"in_channels": 3, "n_classes": 11, "depth": 4, "width": a.channels, "upsample": up, "skip": skip}
        model = SkipScopeNet(config).train()
        optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=1e-4)
        g = torch.Generator().manual_seed(7)
        x = torch.randn(a.batch, 3, a.height, a.width, generator=g)
        y = torch.randint(0, 11, (a.batch, a.height, a.width), generator=g)

        def torch_steps(n):
            times = []
            for _ in range(n):
                t0 = time.perf_counter()
                loss = F.cross_entropy(model(x), y)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                times.append((time.perf_counter() - t0) * 1e3)
            return times

        engine_steps(1)
        torch_steps(1)
        before_steps(1)
        mine, theirs, before = [], [], []
        for _ in range(a.rounds):
            mine += engine_steps(a.steps)
            theirs += torch_steps(a.steps)
            before += before_steps(a.steps)
        for process in [engine, older]:
            if process:
                process.stdin.close()
                process.wait()
        me, te = statistics.median(mine), statistics.median(theirs)
        extra = f" {min(before):.0f} | {statistics.median(before):.0f} | {statistics.median(before) / me:.2f} |" if before else ""
        print(f"| {variant} | {min(mine):.0f} | {me:.0f} | {min(theirs):.0f} | {te:.0f} | {1e3 * a.batch / me:.1f} | {1e3 * a.batch / te:.1f} | {te / me:.2f} |{extra}", flush=True)


if __name__ == "__main__":
    main()
