"""Writes a SkipScopeNet as the weights file the page and the engine load
(crates/engine/src/weights.rs): safetensors, tensors under the engine's names and layouts
(`model.engine_state`), float32, and the metadata each as a JSON string: `format`
("skipscope"), `format_version` (1), `config`, `classes` (name and RGB colour per class),
`normalization` (input mean and std per channel), `recipe` and `metrics` (free-form).

    python -m skipscope_torch.export run/checkpoint.pt my-model.safetensors

(a checkpoint written by `skipscope_torch.train`), or from Python: `save(model, path, ...)`.
"""

import argparse
import colorsys
import json

import torch
from safetensors.torch import save_file

from .model import SkipScopeNet, engine_state

FORMAT_VERSION = 1
IMAGENET = {"mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]}


def made_up_classes(n):
    """`n` classes named "class 0", ... with colours spread around the hue circle."""
    return [{"name": f"class {i}", "color": [round(255 * v) for v in colorsys.hsv_to_rgb(i / n, 0.65, 0.9)]} for i in range(n)]


def metadata(config, classes=None, normalization=None, recipe=None, metrics=None):
    """The file's `__metadata__` (every value a JSON string), checked like the engine checks it."""
    classes = classes or made_up_classes(config["n_classes"])
    normalization = normalization or IMAGENET
    if len(classes) != config["n_classes"]:
        raise ValueError(f"{len(classes)} classes named for a model of {config['n_classes']}")
    for c in classes:
        if not isinstance(c.get("name"), str) or len(c.get("color", [])) != 3 or not all(0 <= v <= 255 for v in c["color"]):
            raise ValueError(f"a class needs a name and an RGB colour 0..=255, got {c!r}")
    if len(normalization["mean"]) != config["in_channels"] or len(normalization["std"]) != config["in_channels"]:
        raise ValueError("normalization needs one mean and one std per input channel")
    keys = ("in_channels", "n_classes", "depth", "width", "upsample", "skip")
    return {
        "format": "skipscope",
        "format_version": str(FORMAT_VERSION),
        "config": json.dumps({k: config[k] for k in keys}),
        "classes": json.dumps([{"name": c["name"], "color": [int(v) for v in c["color"]]} for c in classes]),
        "normalization": json.dumps(normalization),
        "recipe": json.dumps(recipe),
        "metrics": json.dumps(metrics),
    }


def save(model, path, classes=None, normalization=None, recipe=None, metrics=None):
    """Writes `model` (a SkipScopeNet; its batch norms as they are, the engine folds them) to `path`."""
    save_file(engine_state(model), path, metadata=metadata(model.config, classes, normalization, recipe, metrics))


def main(argv=None):
    parser = argparse.ArgumentParser(description="Export a skipscope_torch checkpoint as a SkipScope weights file.")
    parser.add_argument("checkpoint", help="checkpoint.pt written by skipscope_torch.train")
    parser.add_argument("out", help="the .safetensors file to write")
    args = parser.parse_args(argv)
    ck = torch.load(args.checkpoint, map_location="cpu", weights_only=False)
    model = SkipScopeNet(ck["config"])
    model.load_state_dict(ck["model"])
    save(model, args.out, ck.get("classes"), ck.get("normalization"), ck.get("recipe"), ck.get("metrics"))
    print(f"wrote {args.out} ({ck['config']['upsample']}-{ck['config']['skip']}, depth {ck['config']['depth']}, width {ck['config']['width']})")


if __name__ == "__main__":
    main()
