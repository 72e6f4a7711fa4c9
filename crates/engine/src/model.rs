//! The model family: one encoder, one decoder, chosen by [`Upsample`] and [`Skip`].
//!
//! ```text
//! level 0  input ─ enc.0 ──────────── skip.0 ─────────────▶ dec.0 ─ head ─ scores
//!                   │ pool.0 (indices)                        ▲ upsample x2
//! level 1          enc.1 ──────────── skip.1 ──────▶ dec.1 ──┘
//!                   │ pool.1                          ▲
//!   ...            ...                               ...
//! level D                    bottleneck ─────────────┘
//! ```
//! - `enc.k`: two (conv 3x3, batch norm, ReLU) to `C_k = width * 2^k` channels, then
//!   `pool.k`, 2x2 max pooling that records its argmax indices.
//! - `bottleneck`: (conv 3x3 to `2 C_{D-1}`, BN, ReLU), (conv 3x3 back to `C_{D-1}`, BN, ReLU).
//! - `dec.k` (deepest first): upsample `C_k` channels x2 (max unpooling with `pool.k`'s
//!   indices, a transposed convolution initialised to bilinear, or fixed bilinear), fuse the
//!   skip from `enc.k` (none; add after a 1x1 projection; concat), then (conv 3x3 to `C_k`,
//!   BN, ReLU), (conv 3x3 to `C_{k-1}` (`width` for `k = 0`), BN, ReLU).
//! - `head`: 1x1 convolution to `n_classes` scores.
//!
//! Any input whose height and width are multiples of `2^depth` runs (fully convolutional).

use crate::buffers::BufferPool;
use crate::error::{EngineError, Result};
use crate::layers::batch_norm::{BatchNorm, BatchNormCache};
use crate::layers::conv2d::{Conv2d, Conv2dCache, Conv2dConfig};
use crate::layers::conv_transpose2d::{ConvTranspose2d, ConvTranspose2dCache, ConvTranspose2dConfig};
use crate::layers::{fuse, loss, max_pool, max_unpool, relu, upsample_bilinear};
use crate::param::{join, Module, Param, TensorRole};
use crate::rng::Rng;
use crate::Scalar;
use ndarray::{Array4, ArrayD, ArrayView4, ArrayViewMut4};
use serde::{Deserialize, Serialize};

/// How the decoder doubles the resolution.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Upsample {
    /// Max unpooling with the indices of the matching encoder pool (SegNet).
    Unpool,
    /// Learned transposed convolution, kernel 4, stride 2, initialised to bilinear (FCN).
    Transposed,
    /// Fixed bilinear interpolation, `align_corners=False`.
    Bilinear,
}

/// How the encoder map from before pooling joins the decoder at the same resolution.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Skip {
    /// No skip: the decoder sees only the upsampled deep map.
    None,
    /// FCN: a 1x1 projection of the encoder map is added to the upsampled map.
    Add,
    /// U-Net: the encoder map is stacked onto the upsampled map as extra channels.
    Concat,
}

impl Upsample {
    pub const ALL: [Upsample; 3] = [Upsample::Unpool, Upsample::Transposed, Upsample::Bilinear];

    pub fn name(self) -> &'static str {
        match self {
            Upsample::Unpool => "unpool",
            Upsample::Transposed => "transposed",
            Upsample::Bilinear => "bilinear",
        }
    }
}

impl Skip {
    pub const ALL: [Skip; 3] = [Skip::None, Skip::Add, Skip::Concat];

    pub fn name(self) -> &'static str {
        match self {
            Skip::None => "none",
            Skip::Add => "add",
            Skip::Concat => "concat",
        }
    }
}

/// Prints and parses the lowercase names used everywhere (CLI, URL, manifest, file names).
macro_rules! named_enum {
    ($ty:ident, $what:literal) => {
        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.name())
            }
        }

        impl std::str::FromStr for $ty {
            type Err = EngineError;

            fn from_str(s: &str) -> Result<Self> {
                Self::ALL.into_iter().find(|x| x.name() == s).ok_or_else(|| {
                    let names: Vec<&str> = Self::ALL.iter().map(|x| x.name()).collect();
                    EngineError::Config(format!("unknown {} {s:?}: expected one of {}", $what, names.join(", ")))
                })
            }
        }
    };
}
pub(crate) use named_enum;

named_enum!(Upsample, "upsampling");
named_enum!(Skip, "skip");

