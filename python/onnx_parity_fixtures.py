#!/usr/bin/env python3
"""Writes the fixtures that pin the engine to ONNX Runtime: every published model, exported
by onnx_export.py, run by onnxruntime (CPU) on one seeded input.

    pip install -r python/requirements-onnx.txt
    python3 python/onnx_parity_fixtures.py          # rewrites crates/engine/tests/fixtures/onnx/
    python3 python/onnx_parity_fixtures.py --check  # exits 1 if the committed fixtures differ

`crates/engine/tests/onnx_parity.rs` runs the engine on the same input and weights and
compares (every `scripts/test.sh`, no Python needed). Files, all little-endian float32,
channel-major `[C, H, W]`:
- `input.f32`: the normalised input `[3, 32, 32]`, standard normal, seed 0;
- `<model id>.f32`: onnxruntime's scores `[n_classes, 32, 32]`;
- `index.json`: `{height, width, models: [{id, n_classes}]}`.
"""

import json
import pathlib
import sys
import tempfile

import numpy as np
import onnxruntime as ort

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from fixture_files import write_or_check  # noqa: E402
from onnx_export import export  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "crates/engine/tests/fixtures/onnx"
HEIGHT, WIDTH = 32, 32


def scores_of(weights, x):
    with tempfile.TemporaryDirectory() as tmp:
        path = f"{tmp}/model.onnx"
        export(str(weights), path)
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
        return session.run(None, {"x": x})[0][0]


def main(check):
    manifest = json.loads((ROOT / "www/models/manifest.json").read_text())
    x = np.random.default_rng(0).standard_normal((1, 3, HEIGHT, WIDTH)).astype(np.float32)
    files = {"input.f32": x[0].tobytes()}
    models = []
    for entry in manifest["models"]:
        y = scores_of(ROOT / "www/models" / entry["file"], x)
        files[f"{entry['id']}.f32"] = y.astype(np.float32).tobytes()
        models.append({"id": entry["id"], "n_classes": int(y.shape[0])})
    files["index.json"] = (json.dumps({"height": HEIGHT, "width": WIDTH, "models": models}, indent=1) + "\n").encode()
    stale = write_or_check(OUT, files, check)
    if stale:
        raise SystemExit(f"stale ONNX fixtures (rerun python/onnx_parity_fixtures.py): {', '.join(stale)}")
    if check:
        print(f"ONNX fixtures match onnxruntime for {len(models)} models")
        return
    print(f"wrote {len(files)} files to {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main("--check" in sys.argv[1:])
