"""Trains one variant of the family on a folder of photos and label PNGs (see `data`), then
writes the weights file the page opens.

    python -m skipscope_torch.train --data DIR --out RUN --classes 3 --upsample transposed --skip add
    torchrun --nproc-per-node 4 -m skipscope_torch.train --data DIR --out RUN ...   # several GPUs or machines

The recipe is the engine trainer's (crates/train): AdamW, the learning rate decayed by a
cosine to 1% of its peak over the run, median-frequency class weights, label 255 ignored,
scale-crop-flip augmentation. Under `torchrun` it is DistributedDataParallel (per-process
batch norm statistics, averaged gradients, as the engine's data parallelism), one process
per GPU (NCCL) or per CPU process (Gloo); on a GPU it trains in mixed precision (bfloat16
where supported, else float16 with loss scaling). Every epoch writes `RUN/checkpoint.pt`;
`--resume` continues from it. At the end (rank 0) it scores the validation split and writes
`RUN/model.safetensors` (`skipscope_torch.export`) with the recipe and those metrics.
"""

import argparse
import json
import math
import os
import pathlib
import random
import time

import numpy as np
import torch
import torch.distributed as dist
import torch.nn.functional as F

from .data import IGNORE, LabelledFolder, classes_of, median_frequency_weights, pairs
from .export import IMAGENET, made_up_classes, save
from .model import SKIPS, UPSAMPLES, SkipScopeNet


def arguments(argv=None):
    p = argparse.ArgumentParser(description="Train a SkipScope model on a folder of photos and label PNGs.")
    p.add_argument("--data", required=True, help="folder with images/, labels/ and optionally classes.json")
    p.add_argument("--out", required=True, help="run folder: checkpoint.pt, log.jsonl, model.safetensors")
    p.add_argument("--classes", type=int, required=True, help="number of classes (label values 0..N-1; 255 ignored)")
    p.add_argument("--upsample", choices=UPSAMPLES, default="transposed")
    p.add_argument("--skip", choices=SKIPS, default="add")
    p.add_argument("--depth", type=int, default=4, help="poolings (2-5 open in the page)")
    p.add_argument("--channels", type=int, default=8, help="width: channels of enc.0, doubling per level")
    p.add_argument("--height", type=int, default=256, help="working height, a multiple of 2^depth")
    p.add_argument("--width", type=int, default=176, help="working width, a multiple of 2^depth")
    p.add_argument("--epochs", type=int, default=16)
    p.add_argument("--batch", type=int, default=8, help="per process")
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--weight-decay", type=float, default=1e-4)
    p.add_argument("--max-zoom", type=float, default=1.5)
    p.add_argument("--val-fraction", type=float, default=0.1, help="share of the photos (the last in name order) kept for validation")
    p.add_argument("--max-steps", type=int, default=None, help="stop after this many steps (a quick trial)")
    p.add_argument("--workers", type=int, default=2, help="DataLoader processes")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--resume", action="store_true")
    return p.parse_args(argv)


def cosine_lr(peak, step, total):
    """The engine trainer's schedule: from `peak` down to 1% of it by a half cosine."""
    t = step / max(total, 1)
    floor = 0.01 * peak
    return floor + 0.5 * (peak - floor) * (1.0 + math.cos(math.pi * t))


def scores(confusion):
    """G (pixel accuracy), C (mean class accuracy), mIoU and per-class IoU of a confusion
    matrix `[true, predicted]`, over the classes that occur."""
    c = confusion.double()
    true, pred, hit = c.sum(1), c.sum(0), c.diag()
    seen = true > 0
    iou = hit / (true + pred - hit).clamp(min=1)
    return {
        "g": float(hit.sum() / c.sum().clamp(min=1)),
        "c": float((hit[seen] / true[seen]).mean()) if seen.any() else 0.0,
        "miou": float(iou[seen].mean()) if seen.any() else 0.0,
        "iou": [float(v) for v in iou],
    }


@torch.no_grad()
def evaluate(model, loader, n_classes, device):
    model.eval()
    confusion = torch.zeros(n_classes, n_classes, dtype=torch.int64)
    images = 0
    for x, y in loader:
        pred = model(x.to(device)).argmax(1).cpu()
        keep = y != IGNORE
        confusion += torch.bincount(y[keep] * n_classes + pred[keep], minlength=n_classes * n_classes).view(n_classes, n_classes)
        images += x.shape[0]
    model.train()
    return {**scores(confusion), "images": images}