/// One of the nine networks of a dataset: how the decoder upsamples and how the skip joins.
/// Prints and parses as `upsample-skip`, e.g. `transposed-add`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Variant {
    pub upsample: Upsample,
    pub skip: Skip,
}

impl Variant {
    pub const fn new(upsample: Upsample, skip: Skip) -> Self {
        Self { upsample, skip }
    }

    pub fn with_skip(self, skip: Skip) -> Self {
        Self { skip, ..self }
    }

    pub fn with_upsample(self, upsample: Upsample) -> Self {
        Self { upsample, ..self }
    }

    /// All nine, upsampling-major (`unpool-none`, `unpool-add`, ...).
    pub fn all() -> impl Iterator<Item = Variant> {
        Upsample::ALL.into_iter().flat_map(|u| Skip::ALL.into_iter().map(move |s| Variant::new(u, s)))
    }
}

impl std::fmt::Display for Variant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{}", self.upsample, self.skip)
    }
}

impl std::str::FromStr for Variant {
    type Err = EngineError;

    fn from_str(s: &str) -> Result<Self> {
        let (u, k) = s.split_once('-').ok_or_else(|| EngineError::Config(format!("a variant is upsample-skip, e.g. transposed-add; got {s:?}")))?;
        Ok(Variant::new(u.parse()?, k.parse()?))
    }
}

