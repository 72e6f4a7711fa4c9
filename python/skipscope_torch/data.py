"""A folder of photos and label PNGs as a training set for the family.

Layout (what `skipscope_torch.train --data DIR` reads):

    DIR/images/NAME.jpg|jpeg|png|webp|bmp   the photos (any size; RGB)
    DIR/labels/NAME.png                     one per photo, same NAME: 8-bit grey (or palette)
                                            pixel = class index 0..n_classes-1, 255 = ignore
    DIR/classes.json                        optional: [{"name": "road", "color": [128, 64, 128]}, ...]

Every sample is resized to the working size `height x width` (multiples of `2^depth`): the
photo bilinearly, the label by nearest neighbour. Training samples are first scaled up by a
random factor in `[1, max_zoom]`, cropped at random and flipped half of the time; validation
samples are only resized. Tensors: image `[3, H, W]` float32, normalised
`(pixel / 255 - mean) / std`; label `[H, W]` int64.
"""

import json
import pathlib
import random

import numpy as np
import torch
from PIL import Image

IGNORE = 255
PHOTO_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".bmp")


def pairs(root):
    """Sorted (photo, label) paths of `root`; raises ValueError naming what is missing."""
    root = pathlib.Path(root)
    images, labels = root / "images", root / "labels"
    if not images.is_dir() or not labels.is_dir():
        raise ValueError(f"{root} needs the folders images/ and labels/")
    found = []
    for photo in sorted(p for p in images.iterdir() if p.suffix.lower() in PHOTO_SUFFIXES):
        label = labels / f"{photo.stem}.png"
        if not label.exists():
            raise ValueError(f"{photo.name} has no label {label}")
        found.append((photo, label))
    if not found:
        raise ValueError(f"no photos in {images}")
    return found


def classes_of(root, n_classes):
    """The classes of `root/classes.json`, or None if it has none; checked against `n_classes`."""
    path = pathlib.Path(root) / "classes.json"
    if not path.exists():
        return None
    classes = json.loads(path.read_text())
    if len(classes) != n_classes:
        raise ValueError(f"{path} names {len(classes)} classes, the model has {n_classes}")
    return classes


class LabelledFolder(torch.utils.data.Dataset):
    def __init__(self, items, height, width, n_classes, normalization, train, max_zoom=1.5, seed=0):
        self.items, self.height, self.width, self.n_classes = items, height, width, n_classes
        self.mean = torch.tensor(normalization["mean"]).view(3, 1, 1)
        self.std = torch.tensor(normalization["std"]).view(3, 1, 1)
        self.train, self.max_zoom, self.seed, self.epoch = train, max_zoom, seed, 0

    def __len__(self):
        return len(self.items)

    def set_epoch(self, epoch):
        """Each epoch draws its own augmentation (from `seed`, `epoch` and the index)."""
        self.epoch = epoch

    def __getitem__(self, i):
        photo_path, label_path = self.items[i]
        photo = Image.open(photo_path).convert("RGB")
        label = Image.open(label_path)
        if label.mode not in ("L", "P"):
            raise ValueError(f"{label_path}: a label must be an 8-bit grey or palette PNG, got mode {label.mode}")
        h, w = self.height, self.width
        if self.train:
            rng = random.Random((self.seed * 1_000_003 + self.epoch) * 1_000_003 + i)
            zoom = rng.uniform(1.0, self.max_zoom)
            sh, sw = round(h * zoom), round(w * zoom)
            photo, label = photo.resize((sw, sh), Image.BILINEAR), label.resize((sw, sh), Image.NEAREST)
            top, left = rng.randint(0, sh - h), rng.randint(0, sw - w)
            photo, label = photo.crop((left, top, left + w, top + h)), label.crop((left, top, left + w, top + h))
            if rng.random() < 0.5:
                photo, label = photo.transpose(Image.FLIP_LEFT_RIGHT), label.transpose(Image.FLIP_LEFT_RIGHT)
        else:
            photo, label = photo.resize((w, h), Image.BILINEAR), label.resize((w, h), Image.NEAREST)
        x = torch.from_numpy(np.asarray(photo, dtype=np.float32).copy()).permute(2, 0, 1) / 255.0
        y = torch.from_numpy(np.asarray(label, dtype=np.int64).copy())
        bad = (y >= self.n_classes) & (y != IGNORE)
        if bad.any():
            raise ValueError(f"{label_path}: label values {sorted(set(y[bad].tolist()))[:5]} are not classes 0..{self.n_classes - 1} or {IGNORE}")
        return (x - self.mean) / self.std, y


def median_frequency_weights(items, n_classes):
    """Median-frequency class weights (Eigen and Fergus) over the labels: `median(f) / f_c`,
    `f_c` the share of class c among the labelled pixels of the images that contain it; 0 for
    a class that never occurs."""
    pixels = np.zeros(n_classes)
    present = np.zeros(n_classes)
    for _, label_path in items:
        y = np.asarray(Image.open(label_path))
        counts = np.bincount(y[y != IGNORE].ravel(), minlength=256)[:n_classes]
        pixels += counts
        present += (counts > 0) * (y != IGNORE).sum()
    freq = np.where(present > 0, pixels / np.maximum(present, 1), 0.0)
    median = np.median(freq[freq > 0]) if (freq > 0).any() else 1.0
    return torch.tensor(np.where(freq > 0, median / np.maximum(freq, 1e-12), 0.0), dtype=torch.float32)
