#!/usr/bin/env python3
"""The engine's inference against onnxruntime's on the same model, natively, one thread.

    cargo build --release -p skipscope-train
    python3 scripts/bench_onnx.py [--rounds 7] [--runs 3] [VARIANT ...]   # default: the nine CamVid variants

For each variant it exports www/models/camvid-VARIANT.safetensors to ONNX
(python/onnx_export.py), starts `skipscope bench --weights ... --infer-only` (Model::infer,
batch norm folded, warm workspace) and an onnxruntime session (intra_op 1, inter_op 1,
sequential, all graph optimisations), and interleaves them: each round times `--runs`
engine inferences, then `--runs` onnxruntime ones, on 1x3x192x256 inputs. It prints
min and median over all timed runs, and the ratio engine / onnxruntime of each.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
import onnxruntime as ort

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VARIANTS = [f"{u}-{s}" for u in ("unpool", "transposed", "bilinear") for s in ("none", "add", "concat")]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("variants", nargs="*", default=VARIANTS)
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--runs", type=int, default=3, help="inferences per runtime per round")
    ap.add_argument("--height", type=int, default=192)
    ap.add_argument("--width", type=int, default=256)
    ap.add_argument("--bin", default=os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")), "release", "skipscope"))
    a = ap.parse_args()
    sys.path.insert(0, os.path.join(ROOT, "python"))
    print(f"onnxruntime {ort.__version__}, {a.height}x{a.width}, {a.rounds} rounds x {a.runs} runs each, interleaved, one thread")
    print(f"{'variant':<20} {'engine min':>10} {'median':>8} {'ORT min':>9} {'median':>8} {'ratio min':>9} {'median':>8}")
    with tempfile.TemporaryDirectory() as tmp:
        for v in a.variants:
            weights = os.path.join(ROOT, "www", "models", f"camvid-{v}.safetensors")
            onnx_path = os.path.join(tmp, f"{v}.onnx")
            subprocess.run([sys.executable, os.path.join(ROOT, "python", "onnx_export.py"), weights, onnx_path], check=True, stdout=subprocess.DEVNULL)
            opts = ort.SessionOptions()
            opts.intra_op_num_threads = 1
            opts.inter_op_num_threads = 1
            opts.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
            opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
            sess = ort.InferenceSession(onnx_path, opts, providers=["CPUExecutionProvider"])
            x = np.random.default_rng(2).standard_normal((1, 3, a.height, a.width)).astype(np.float32)
            sess.run(None, {"x": x})
            cmd = [a.bin, "bench", "--weights", weights, "--infer-only", "--height", str(a.height), "--width", str(a.width)]
            engine = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
            e_ms, o_ms = [], []
            for r in range(a.rounds + 1):  # round 0 warms both
                engine.stdin.write(f"{a.runs}\n")
                engine.stdin.flush()
                times = [float(t) for t in engine.stdout.readline().split()]
                ort_times = []
                for _ in range(a.runs):
                    t0 = time.perf_counter()
                    sess.run(None, {"x": x})
                    ort_times.append((time.perf_counter() - t0) * 1e3)
                if r > 0:
                    e_ms += times
                    o_ms += ort_times
            engine.stdin.close()
            engine.wait()
            em, emed, om, omed = min(e_ms), statistics.median(e_ms), min(o_ms), statistics.median(o_ms)
            print(f"{v:<20} {em:>10.2f} {emed:>8.2f} {om:>9.2f} {omed:>8.2f} {em / om:>9.2f} {emed / omed:>8.2f}", flush=True)


if __name__ == "__main__":
    main()