/// Every stage name of a model of `depth`, in network order: `input`, `enc.0`, `pool.0`,
/// ..., `enc.{depth-1}`, `pool.{depth-1}`, `bottleneck`, `dec.{depth-1}`, ..., `dec.0`,
/// `head`. The same in every variant, so variants compare stage by stage.
pub fn stage_names(depth: usize) -> Vec<String> {
    let mut names = vec!["input".to_string()];
    for k in 0..depth {
        names.push(format!("enc.{k}"));
        names.push(format!("pool.{k}"));
    }
    names.push("bottleneck".into());
    for k in (0..depth).rev() {
        names.push(format!("dec.{k}"));
    }
    names.push("head".into());
    names
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModelConfig {
    pub in_channels: usize,
    pub n_classes: usize,
    /// Number of poolings (encoder stages); inputs must be multiples of `2^depth`.
    pub depth: usize,
    /// Channels of the first encoder stage; doubles per stage.
    pub width: usize,
    pub upsample: Upsample,
    pub skip: Skip,
}

impl ModelConfig {
    pub fn validate(&self) -> Result<()> {
        let bad = |msg: String| Err(EngineError::Config(msg));
        if self.in_channels == 0 || self.in_channels > 64 {
            return bad(format!("in_channels must be 1..=64, got {}", self.in_channels));
        }
        if self.n_classes < 2 || self.n_classes > 255 {
            return bad(format!("n_classes must be 2..=255, got {}", self.n_classes));
        }
        if self.depth == 0 || self.depth > 6 {
            return bad(format!("depth must be 1..=6, got {}", self.depth));
        }
        if self.width == 0 || self.width > 256 {
            return bad(format!("width must be 1..=256, got {}", self.width));
        }
        if self.channels(self.depth) > 1024 {
            return bad(format!("width * 2^depth must be at most 1024, got {} * 2^{}", self.width, self.depth));
        }
        Ok(())
    }

    /// Channels of encoder stage `k`: `width * 2^k`.
    pub fn channels(&self, k: usize) -> usize {
        self.width << k
    }

    /// Input sides must be multiples of this (`2^depth`).
    pub fn multiple(&self) -> usize {
        1 << self.depth
    }

    /// A short name for the variant, e.g. `transposed-add`.
    pub fn variant(&self) -> Variant {
        Variant::new(self.upsample, self.skip)
    }

    /// Checks an input shape `[N, H, W, C]`.
    pub fn check_input(&self, shape: [usize; 4]) -> Result<()> {
        let [_, h, w, c] = shape;
        if c != self.in_channels {
            return Err(EngineError::Shape { what: "model input channels".into(), expected: vec![self.in_channels], got: vec![c] });
        }
        let m = self.multiple();
        if h == 0 || w == 0 || h % m != 0 || w % m != 0 {
            return Err(EngineError::InputSize { height: h, width: w, multiple: m });
        }
        Ok(())
    }
}

/// Convolution, optional batch norm (absent once folded), ReLU.
#[derive(Clone, Debug)]
pub struct ConvBnRelu<T> {
    pub conv: Conv2d<T>,
    pub bn: Option<BatchNorm<T>>,
}

pub struct ConvBnReluCache<T> {
    conv: Conv2dCache<T>,
    bn: Option<BatchNormCache<T>>,
    /// The block's output after ReLU, kept only without batch norm: with it, ReLU's
    /// backward recomputes its input from `bn`'s normalised map.
    output: Option<Array4<T>>,
}

impl<T: Scalar> ConvBnRelu<T> {
    fn new(in_channels: usize, out_channels: usize, rng: &mut Rng) -> Self {
        Self { conv: Conv2d::new(Conv2dConfig::same(in_channels, out_channels, 3), rng), bn: Some(BatchNorm::new(out_channels)) }
    }

    /// Takes `x` by value: it becomes the convolution's cache without a copy.
    fn forward_train(&mut self, x: Array4<T>) -> Result<(Array4<T>, ConvBnReluCache<T>)> {
        let (mut y, conv) = self.conv.forward_owned(x)?;
        let bn = match self.bn.as_mut() {
            Some(bn) => {
                let (normed, cache) = bn.forward_train(y);
                y = normed;
                Some(cache)
            }
            None => None,
        };
        relu::forward_inplace(y.view_mut());
        let output = bn.is_none().then(|| y.clone());
        Ok((y, ConvBnReluCache { conv, bn, output }))
    }

    /// Consumes `dy`: ReLU and batch norm work in its memory.
    fn backward(&mut self, cache: &ConvBnReluCache<T>, dy: Array4<T>) -> Array4<T> {
        let d = match (self.bn.as_mut(), cache.bn.as_ref(), cache.output.as_ref()) {
            (Some(bn), Some(bc), _) => {
                let d = bn.relu_backward(bc, dy);
                bn.backward(bc, d)
            }
            (None, None, Some(output)) => relu::backward(output.view(), dy.view()),
            _ => unreachable!("forward_train caches batch norm or the output, as the block has"),
        };
        self.conv.backward(&cache.conv, d.view())
    }

    fn forward_eval_into(&self, x: ArrayView4<T>, mut y: ArrayViewMut4<T>, scratch: &mut Vec<T>) {
        self.conv.forward_into(x, y.view_mut(), scratch);
        if let Some(bn) = &self.bn {
            bn.forward_eval_inplace(y.view_mut());
        }
        relu::forward_inplace(y);
    }

    fn out_channels(&self) -> usize {
        self.conv.config.out_channels
    }

    fn visit_params(&mut self, prefix: &str, i: usize, f: &mut dyn FnMut(&str, &mut Param<T>)) {
        self.conv.visit_params(&join(prefix, &format!("conv{i}")), f);
        if let Some(bn) = self.bn.as_mut() {
            bn.visit_params(&join(prefix, &format!("bn{i}")), f);
        }
    }

    fn visit_tensors(&mut self, prefix: &str, i: usize, f: &mut dyn FnMut(&str, TensorRole, &mut ArrayD<T>)) {
        self.conv.visit_tensors(&join(prefix, &format!("conv{i}")), f);
        if let Some(bn) = self.bn.as_mut() {
            bn.visit_tensors(&join(prefix, &format!("bn{i}")), f);
        }
    }
}

/// Two [`ConvBnRelu`] in a row: every encoder, bottleneck and decoder block.
#[derive(Clone, Debug)]
pub struct DoubleConv<T> {
    pub first: ConvBnRelu<T>,
    pub second: ConvBnRelu<T>,
}

pub struct DoubleConvCache<T> {
    first: ConvBnReluCache<T>,
    second: ConvBnReluCache<T>,
}

impl<T: Scalar> DoubleConv<T> {
    fn new(in_channels: usize, mid_channels: usize, out_channels: usize, rng: &mut Rng) -> Self {
        Self { first: ConvBnRelu::new(in_channels, mid_channels, rng), second: ConvBnRelu::new(mid_channels, out_channels, rng) }
    }

    fn forward_train(&mut self, x: Array4<T>) -> Result<(Array4<T>, DoubleConvCache<T>)> {
        let (h, first) = self.first.forward_train(x)?;
        let (y, second) = self.second.forward_train(h)?;
        Ok((y, DoubleConvCache { first, second }))
    }

    fn backward(&mut self, cache: &DoubleConvCache<T>, dy: Array4<T>) -> Array4<T> {
        let dh = self.second.backward(&cache.second, dy);
        self.first.backward(&cache.first, dh)
    }

    /// `[N, H, W, C_in]` -> `[N, H, W, C_out]`, using two pool buffers.
    fn forward_eval(&self, x: ArrayView4<T>, ws: &mut Workspace<T>) -> Array4<T> {
        let (n, h, w, _) = x.dim();
        let mut mid = ws.pool.take([n, h, w, self.first.out_channels()]);
        self.first.forward_eval_into(x, mid.view_mut(), &mut ws.scratch);
        let mut y = ws.pool.take([n, h, w, self.second.out_channels()]);
        self.second.forward_eval_into(mid.view(), y.view_mut(), &mut ws.scratch);
        ws.pool.give(mid);
        y
    }

    fn fold_batch_norm(&mut self) {
        for block in [&mut self.first, &mut self.second] {
            if let Some(bn) = block.bn.take() {
                bn.fold_into(&mut block.conv);
            }
        }
    }

    fn visit_params(&mut self, prefix: &str, f: &mut dyn FnMut(&str, &mut Param<T>)) {
        self.first.visit_params(prefix, 1, f);
        self.second.visit_params(prefix, 2, f);
    }

    fn visit_tensors(&mut self, prefix: &str, f: &mut dyn FnMut(&str, TensorRole, &mut ArrayD<T>)) {
        self.first.visit_tensors(prefix, 1, f);
        self.second.visit_tensors(prefix, 2, f);
    }
}

/// One decoder level: upsampler (learned only for [`Upsample::Transposed`]), skip
/// projection (only for [`Skip::Add`]), and the block.
#[derive(Clone, Debug)]
pub struct DecoderStage<T> {
    pub up: Option<ConvTranspose2d<T>>,
    pub proj: Option<Conv2d<T>>,
    pub block: DoubleConv<T>,
}

/// The intermediate maps of one decoder stage, for the trace.
#[derive(Clone, Debug)]
pub struct DecoderParts<T> {
    /// The deep map after x2 upsampling, `[1, H, W, C_k]`.
    pub upsampled: Array4<T>,
    /// What the skip contributes: the projected encoder map (add), the encoder map itself
    /// (concat), or nothing (none).
    pub skip: Option<Array4<T>>,
    /// The input of the block: upsampled + skip (add), `[upsampled | skip]` (concat), or
    /// the upsampled map alone (none).
    pub fused: Array4<T>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StageKind {
    Input,
    Encoder,
    Pool,
    Bottleneck,
    Decoder,
    Head,
}

/// One stage's output, as [`Model::forward_traced`] reports it.
#[derive(Clone, Debug)]
pub struct Stage<T> {
    /// `input`, `enc.k`, `pool.k`, `bottleneck`, `dec.k`, `head`; the same in every variant.
    pub name: String,
    pub kind: StageKind,
    /// Resolution level: the map is `H / 2^level` by `W / 2^level`.
    pub level: usize,
    /// The stage's output `[1, H, W, C]`; for `head`, class probabilities.
    pub data: Array4<T>,
    /// For pool stages: the argmax positions, encoded as in [`max_pool`].
    pub indices: Option<Array4<u32>>,
    /// For decoder stages: the upsampled map, the skip term and the fused map.
    pub parts: Option<DecoderParts<T>>,
}

/// Buffers reused across inference calls (see [`BufferPool`]).
#[derive(Debug, Default)]
pub struct Workspace<T> {
    pool: BufferPool<T>,
    scratch: Vec<T>,
    output: Option<Array4<T>>,
    /// The encoder maps and pooling indices waiting for their decoder stage (empty
    /// between calls; kept for their capacity).
    skips: Vec<Array4<T>>,
    indices: Vec<Array4<u32>>,
}

impl<T: Scalar> Workspace<T> {
    pub fn new() -> Self {
        Self { pool: BufferPool::new(), scratch: Vec::new(), output: None, skips: Vec::new(), indices: Vec::new() }
    }

    /// How many buffers have been allocated so far; constant once warm.
    pub fn allocations(&self) -> usize {
        self.pool.allocations()
    }
}

#[derive(Clone, Debug)]
pub struct Model<T> {
    pub config: ModelConfig,
    /// `encoder[k]` is `enc.k`.
    pub encoder: Vec<DoubleConv<T>>,
    pub bottleneck: DoubleConv<T>,
    /// `decoder[k]` is `dec.k` (it runs after `dec.k+1`).
    pub decoder: Vec<DecoderStage<T>>,
    pub head: Conv2d<T>,
}

enum UpCache<T> {
    Unpool,
    Transposed(ConvTranspose2dCache<T>),
    Bilinear,
}

struct DecoderCache<T> {
    up: UpCache<T>,
    input_shape: [usize; 4],
    proj: Option<Conv2dCache<T>>,
    block: DoubleConvCache<T>,
}

/// Everything [`Model::backward`] needs from [`Model::forward_train`].
pub struct ModelCache<T> {
    encoder: Vec<DoubleConvCache<T>>,
    /// Per encoder stage: the pooling indices and the shape of the map that was pooled.
    pools: Vec<(Array4<u32>, [usize; 4])>,
    bottleneck: DoubleConvCache<T>,
    /// Indexed by level, like `Model::decoder`.
    decoder: Vec<DecoderCache<T>>,
    head: Conv2dCache<T>,
}

fn shape4<T>(a: &Array4<T>) -> [usize; 4] {
    crate::layers::dims(&a.view())
}

impl<T: Scalar> Model<T> {
    /// A freshly initialised model (He-normal convolutions, bilinear transposed
    /// convolutions, identity batch norms), reproducible from `seed`.
    pub fn new(config: ModelConfig, seed: u64) -> Result<Self> {
        config.validate()?;
        let mut rng = Rng::new(seed);
        let c = |k: usize| config.channels(k);
        let d = config.depth;
        let encoder = (0..d)
            .map(|k| {
                let input = if k == 0 { config.in_channels } else { c(k - 1) };
                DoubleConv::new(input, c(k), c(k), &mut rng)
            })
            .collect();
        let bottleneck = DoubleConv::new(c(d - 1), c(d), c(d - 1), &mut rng);
        let decoder = (0..d)
            .map(|k| {
                let up = (config.upsample == Upsample::Transposed).then(|| ConvTranspose2d::bilinear(ConvTranspose2dConfig::x2(c(k), c(k))));
                let proj = (config.skip == Skip::Add).then(|| Conv2d::new(Conv2dConfig::same(c(k), c(k), 1), &mut rng));
                let fused = if config.skip == Skip::Concat { 2 * c(k) } else { c(k) };
                let out = if k == 0 { c(0) } else { c(k - 1) };
                DecoderStage { up, proj, block: DoubleConv::new(fused, c(k), out, &mut rng) }
            })
            .collect();
        let head = Conv2d::new(Conv2dConfig::same(c(0), config.n_classes, 1), &mut rng);
        Ok(Self { config, encoder, bottleneck, decoder, head })
    }

    /// Trainable parameters in all.
    pub fn parameter_count(&mut self) -> usize {
        let mut count = 0;
        self.visit_params("", &mut |_, p| count += p.value.len());
        count
    }

    /// Multiply-adds x 2 of every convolution for one `height x width` image.
    pub fn forward_flops(&self, height: usize, width: usize) -> f64 {
        let pixels = |level: usize| ((height >> level) * (width >> level)) as f64;
        let block = |b: &DoubleConv<T>, level: usize| (b.first.conv.flops_per_pixel() + b.second.conv.flops_per_pixel()) * pixels(level);
        let mut flops = self.head.flops_per_pixel() * pixels(0) + block(&self.bottleneck, self.config.depth);
        for k in 0..self.config.depth {
            flops += block(&self.encoder[k], k) + block(&self.decoder[k].block, k);
            if let Some(up) = &self.decoder[k].up {
                flops += up.flops_per_input_pixel() * pixels(k + 1);
            }
            if let Some(proj) = &self.decoder[k].proj {
                flops += proj.flops_per_pixel() * pixels(k);
            }
        }
        flops
    }

    /// Folds every batch norm into its convolution, for inference. Idempotent.
    pub fn fold_batch_norm(&mut self) {
        for b in self.encoder.iter_mut().chain(std::iter::once(&mut self.bottleneck)) {
            b.fold_batch_norm();
        }
        for s in &mut self.decoder {
            s.block.fold_batch_norm();
        }
    }

    pub fn zero_grad(&mut self) {
        self.visit_params("", &mut |_, p| p.zero_grad());
    }

    /// Training forward (batch norm uses batch statistics and updates its running
    /// averages): `[N, H, W, in_channels]` -> scores `[N, H, W, n_classes]`.
    pub fn forward_train(&mut self, x: &Array4<T>) -> Result<(Array4<T>, ModelCache<T>)> {
        self.config.check_input(shape4(x))?;
        let (cfg, depth) = (self.config, self.config.depth);
        let mut skips = Vec::with_capacity(depth);
        let mut encoder = Vec::with_capacity(depth);
        let mut pools = Vec::with_capacity(depth);
        let mut h = x.clone();
        for block in &mut self.encoder {
            let (e, cache) = block.forward_train(h)?;
            let (pooled, indices) = max_pool::forward(&e)?;
            pools.push((indices, shape4(&e)));
            encoder.push(cache);
            skips.push(e);
            h = pooled;
        }
        let (mut h, bottleneck) = self.bottleneck.forward_train(h)?;
        let mut decoder: Vec<Option<DecoderCache<T>>> = (0..depth).map(|_| None).collect();
        for k in (0..depth).rev() {
            let stage = &mut self.decoder[k];
            let input_shape = shape4(&h);
            let target = pools[k].1;
            let (up, upsampled) = match cfg.upsample {
                Upsample::Unpool => (UpCache::Unpool, max_unpool::forward(&h, &pools[k].0, target)?),
                Upsample::Transposed => {
                    let layer = stage.up.as_ref().ok_or_else(|| missing("transposed upsampler"))?;
                    let (y, cache) = layer.forward(&h)?;
                    (UpCache::Transposed(cache), y)
                }
                Upsample::Bilinear => (UpCache::Bilinear, upsample_bilinear::forward(&h, target[1], target[2])),
            };
            let (fused, proj) = match cfg.skip {
                Skip::None => (upsampled, None),
                Skip::Add => {
                    let layer = stage.proj.as_ref().ok_or_else(|| missing("skip projection"))?;
                    let (p, cache) = layer.forward_owned(std::mem::take(&mut skips[k]))?;
                    (fuse::add(&upsampled, &p)?, Some(cache))
                }
                Skip::Concat => (fuse::concat(&upsampled, &skips[k])?, None),
            };
            let (y, block) = stage.block.forward_train(fused)?;
            decoder[k] = Some(DecoderCache { up, input_shape, proj, block });
            h = y;
        }
        let (scores, head) = self.head.forward_owned(h)?;
        let decoder = decoder.into_iter().map(|c| c.expect("every level ran")).collect();
        Ok((scores, ModelCache { encoder, pools, bottleneck, decoder, head }))
    }

    /// Backward through the whole model for `d_scores` `[N, H, W, n_classes]`:
    /// accumulates every parameter gradient and returns the input gradient.
    pub fn backward(&mut self, cache: &ModelCache<T>, d_scores: ArrayView4<T>) -> Array4<T> {
        let (cfg, depth) = (self.config, self.config.depth);
        let mut d = self.head.backward(&cache.head, d_scores);
        let mut d_skips: Vec<Option<Array4<T>>> = (0..depth).map(|_| None).collect();
        for k in 0..depth {
            let stage = &mut self.decoder[k];
            let dc = &cache.decoder[k];
            let d_fused = stage.block.backward(&dc.block, d);
            let d_up = match cfg.skip {
                Skip::None => d_fused,
                Skip::Add => {
                    let proj = stage.proj.as_mut().expect("forward_train checked the projection");
                    d_skips[k] = Some(proj.backward(dc.proj.as_ref().expect("add caches its projection"), d_fused.view()));
                    d_fused
                }
                Skip::Concat => {
                    let (d_up, d_skip) = fuse::concat_backward(d_fused.view(), cfg.channels(k));
                    d_skips[k] = Some(d_skip);
                    d_up
                }
            };
            d = match &dc.up {
                UpCache::Unpool => max_unpool::backward(cache.pools[k].0.view(), d_up.view()),
                UpCache::Transposed(c) => stage.up.as_mut().expect("forward_train checked the upsampler").backward(c, d_up.view()),
                UpCache::Bilinear => upsample_bilinear::backward(d_up.view(), dc.input_shape),
            };
        }
        d = self.bottleneck.backward(&cache.bottleneck, d);
        for k in (0..depth).rev() {
            let (indices, shape) = &cache.pools[k];
            let mut d_enc = max_pool::backward(indices.view(), d.view(), *shape);
            if let Some(ds) = &d_skips[k] {
                d_enc += ds;
            }
            d = self.encoder[k].backward(&cache.encoder[k], d_enc);
        }
        d
    }

    /// Inference (batch norm from running statistics, or folded): scores
    /// `[N, H, W, n_classes]`, kept in `ws`. Allocates nothing once `ws` is warm for
    /// this input size.
    pub fn infer<'w>(&self, x: ArrayView4<T>, ws: &'w mut Workspace<T>) -> Result<ArrayView4<'w, T>> {
        if let Some(previous) = ws.output.take() {
            ws.pool.give(previous);
        }
        let scores = self.run_eval(x, ws, None)?;
        Ok(ws.output.insert(scores).view())
    }

    /// Inference on one image `[1, H, W, C]` that reports every stage, in order, to
    /// `on_stage` as soon as it is computed; the `head` stage holds class probabilities.
    pub fn forward_traced_with(&self, x: ArrayView4<T>, on_stage: &mut dyn FnMut(Stage<T>)) -> Result<()> {
        let mut ws = Workspace::new();
        let mut scores = self.run_eval(x, &mut ws, Some(&mut *on_stage))?;
        loss::softmax_inplace(scores.view_mut());
        on_stage(Stage { name: "head".into(), kind: StageKind::Head, level: 0, data: scores, indices: None, parts: None });
        Ok(())
    }

    /// Every stage of one inference, in order (see [`Self::forward_traced_with`]).
    pub fn forward_traced(&self, x: ArrayView4<T>) -> Result<Vec<Stage<T>>> {
        let mut stages = Vec::new();
        self.forward_traced_with(x, &mut |s| stages.push(s))?;
        Ok(stages)
    }

    /// The inference pass shared by [`Self::infer`] and the traces. With `on_stage`, reports
    /// (a copy of) every stage but the head; returns the scores.
    fn run_eval(&self, x: ArrayView4<T>, ws: &mut Workspace<T>, mut on_stage: Option<&mut dyn FnMut(Stage<T>)>) -> Result<Array4<T>> {
        let shape = crate::layers::dims(&x);
        self.config.check_input(shape)?;
        let (cfg, depth) = (self.config, self.config.depth);
        let plain =
            |name: String, kind: StageKind, level: usize, data: ArrayView4<T>| Stage { name, kind, level, data: data.to_owned(), indices: None, parts: None };
        emit(&mut on_stage, || plain("input".into(), StageKind::Input, 0, x.view()));
        let mut skips = std::mem::take(&mut ws.skips);
        let mut indices = std::mem::take(&mut ws.indices);
        let mut h: Option<Array4<T>> = None;
        for (k, block) in self.encoder.iter().enumerate() {
            let e = block.forward_eval(h.as_ref().map_or(x.view(), |a| a.view()), ws);
            emit(&mut on_stage, || plain(format!("enc.{k}"), StageKind::Encoder, k, e.view()));
            let pooled_shape = max_pool::output_shape(shape4(&e))?;
            let mut pooled = ws.pool.take(pooled_shape);
            let mut idx = ws.pool.take_indices(pooled_shape);
            max_pool::forward_into(e.view(), pooled.view_mut(), idx.view_mut());
            emit(&mut on_stage, || Stage { indices: Some(idx.clone()), ..plain(format!("pool.{k}"), StageKind::Pool, k + 1, pooled.view()) });
            skips.push(e);
            indices.push(idx);
            if let Some(old) = h.replace(pooled) {
                ws.pool.give(old);
            }
        }
        let below = h.expect("depth >= 1");
        let mut h = self.bottleneck.forward_eval(below.view(), ws);
        ws.pool.give(below);
        emit(&mut on_stage, || plain("bottleneck".into(), StageKind::Bottleneck, depth, h.view()));
        for k in (0..depth).rev() {
            let stage = &self.decoder[k];
            let skip = skips.pop().expect("one skip per level");
            let idx = indices.pop().expect("one index map per level");
            let mut up = ws.pool.take(shape4(&skip));
            match cfg.upsample {
                Upsample::Unpool => max_unpool::forward_into(h.view(), idx.view(), up.view_mut()),
                Upsample::Transposed => {
                    stage.up.as_ref().ok_or_else(|| missing("transposed upsampler"))?.forward_into(h.view(), up.view_mut(), &mut ws.scratch)
                }
                Upsample::Bilinear => upsample_bilinear::forward_into(h.view(), up.view_mut()),
            }
            ws.pool.give(h);
            ws.pool.give_indices(idx);
            let (fused, skip_term) = match cfg.skip {
                Skip::None => (None, None),
                Skip::Add => {
                    let mut projected = ws.pool.take(shape4(&skip));
                    stage.proj.as_ref().ok_or_else(|| missing("skip projection"))?.forward_into(skip.view(), projected.view_mut(), &mut ws.scratch);
                    let mut sum = ws.pool.take(shape4(&skip));
                    fuse::add_into(up.view(), projected.view(), sum.view_mut());
                    (Some(sum), Some(projected))
                }
                Skip::Concat => {
                    let [n, hh, ww, c] = shape4(&skip);
                    let mut stacked = ws.pool.take([n, hh, ww, 2 * c]);
                    fuse::concat_into(up.view(), skip.view(), stacked.view_mut());
                    (Some(stacked), None)
                }
            };
            let block_input = fused.as_ref().unwrap_or(&up);
            h = stage.block.forward_eval(block_input.view(), ws);
            emit(&mut on_stage, || {
                let skip_shown = match cfg.skip {
                    Skip::None => None,
                    Skip::Add => skip_term.clone(),
                    Skip::Concat => Some(skip.clone()),
                };
                let parts = DecoderParts { upsampled: up.clone(), skip: skip_shown, fused: block_input.clone() };
                Stage { parts: Some(parts), ..plain(format!("dec.{k}"), StageKind::Decoder, k, h.view()) }
            });
            for buffer in [Some(up), fused, skip_term, Some(skip)].into_iter().flatten() {
                ws.pool.give(buffer);
            }
        }
        let mut scores = ws.pool.take([shape[0], shape[1], shape[2], cfg.n_classes]);
        self.head.forward_into(h.view(), scores.view_mut(), &mut ws.scratch);
        ws.pool.give(h);
        (ws.skips, ws.indices) = (skips, indices);
        Ok(scores)
    }
}

