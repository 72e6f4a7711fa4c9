"""The SkipScope model family as a PyTorch module, layer for layer the engine's
(crates/engine/src/model): the same config, the same stage names, the same parameter names.

Config (the weights file's `config`): `in_channels`, `n_classes`, `depth` (poolings; input sides
must be multiples of `2^depth`), `width` (channels of `enc.0`, doubling per level), `upsample`
(`unpool` | `transposed` | `bilinear`) and `skip` (`none` | `add` | `concat`).

Shapes, NCHW as PyTorch has them, `C_k = width * 2^k`:

    input       [N, in_channels, H, W]
    enc.k       [N, C_k, H / 2^k, W / 2^k]            DoubleConv (3x3 conv, BN, ReLU) x 2
    pool.k      [N, C_k, H / 2^(k+1), W / 2^(k+1)]    2x2 max pooling (indices kept)
    bottleneck  [N, C_(d-1), H / 2^d, W / 2^d]        DoubleConv C_(d-1) -> C_d -> C_(d-1)
    dec.k       [N, C_(k-1) (width for k=0), H / 2^k, W / 2^k]
                up: unpool (pool.k's indices) | ConvTranspose2d k4 s2 p1 (C_k -> C_k,
                initialised bilinear) | bilinear x2 (align_corners=False);
                fuse with enc.k: none | add (up + 1x1 conv `proj` of enc.k) | concat ([up, enc.k]);
                then DoubleConv (fused -> C_k -> C_(k-1))
    head        [N, n_classes, H, W]                   1x1 conv: class scores before softmax
"""

import math

import torch
from torch import nn
import torch.nn.functional as F

UPSAMPLES = ("unpool", "transposed", "bilinear")
SKIPS = ("none", "add", "concat")
# The engine's batch norm (crates/engine/src/layers/batch_norm.rs): PyTorch's defaults.
BN_EPS = 1e-5
BN_MOMENTUM = 0.1


def validate(config):
    """Raises ValueError unless `config` is one the engine accepts (ModelConfig::validate)."""
    need = ("in_channels", "n_classes", "depth", "width", "upsample", "skip")
    missing = [k for k in need if k not in config]
    if missing:
        raise ValueError(f"config lacks {', '.join(missing)}")
    if not 1 <= config["in_channels"] <= 64:
        raise ValueError(f"in_channels must be 1..=64, got {config['in_channels']}")
    if not 2 <= config["n_classes"] <= 255:
        raise ValueError(f"n_classes must be 2..=255, got {config['n_classes']}")
    if not 1 <= config["depth"] <= 6:
        raise ValueError(f"depth must be 1..=6, got {config['depth']}")
    if not 1 <= config["width"] <= 256 or config["width"] << config["depth"] > 1024:
        raise ValueError(f"width must be 1..=256 with width * 2^depth <= 1024, got {config['width']}")
    if config["upsample"] not in UPSAMPLES:
        raise ValueError(f"upsample must be one of {UPSAMPLES}, got {config['upsample']!r}")
    if config["skip"] not in SKIPS:
        raise ValueError(f"skip must be one of {SKIPS}, got {config['skip']!r}")


def he_normal_(conv):
    """The engine's initialisation of a convolution: He-normal weights, zero bias."""
    fan_in = conv.in_channels * conv.kernel_size[0] * conv.kernel_size[1]
    nn.init.normal_(conv.weight, 0.0, math.sqrt(2.0 / fan_in))
    nn.init.zeros_(conv.bias)


def bilinear_(up):
    """The engine's initialisation of a transposed convolution: channel c to channel c,
    the bilinear interpolation kernel (ConvTranspose2d::bilinear), zero bias."""
    k = up.kernel_size[0]
    factor = (k + 1) // 2
    center = factor - 1.0 if k % 2 == 1 else factor - 0.5
    taps = torch.tensor([1.0 - abs(i - center) / factor for i in range(k)])
    with torch.no_grad():
        up.weight.zero_()
        for c in range(min(up.in_channels, up.out_channels)):
            up.weight[c, c] = taps[:, None] * taps[None, :]
        up.bias.zero_()


class DoubleConv(nn.Module):
    """(3x3 conv, batch norm, ReLU) twice: `conv1`, `bn1`, `conv2`, `bn2`."""

    def __init__(self, c_in, c_mid, c_out):
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_mid, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(c_mid, eps=BN_EPS, momentum=BN_MOMENTUM)
        self.conv2 = nn.Conv2d(c_mid, c_out, 3, padding=1)
        self.bn2 = nn.BatchNorm2d(c_out, eps=BN_EPS, momentum=BN_MOMENTUM)
        he_normal_(self.conv1)
        he_normal_(self.conv2)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        return F.relu(self.bn2(self.conv2(x)))


