"""Writing, or checking, a folder of reference fixtures (the engine's ONNX and PyTorch ones).

`write_or_check(out, files, check)`: `files` maps names to bytes. Writing replaces the
folder's files; checking lists every file that is missing or differs: `.f32` files
(little-endian float32) by value within 1e-5, `.safetensors` files by their tensors and
metadata (their headers' key order is not fixed), others byte for byte.
"""

import json
import pathlib
import struct


def floats(data):
    return struct.unpack(f"<{len(data) // 4}f", data)


def weights_content(data):
    """(metadata, tensors) of a safetensors file, to compare two by content."""
    n = int.from_bytes(data[:8], "little")
    header = json.loads(data[8 : 8 + n])
    meta = header.pop("__metadata__", {})
    body = data[8 + n :]
    return meta, {k: (v["dtype"], v["shape"], body[v["data_offsets"][0] : v["data_offsets"][1]]) for k, v in header.items()}


def same(name, old, new):
    if name.endswith(".f32"):
        a, b = floats(old), floats(new)
        return len(a) == len(b) and all(abs(x - y) <= 1e-5 for x, y in zip(a, b))
    if name.endswith(".safetensors"):
        return weights_content(old) == weights_content(new)
    return old == new


def write_or_check(out, files, check):
    """Writes `files` into `out`, or (with `check`) returns the names that are stale there."""
    out = pathlib.Path(out)
    if check:
        return [name for name, data in files.items() if not (out / name).exists() or not same(name, (out / name).read_bytes(), data)]
    out.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (out / name).write_bytes(data)
    return []