/// Reports a stage, built only when someone listens.
fn emit<T>(on_stage: &mut Option<&mut dyn FnMut(Stage<T>)>, stage: impl FnOnce() -> Stage<T>) {
    if let Some(f) = on_stage.as_deref_mut() {
        f(stage());
    }
}

fn missing(what: &str) -> EngineError {
    EngineError::Config(format!("the model has no {what}, but its config needs one"))
}

impl<T: Scalar> Module<T> for Model<T> {
    fn visit_params(&mut self, prefix: &str, f: &mut dyn FnMut(&str, &mut Param<T>)) {
        for (k, b) in self.encoder.iter_mut().enumerate() {
            b.visit_params(&join(prefix, &format!("enc.{k}")), f);
        }
        self.bottleneck.visit_params(&join(prefix, "bottleneck"), f);
        for (k, s) in self.decoder.iter_mut().enumerate() {
            let p = join(prefix, &format!("dec.{k}"));
            if let Some(up) = s.up.as_mut() {
                up.visit_params(&join(&p, "up"), f);
            }
            if let Some(proj) = s.proj.as_mut() {
                proj.visit_params(&join(&p, "proj"), f);
            }
            s.block.visit_params(&p, f);
        }
        self.head.visit_params(&join(prefix, "head"), f);
    }

    fn visit_tensors(&mut self, prefix: &str, f: &mut dyn FnMut(&str, TensorRole, &mut ArrayD<T>)) {
        for (k, b) in self.encoder.iter_mut().enumerate() {
            b.visit_tensors(&join(prefix, &format!("enc.{k}")), f);
        }
        self.bottleneck.visit_tensors(&join(prefix, "bottleneck"), f);
        for (k, s) in self.decoder.iter_mut().enumerate() {
            let p = join(prefix, &format!("dec.{k}"));
            if let Some(up) = s.up.as_mut() {
                up.visit_tensors(&join(&p, "up"), f);
            }
            if let Some(proj) = s.proj.as_mut() {
                proj.visit_tensors(&join(&p, "proj"), f);
            }
            s.block.visit_tensors(&p, f);
        }
        self.head.visit_tensors(&join(prefix, "head"), f);
    }
}