def main(argv=None):
    args = arguments(argv)
    distributed = int(os.environ.get("WORLD_SIZE", "1")) > 1
    cuda = torch.cuda.is_available()
    if distributed:
        dist.init_process_group("nccl" if cuda else "gloo")
        rank, local = dist.get_rank(), int(os.environ.get("LOCAL_RANK", "0"))
    else:
        rank, local = 0, 0
    device = torch.device(f"cuda:{local}" if cuda else "cpu")
    if cuda:
        torch.cuda.set_device(device)
    random.seed(args.seed)
    torch.manual_seed(args.seed)

    config = {"in_channels": 3, "n_classes": args.classes, "depth": args.depth, "width": args.channels, "upsample": args.upsample, "skip": args.skip}
    m = 1 << args.depth
    if args.height % m or args.width % m:
        raise SystemExit(f"--height and --width must be multiples of 2^depth = {m}")
    items = pairs(args.data)
    n_val = max(1, round(len(items) * args.val_fraction)) if len(items) > 1 else 0
    train_items, val_items = items[: len(items) - n_val], items[len(items) - n_val :] or items
    classes = classes_of(args.data, args.classes) or made_up_classes(args.classes)
    normalization = IMAGENET
    train_set = LabelledFolder(train_items, args.height, args.width, args.classes, normalization, train=True, max_zoom=args.max_zoom, seed=args.seed)
    val_set = LabelledFolder(val_items, args.height, args.width, args.classes, normalization, train=False)
    sampler = torch.utils.data.DistributedSampler(train_set, seed=args.seed, drop_last=True) if distributed else None
    loader = torch.utils.data.DataLoader(train_set, batch_size=args.batch, shuffle=sampler is None, sampler=sampler, drop_last=len(train_set) >= args.batch, num_workers=args.workers, generator=torch.Generator().manual_seed(args.seed))
    val_loader = torch.utils.data.DataLoader(val_set, batch_size=args.batch, num_workers=args.workers)

    model = SkipScopeNet(config).to(device)
    net = torch.nn.parallel.DistributedDataParallel(model, device_ids=[local] if cuda else None) if distributed else model
    optimizer = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    weights = median_frequency_weights(train_items, args.classes).to(device)
    amp_dtype = torch.bfloat16 if cuda and torch.cuda.is_bf16_supported() else torch.float16
    scaler = torch.amp.GradScaler("cuda", enabled=cuda and amp_dtype == torch.float16)
    total = args.epochs * len(loader) if args.max_steps is None else min(args.max_steps, args.epochs * len(loader))

    out = pathlib.Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    checkpoint = out / "checkpoint.pt"
    start, step = 0, 0
    recipe = {"trainer": "skipscope_torch", **{k: v for k, v in vars(args).items() if k not in ("out", "resume", "workers")}, "model": config, "processes": dist.get_world_size() if distributed else 1}
    if args.resume and checkpoint.exists():
        ck = torch.load(checkpoint, map_location=device, weights_only=False)
        if ck["config"] != config:
            raise SystemExit(f"{checkpoint} is of another model: {ck['config']}")
        model.load_state_dict(ck["model"])
        optimizer.load_state_dict(ck["optimizer"])
        start, step = ck["epoch"] + 1, ck["step"]
        if rank == 0:
            print(f"resuming {out} after epoch {ck['epoch']}")

    metrics = None
    for epoch in range(start, args.epochs):
        if step >= total:
            break
        train_set.set_epoch(epoch)
        if sampler is not None:
            sampler.set_epoch(epoch)
        began, losses, seen = time.time(), [], 0
        for x, y in loader:
            if step >= total:
                break
            for group in optimizer.param_groups:
                group["lr"] = cosine_lr(args.lr, step, total)
            x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
            with torch.autocast(device_type="cuda", dtype=amp_dtype, enabled=cuda):
                loss = F.cross_entropy(net(x).float(), y, weight=weights, ignore_index=IGNORE)
            optimizer.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            scaler.step(optimizer)
            scaler.update()
            losses.append(float(loss.detach()))
            seen += x.shape[0]
            step += 1
        if rank == 0:
            val = evaluate(model, val_loader, args.classes, device)
            metrics = {"epochs": epoch + 1, "steps": step, "val": val}
            line = {"epoch": epoch, "step": step, "lr": cosine_lr(args.lr, step, total), "loss": float(np.mean(losses)) if losses else None, "images_per_second": seen / max(time.time() - began, 1e-9), "val": val}
            with open(out / "log.jsonl", "a") as log:
                log.write(json.dumps(line) + "\n")
            print(f"epoch {epoch + 1}/{args.epochs}: loss {line['loss']:.4f}, val mIoU {val['miou']:.3f}, {line['images_per_second']:.1f} img/s")
            torch.save({"config": config, "model": model.state_dict(), "optimizer": optimizer.state_dict(), "epoch": epoch, "step": step, "classes": classes, "normalization": normalization, "recipe": recipe, "metrics": metrics}, checkpoint)
    if rank == 0:
        model.cpu()
        save(model, str(out / "model.safetensors"), classes, normalization, recipe, metrics)
        print(f"wrote {out / 'model.safetensors'}")
    if distributed:
        dist.destroy_process_group()


if __name__ == "__main__":
    main()
