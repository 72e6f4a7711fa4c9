"""The PyTorch side of the family (python/skipscope_torch). Needs PyTorch:

    bash scripts/setup_torch.sh      # a virtual environment with python/requirements-torch.txt
    ~/.cache/skipscope/venv-torch/bin/python -m unittest discover -s python/tests -v

scripts/test.sh runs it whenever that environment exists (and says so when it does not).
"""

import json
import pathlib
import subprocess
import sys
import tempfile
import unittest

import numpy as np
import torch
from PIL import Image
from safetensors import safe_open
from safetensors.torch import load_file

PYTHON = pathlib.Path(__file__).resolve().parent.parent
ROOT = PYTHON.parent
sys.path.insert(0, str(PYTHON))

import torch_parity_fixtures  # noqa: E402
from skipscope_torch import train  # noqa: E402
from skipscope_torch.model import SKIPS, UPSAMPLES, SkipScopeNet, engine_state, from_engine_state  # noqa: E402


def write_dataset(root, n=6, size=32, seed=0):
    """`n` photos of coloured discs and bars on noise, labelled background 0, disc 1, bar 2,
    with a few ignored (255) pixels, and a classes.json."""
    rng = np.random.default_rng(seed)
    (root / "images").mkdir(parents=True)
    (root / "labels").mkdir()
    yy, xx = np.mgrid[:size, :size]
    for i in range(n):
        photo = rng.integers(0, 80, (size, size, 3)).astype(np.uint8)
        label = np.zeros((size, size), np.uint8)
        cy, cx, r = rng.integers(8, size - 8, 2).tolist() + [int(rng.integers(4, 8))]
        disc = (yy - cy) ** 2 + (xx - cx) ** 2 < r * r
        photo[disc] = [220, 40, 40]
        label[disc] = 1
        col = int(rng.integers(2, size - 4))
        photo[:, col : col + 2] = [40, 220, 40]
        label[:, col : col + 2] = 2
        label[0, :3] = 255
        Image.fromarray(photo).save(root / "images" / f"p{i}.png")
        Image.fromarray(label, mode="L").save(root / "labels" / f"p{i}.png")
    (root / "classes.json").write_text(json.dumps([{"name": "ground", "color": [30, 30, 30]}, {"name": "disc", "color": [230, 60, 60]}, {"name": "bar", "color": [60, 200, 60]}]))


class Family(unittest.TestCase):
    def test_pytorch_reproduces_the_engines_fixtures(self):
        # The engine side (crates/engine/tests/torch_parity.rs) runs on the committed files.
        torch_parity_fixtures.main(check=True)

    def test_engine_layouts_round_trip(self):
        for up in UPSAMPLES:
            for skip in SKIPS:
                config = {"in_channels": 3, "n_classes": 4, "depth": 2, "width": 3, "upsample": up, "skip": skip}
                model = SkipScopeNet(config).eval()
                again = from_engine_state(engine_state(model), config).eval()
                x = torch.randn(1, 3, 8, 12)
                with torch.no_grad():
                    torch.testing.assert_close(model(x), again(x), rtol=0, atol=0)

    def test_every_stage_has_the_engines_name_and_shape(self):
        config = {"in_channels": 3, "n_classes": 4, "depth": 3, "width": 4, "upsample": "unpool", "skip": "concat"}
        stages = {}
        SkipScopeNet(config).eval()(torch.randn(1, 3, 16, 24), stages)
        self.assertEqual(list(stages), ["input", "enc.0", "pool.0", "enc.1", "pool.1", "enc.2", "pool.2", "bottleneck", "dec.2", "dec.1", "dec.0", "head"])
        self.assertEqual(tuple(stages["pool.2"].shape), (1, 16, 2, 3))
        self.assertEqual(tuple(stages["bottleneck"].shape), (1, 16, 2, 3))
        self.assertEqual(tuple(stages["dec.0"].shape), (1, 4, 16, 24))
        self.assertEqual(tuple(stages["head"].shape), (1, 4, 16, 24))

    def test_train_export_and_the_engine_opens_it(self):
        with tempfile.TemporaryDirectory() as tmp:
            tmp = pathlib.Path(tmp)
            write_dataset(tmp / "data")
            args = ["--data", str(tmp / "data"), "--out", str(tmp / "run"), "--classes", "3", "--upsample", "transposed", "--skip", "add", "--depth", "2", "--channels", "4", "--height", "32", "--width", "32", "--epochs", "6", "--batch", "2", "--lr", "1e-2", "--workers", "0"]
            train.main(args)
            log = [json.loads(line) for line in (tmp / "run/log.jsonl").read_text().splitlines()]
            self.assertEqual([e["epoch"] for e in log], list(range(6)))
            self.assertLess(log[-1]["loss"], log[0]["loss"], "the loss falls")
            weights = tmp / "run/model.safetensors"
            with safe_open(str(weights), "pt") as f:
                meta = f.metadata()
            self.assertEqual(meta["format"], "skipscope")
            self.assertEqual(json.loads(meta["config"])["skip"], "add")
            self.assertEqual([c["name"] for c in json.loads(meta["classes"])], ["ground", "disc", "bar"])
            self.assertEqual(json.loads(meta["metrics"])["epochs"], 6)
            self.assertEqual(json.loads(meta["recipe"])["trainer"], "skipscope_torch")
            # The exported file reads back into the same network.
            ck = torch.load(tmp / "run/checkpoint.pt", weights_only=False)
            trained = SkipScopeNet(ck["config"])
            trained.load_state_dict(ck["model"])
            reread = from_engine_state(load_file(str(weights)), json.loads(meta["config"]))
            x = torch.randn(1, 3, 32, 32)
            with torch.no_grad():
                torch.testing.assert_close(trained.eval()(x), reread.eval()(x), rtol=0, atol=0)
            # The page's browser test (tests/e2e/own.spec.ts) opens this file when it exists.
            artifacts = ROOT / "tests/e2e/artifacts"
            artifacts.mkdir(parents=True, exist_ok=True)
            (artifacts / "torch-trained.safetensors").write_bytes(weights.read_bytes())
            # Resuming a finished run trains no further and rewrites the same weights.
            train.main(args + ["--resume"])
            self.assertEqual(len((tmp / "run/log.jsonl").read_text().splitlines()), 6)
            # The engine (the CLI, where it is built) opens the file as the page does.
            cli = ROOT / "target/release/skipscope"
            if cli.exists():
                out = subprocess.run([str(cli), "bench", "--weights", str(weights), "--infer-only", "--repeats", "1"], capture_output=True, text=True)
                self.assertEqual(out.returncode, 0, out.stderr)


if __name__ == "__main__":
    unittest.main()