class Decoder(DoubleConv):
    """Decoder level k: upsample, fuse the skip from enc.k, then its DoubleConv (fused ->
    C_k -> C_(k-1)). Parameters: `up` (transposed only), `proj` (add only), `conv1`, `bn1`,
    `conv2`, `bn2`."""

    def __init__(self, config, k):
        c = config["width"] << k
        super().__init__(2 * c if config["skip"] == "concat" else c, c, config["width"] << max(k - 1, 0))
        self.upsample, self.skip = config["upsample"], config["skip"]
        if self.upsample == "transposed":
            self.up = nn.ConvTranspose2d(c, c, 4, stride=2, padding=1)
            bilinear_(self.up)
        if self.skip == "add":
            self.proj = nn.Conv2d(c, c, 1)
            he_normal_(self.proj)

    def upsampled(self, x, indices, encoder):
        if self.upsample == "unpool":
            return F.max_unpool2d(x, indices, 2, 2, output_size=encoder.shape[-2:])
        if self.upsample == "transposed":
            return self.up(x)
        return F.interpolate(x, size=encoder.shape[-2:], mode="bilinear", align_corners=False)

    def fused(self, up, encoder):
        if self.skip == "add":
            return up + self.proj(encoder)
        if self.skip == "concat":
            return torch.cat([up, encoder], dim=1)
        return up

    def forward(self, x, indices, encoder):
        return super().forward(self.fused(self.upsampled(x, indices, encoder), encoder))


class SkipScopeNet(nn.Module):
    """The family's network for one config (see the module docs)."""

    def __init__(self, config):
        super().__init__()
        validate(config)
        self.config = dict(config)
        d, w = config["depth"], config["width"]
        self.enc = nn.ModuleList(DoubleConv(config["in_channels"] if k == 0 else w << (k - 1), w << k, w << k) for k in range(d))
        self.bottleneck = DoubleConv(w << (d - 1), w << d, w << (d - 1))
        self.dec = nn.ModuleList(Decoder(config, k) for k in range(d))
        self.head = nn.Conv2d(w, config["n_classes"], 1)
        he_normal_(self.head)

    def forward(self, x, stages=None):
        """Class scores `[N, n_classes, H, W]`; with a dict `stages`, also every stage's map
        under the engine's stage names (`input`, `enc.k`, `pool.k`, `bottleneck`, `dec.k`, `head`)."""
        m = 1 << self.config["depth"]
        if x.shape[-2] % m or x.shape[-1] % m:
            raise ValueError(f"input sides must be multiples of {m}, got {tuple(x.shape[-2:])}")
        keep = (lambda name, t: stages.__setitem__(name, t)) if stages is not None else (lambda name, t: None)
        keep("input", x)
        skips, indices = [], []
        h = x
        for k, block in enumerate(self.enc):
            e = block(h)
            h, idx = F.max_pool2d(e, 2, 2, return_indices=True)
            keep(f"enc.{k}", e)
            keep(f"pool.{k}", h)
            skips.append(e)
            indices.append(idx)
        h = self.bottleneck(h)
        keep("bottleneck", h)
        for k in reversed(range(self.config["depth"])):
            h = self.dec[k](h, indices[k], skips[k])
            keep(f"dec.{k}", h)
        scores = self.head(h)
        keep("head", scores)
        return scores


def engine_state(model):
    """The model's tensors under the engine's names and in its layouts (NHWC family):
    conv `[C_out, C_in, KH, KW]` -> `[KH, KW, C_in, C_out]`, transposed conv
    `[C_in, C_out, KH, KW]` -> `[C_in, KH, KW, C_out]`; batch norm's `num_batches_tracked` dropped."""
    out = {}
    modules = dict(model.named_modules())
    for name, tensor in model.state_dict().items():
        if name.endswith("num_batches_tracked"):
            continue
        owner = modules[name.rsplit(".", 1)[0]]
        t = tensor.detach().float().cpu()
        if name.endswith(".weight") and isinstance(owner, nn.ConvTranspose2d):
            t = t.permute(0, 2, 3, 1)
        elif name.endswith(".weight") and isinstance(owner, nn.Conv2d):
            t = t.permute(2, 3, 1, 0)
        out[name] = t.contiguous()
    return out


def from_engine_state(tensors, config):
    """A SkipScopeNet holding `tensors` (engine names and layouts, as `engine_state` writes)."""
    model = SkipScopeNet(config)
    modules = dict(model.named_modules())
    state = {}
    for name, t in tensors.items():
        owner = modules.get(name.rsplit(".", 1)[0])
        t = torch.as_tensor(t, dtype=torch.float32)
        if name.endswith(".weight") and isinstance(owner, nn.ConvTranspose2d):
            t = t.permute(0, 3, 1, 2)
        elif name.endswith(".weight") and isinstance(owner, nn.Conv2d):
            t = t.permute(3, 2, 0, 1)
        state[name] = t.contiguous()
    missing, unexpected = model.load_state_dict(state, strict=False)
    missing = [m for m in missing if not m.endswith("num_batches_tracked")]
    if missing or unexpected:
        raise ValueError(f"tensors do not fit the config: missing {missing}, unexpected {unexpected}")
    return model
