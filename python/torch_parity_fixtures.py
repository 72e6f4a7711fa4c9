#!/usr/bin/env python3
"""Writes the fixtures that pin the engine to the PyTorch model family (skipscope_torch): for
each of the nine variants, a SkipScopeNet with random weights and random batch-norm
statistics, exported by `skipscope_torch.export` exactly as a user's trained model would be,
and PyTorch's scores (eval mode) on one seeded input.

    pip install -r python/requirements-torch.txt
    python3 python/torch_parity_fixtures.py          # rewrites crates/engine/tests/fixtures/torch/
    python3 python/torch_parity_fixtures.py --check  # exits 1 unless PyTorch reproduces the committed fixtures

`crates/engine/tests/torch_parity.rs` loads each committed file with the engine, runs it on
the same input and compares (every `scripts/test.sh`, no Python needed); `--check` runs
the PyTorch side where PyTorch is installed. Files:
- `<variant>.safetensors`: depth 3, width 3, 3 input channels, 5 classes;
- `input.f32`: the input `[3, 24, 40]`, standard normal, seed 0, little-endian float32;
- `<variant>.f32`: PyTorch's scores `[5, 24, 40]`, little-endian float32, channel-major;
- `index.json`: `{height, width, n_classes, variants: [..]}`.
"""

import json
import pathlib
import sys
import tempfile

import torch

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from fixture_files import write_or_check  # noqa: E402
from skipscope_torch.export import save  # noqa: E402
from skipscope_torch.model import SKIPS, UPSAMPLES, SkipScopeNet  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "crates/engine/tests/fixtures/torch"
HEIGHT, WIDTH, CLASSES = 24, 40, 5


def randomised(config, seed):
    """A model whose every parameter and batch-norm statistic is random, so that layouts,
    bias and batch-norm folding all matter."""
    torch.manual_seed(seed)
    model = SkipScopeNet(config)
    with torch.no_grad():
        for name, t in model.state_dict().items():
            if name.endswith("running_var"):
                t.uniform_(0.5, 2.0)
            elif name.endswith("num_batches_tracked"):
                continue
            elif name.endswith("bias") or name.endswith("running_mean"):
                t.normal_(0.0, 0.2)
            elif ".bn" in name:
                t.uniform_(0.5, 1.5)
            else:
                t.normal_(0.0, (2.0 / max(1, t[0].numel())) ** 0.5)
    return model.eval()


def main(check):
    x = torch.randn(1, 3, HEIGHT, WIDTH, generator=torch.Generator().manual_seed(0))
    files = {"input.f32": x[0].numpy().tobytes()}
    variants = []
    for i, (up, skip) in enumerate((u, s) for u in UPSAMPLES for s in SKIPS):
        name = f"{up}-{skip}"
        config = {"in_channels": 3, "n_classes": CLASSES, "depth": 3, "width": 3, "upsample": up, "skip": skip}
        model = randomised(config, seed=1 + i)
        with torch.no_grad():
            y = model(x)[0]
        with tempfile.TemporaryDirectory() as tmp:
            save(model, f"{tmp}/m.safetensors", recipe={"source": "python/torch_parity_fixtures.py", "seed": 1 + i})
            files[f"{name}.safetensors"] = pathlib.Path(f"{tmp}/m.safetensors").read_bytes()
        files[f"{name}.f32"] = y.numpy().tobytes()
        variants.append(name)
    files["index.json"] = (json.dumps({"height": HEIGHT, "width": WIDTH, "n_classes": CLASSES, "variants": variants}, indent=1) + "\n").encode()
    stale = write_or_check(OUT, files, check)
    if stale:
        raise SystemExit(f"PyTorch does not reproduce these fixtures (rerun python/torch_parity_fixtures.py): {', '.join(stale)}")
    if check:
        print(f"PyTorch {torch.__version__} reproduces the fixtures of all {len(variants)} variants")
        return
    print(f"wrote {len(files)} files to {OUT.relative_to(ROOT)}")


if __name__ == "__main__":
    main("--check" in sys.argv[1:])
