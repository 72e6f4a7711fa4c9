//! The model's building blocks: (conv, BN, ReLU), two of them in a row, and one decoder
//! level, whose upsampler and skip fusion are enums: a level holds exactly the layers its
//! variant needs.

use super::trace::DecoderParts;
use super::{shape4, ModelConfig, Skip, Upsample, Workspace};
use crate::error::Result;
use crate::layers::batch_norm::{BatchNorm, BatchNormCache};
use crate::layers::conv2d::{Conv2d, Conv2dCache, Conv2dConfig};
use crate::layers::conv_transpose2d::{ConvTranspose2d, ConvTranspose2dCache, ConvTranspose2dConfig};
use crate::layers::{fuse, max_unpool, relu, upsample_bilinear};
use crate::param::{join, Module, TensorMut};
use crate::rng::Rng;
use crate::Scalar;
use ndarray::{Array4, ArrayView4, ArrayViewMut4, Axis, CowArray};

/// A backward pass was handed a cache its module did not produce.
fn foreign_cache() -> ! {
    panic!("backward was given a cache from another model, or from before fold_batch_norm")
}

/// Convolution 3x3, optional batch norm (absent once folded), ReLU.
#[derive(Clone, Debug)]
pub struct ConvBnRelu<T> {
    pub conv: Conv2d<T>,
    pub bn: Option<BatchNorm<T>>,
}

/// What ReLU's backward needs, depending on whether the block has a batch norm.
enum ReluCache<T> {
    /// With batch norm, ReLU's backward recomputes its input from the normalised map.
    Normalized(BatchNormCache<T>),
    /// Without, the block's output after ReLU.
    Output(Array4<T>),
}

pub struct ConvBnReluCache<T> {
    conv: Conv2dCache<T>,
    relu: ReluCache<T>,
}

impl<T: Scalar> ConvBnRelu<T> {
    fn new(in_channels: usize, out_channels: usize, rng: &mut Rng) -> Self {
        Self { conv: Conv2d::new(Conv2dConfig::same(in_channels, out_channels, 3), rng), bn: Some(BatchNorm::new(out_channels)) }
    }

    /// Parameters of a block with batch norm: the convolution's, and `2 C_out`.
    fn parameter_count(in_channels: usize, out_channels: usize) -> usize {
        Conv2dConfig::same(in_channels, out_channels, 3).parameter_count() + 2 * out_channels
    }

    /// Takes `x` by value: it becomes the convolution's cache without a copy.
    ///
    /// # Shapes
    /// - x: `[N, H, W, C_in]`
    /// - returns: `[N, H, W, C_out]`
    fn forward_train(&mut self, x: Array4<T>) -> Result<(Array4<T>, ConvBnReluCache<T>)> {
        let (y, conv) = self.conv.forward_owned(x)?;
        let (y, relu) = match self.bn.as_mut() {
            Some(bn) => {
                let (mut y, cache) = bn.forward_train(y);
                relu::forward_inplace(y.view_mut());
                (y, ReluCache::Normalized(cache))
            }
            None => {
                let mut y = y;
                relu::forward_inplace(y.view_mut());
                (y.clone(), ReluCache::Output(y))
            }
        };
        Ok((y, ConvBnReluCache { conv, relu }))
    }

    /// Consumes `dy`: ReLU and batch norm work in its memory.
    ///
    /// # Shapes
    /// - dy: `[N, H, W, C_out]`
    /// - returns: `[N, H, W, C_in]`
    fn backward(&mut self, cache: &ConvBnReluCache<T>, dy: Array4<T>) -> Array4<T> {
        let d = match (self.bn.as_mut(), &cache.relu) {
            (Some(bn), ReluCache::Normalized(bc)) => bn.backward_through_relu(bc, dy),
            (None, ReluCache::Output(output)) => relu::backward(output.view(), dy.view()),
            _ => foreign_cache(),
        };
        self.conv.backward(&cache.conv, d.view())
    }

    /// # Shapes
    /// - x: `[N, H, W, C_in]` (stacked: the two parts' channels add up to `C_in`)
    /// - y: `[N, H, W, C_out]`, overwritten
    fn forward_eval_into(&self, x: BlockInput<T>, mut y: ArrayViewMut4<T>, scratch: &mut Vec<T>) {
        match (&self.bn, x) {
            (None, BlockInput::One(x)) => self.conv.forward_relu_into(x, y, scratch),
            (None, BlockInput::Stacked(a, b)) => self.conv.forward_relu_stacked_into(a, b, y, scratch),
            (Some(bn), x) => {
                let x = match x {
                    BlockInput::One(x) => CowArray::from(x),
                    BlockInput::Stacked(a, b) => CowArray::from(ndarray::concatenate(Axis(3), &[a, b]).expect("the parts differ only in channels")),
                };
                self.conv.forward_into(x.view(), y.view_mut(), scratch);
                bn.forward_eval_inplace(y.view_mut());
                relu::forward_inplace(y);
            }
        }
    }

    fn out_channels(&self) -> usize {
        self.conv.config.out_channels
    }

    /// Whether [`Self::forward_eval_into`] reads a stacked input without building the
    /// stack (batch norm folded, and the direct kernel runs): else the stack is built.
    fn reads_stacked(&self) -> bool {
        self.bn.is_none() && self.conv.uses_direct_kernel()
    }

    /// Visits `conv{i}` and `bn{i}` under `prefix`.
    fn visit(&mut self, prefix: &str, i: usize, f: &mut dyn FnMut(&str, TensorMut<'_, T>)) {
        self.conv.visit(&join(prefix, &format!("conv{i}")), f);
        if let Some(bn) = self.bn.as_mut() {
            bn.visit(&join(prefix, &format!("bn{i}")), f);
        }
    }
}

/// A block's input in inference: one map, or two read as their concatenation along
/// channels (the concat decoder's `[upsampled | skip]`, not built where batch norm is
/// folded into the convolution).
#[derive(Clone, Copy)]
pub(super) enum BlockInput<'a, T> {
    One(ArrayView4<'a, T>),
    Stacked(ArrayView4<'a, T>, ArrayView4<'a, T>),
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
    /// A block with `[in, mid, out]` channels.
    pub(super) fn new([in_channels, mid_channels, out_channels]: [usize; 3], rng: &mut Rng) -> Self {
        Self { first: ConvBnRelu::new(in_channels, mid_channels, rng), second: ConvBnRelu::new(mid_channels, out_channels, rng) }
    }

    /// Parameters of a block with `[in, mid, out]` channels, batch norms included.
    pub(super) fn parameter_count([in_channels, mid_channels, out_channels]: [usize; 3]) -> usize {
        ConvBnRelu::<T>::parameter_count(in_channels, mid_channels) + ConvBnRelu::<T>::parameter_count(mid_channels, out_channels)
    }

    /// # Shapes
    /// - x: `[N, H, W, C_in]`
    /// - returns: `[N, H, W, C_out]`
    pub(super) fn forward_train(&mut self, x: Array4<T>) -> Result<(Array4<T>, DoubleConvCache<T>)> {
        let (h, first) = self.first.forward_train(x)?;
        let (y, second) = self.second.forward_train(h)?;
        Ok((y, DoubleConvCache { first, second }))
    }

    /// # Shapes
    /// - dy: `[N, H, W, C_out]`
    /// - returns: `[N, H, W, C_in]`
    pub(super) fn backward(&mut self, cache: &DoubleConvCache<T>, dy: Array4<T>) -> Array4<T> {
        let dh = self.second.backward(&cache.second, dy);
        self.first.backward(&cache.first, dh)
    }

    /// Inference, using two pool buffers.
    ///
    /// # Shapes
    /// - x: `[N, H, W, C_in]`
    /// - returns: `[N, H, W, C_out]`
    pub(super) fn forward_eval(&self, x: BlockInput<T>, ws: &mut Workspace<T>) -> Array4<T> {
        let (n, h, w, _) = match x {
            BlockInput::One(x) | BlockInput::Stacked(x, _) => x.dim(),
        };
        let mut mid = ws.pool.take([n, h, w, self.first.out_channels()]);
        self.first.forward_eval_into(x, mid.view_mut(), &mut ws.scratch);
        let mut y = ws.pool.take([n, h, w, self.second.out_channels()]);
        self.second.forward_eval_into(BlockInput::One(mid.view()), y.view_mut(), &mut ws.scratch);
        ws.pool.give(mid);
        y
    }

    /// Multiply-adds x 2 per pixel.
    pub(super) fn flops_per_pixel(&self) -> f64 {
        self.first.conv.flops_per_pixel() + self.second.conv.flops_per_pixel()
    }

    pub(super) fn fold_batch_norm(&mut self) {
        for block in [&mut self.first, &mut self.second] {
            if let Some(bn) = block.bn.take() {
                bn.fold_into(&mut block.conv);
            }
        }
    }
}

impl<T: Scalar> Module<T> for DoubleConv<T> {
    fn visit(&mut self, prefix: &str, f: &mut dyn FnMut(&str, TensorMut<'_, T>)) {
        self.first.visit(prefix, 1, f);
        self.second.visit(prefix, 2, f);
    }
}

/// How a decoder level doubles the resolution; only the transposed convolution learns.
#[derive(Clone, Debug)]
// One per decoder level: the unboxed layer costs a few hundred bytes, once.
#[allow(clippy::large_enum_variant)]
pub enum Upsampler<T> {
    /// Max unpooling with the indices of the matching encoder pool.
    Unpool,
    /// Kernel 4, stride 2, padding 1, initialised to bilinear (tensors `dec.k.up.*`).
    Transposed(ConvTranspose2d<T>),
    /// Fixed bilinear interpolation.
    Bilinear,
}

enum UpsamplerCache<T> {
    Unpool,
    Transposed(ConvTranspose2dCache<T>),
    Bilinear { input_shape: [usize; 4] },
}

impl<T: Scalar> Upsampler<T> {
    /// The upsampler `kind` for `channels` channels (in and out).
    pub fn new(kind: Upsample, channels: usize) -> Self {
        match kind {
            Upsample::Unpool => Upsampler::Unpool,
            Upsample::Transposed => Upsampler::Transposed(ConvTranspose2d::bilinear(ConvTranspose2dConfig::x2(channels, channels))),
            Upsample::Bilinear => Upsampler::Bilinear,
        }
    }

    pub fn kind(&self) -> Upsample {
        match self {
            Upsampler::Unpool => Upsample::Unpool,
            Upsampler::Transposed(_) => Upsample::Transposed,
            Upsampler::Bilinear => Upsample::Bilinear,
        }
    }

    /// # Shapes
    /// - x: `[N, H, W, C]`
    /// - indices (used by unpooling): `[N, H, W, C]`, from pooling a map of shape `target`
    /// - target: `[N, 2H, 2W, C]`
    /// - returns: `target`
    fn forward_train(&self, x: &Array4<T>, indices: &Array4<u32>, target: [usize; 4]) -> Result<(Array4<T>, UpsamplerCache<T>)> {
        Ok(match self {
            Upsampler::Unpool => (max_unpool::forward(x, indices, target)?, UpsamplerCache::Unpool),
            Upsampler::Transposed(layer) => {
                let (y, cache) = layer.forward(x)?;
                (y, UpsamplerCache::Transposed(cache))
            }
            Upsampler::Bilinear => (upsample_bilinear::forward(x, target[1], target[2]), UpsamplerCache::Bilinear { input_shape: shape4(x) }),
        })
    }

    /// # Shapes
    /// - indices: `[N, H, W, C]`
    /// - dy: `[N, 2H, 2W, C]`
    /// - returns: `[N, H, W, C]`
    fn backward(&mut self, cache: &UpsamplerCache<T>, indices: ArrayView4<u32>, dy: ArrayView4<T>) -> Array4<T> {
        match (self, cache) {
            (Upsampler::Unpool, UpsamplerCache::Unpool) => max_unpool::backward(indices, dy),
            (Upsampler::Transposed(layer), UpsamplerCache::Transposed(c)) => layer.backward(c, dy),
            (Upsampler::Bilinear, UpsamplerCache::Bilinear { input_shape }) => upsample_bilinear::backward(dy, *input_shape),
            _ => foreign_cache(),
        }
    }

    /// # Shapes
    /// - x, indices: `[N, H, W, C]`
    /// - y: `[N, 2H, 2W, C]`, overwritten
    fn forward_into(&self, x: ArrayView4<T>, indices: ArrayView4<u32>, y: ArrayViewMut4<T>, scratch: &mut Vec<T>) {
        match self {
            Upsampler::Unpool => max_unpool::forward_into(x, indices, y),
            Upsampler::Transposed(layer) => layer.forward_into(x, y, scratch),
            Upsampler::Bilinear => upsample_bilinear::forward_into(x, y),
        }
    }
}

/// How the encoder map joins the upsampled map; only the added projection learns.
#[derive(Clone, Debug)]
// One per decoder level: the unboxed layer costs a few hundred bytes, once.
#[allow(clippy::large_enum_variant)]
pub enum Fusion<T> {
    /// The skip is dropped.
    None,
    /// A 1x1 projection of the encoder map is added (tensors `dec.k.proj.*`).
    Add(Conv2d<T>),
    /// The encoder map is stacked after the upsampled map's channels.
    Concat,
}

enum FusionCache<T> {
    None,
    Add(Conv2dCache<T>),
    Concat { up_channels: usize },
}

impl<T: Scalar> Fusion<T> {
    /// The fusion `kind` of two `channels`-channel maps.
    pub fn new(kind: Skip, channels: usize, rng: &mut Rng) -> Self {
        match kind {
            Skip::None => Fusion::None,
            Skip::Add => Fusion::Add(Conv2d::new(Conv2dConfig::same(channels, channels, 1), rng)),
            Skip::Concat => Fusion::Concat,
        }
    }

    pub fn kind(&self) -> Skip {
        match self {
            Fusion::None => Skip::None,
            Fusion::Add(_) => Skip::Add,
            Fusion::Concat => Skip::Concat,
        }
    }

    /// Takes the encoder map by value: it becomes the projection's cache.
    ///
    /// # Shapes
    /// - up, skip: `[N, H, W, C]`
    /// - returns: `[N, H, W, 2C]` with concat, else `[N, H, W, C]`
    fn forward_train(&self, up: Array4<T>, skip: Array4<T>) -> Result<(Array4<T>, FusionCache<T>)> {
        Ok(match self {
            Fusion::None => (up, FusionCache::None),
            Fusion::Add(proj) => {
                let (p, cache) = proj.forward_owned(skip)?;
                (fuse::add(&up, &p)?, FusionCache::Add(cache))
            }
            Fusion::Concat => (fuse::concat(&up, &skip)?, FusionCache::Concat { up_channels: up.dim().3 }),
        })
    }

    /// The gradients of the upsampled map and of the encoder map (none without a skip).
    ///
    /// # Shapes
    /// - dy: as [`Self::forward_train`] returns
    /// - returns: `[N, H, W, C]` each
    fn backward(&mut self, cache: &FusionCache<T>, dy: Array4<T>) -> (Array4<T>, Option<Array4<T>>) {
        match (self, cache) {
            (Fusion::None, FusionCache::None) => (dy, None),
            (Fusion::Add(proj), FusionCache::Add(c)) => {
                let d_skip = proj.backward(c, dy.view());
                (dy, Some(d_skip))
            }
            (Fusion::Concat, FusionCache::Concat { up_channels }) => {
                let (d_up, d_skip) = fuse::concat_backward(dy.view(), *up_channels);
                (d_up, Some(d_skip))
            }
            _ => foreign_cache(),
        }
    }
}

/// One decoder level: upsampler, skip fusion, and the block.
#[derive(Clone, Debug)]
pub struct DecoderStage<T> {
    pub up: Upsampler<T>,
    pub fusion: Fusion<T>,
    pub block: DoubleConv<T>,
}

pub(super) struct DecoderCache<T> {
    up: UpsamplerCache<T>,
    fusion: FusionCache<T>,
    block: DoubleConvCache<T>,
}

impl<T: Scalar> DecoderStage<T> {
    /// Level `k` of the decoder of `config`.
    pub(super) fn new(config: &ModelConfig, k: usize, rng: &mut Rng) -> Self {
        let c = config.channels(k);
        let up = Upsampler::new(config.upsample, c);
        let fusion = Fusion::new(config.skip, c, rng);
        Self { up, fusion, block: DoubleConv::new(config.decoder_channels(k), rng) }
    }

    /// Parameters of level `k` of the decoder of `config`.
    pub(super) fn parameter_count(config: &ModelConfig, k: usize) -> usize {
        let c = config.channels(k);
        let up = if config.upsample == Upsample::Transposed { ConvTranspose2dConfig::x2(c, c).parameter_count() } else { 0 };
        let proj = if config.skip == Skip::Add { Conv2dConfig::same(c, c, 1).parameter_count() } else { 0 };
        up + proj + DoubleConv::<T>::parameter_count(config.decoder_channels(k))
    }

    /// Multiply-adds x 2 for one image whose level-`k` map has `pixels` pixels, and the
    /// map below it `below`.
    pub(super) fn flops(&self, pixels: f64, below: f64) -> f64 {
        let up = match &self.up {
            Upsampler::Transposed(layer) => layer.flops_per_input_pixel() * below,
            Upsampler::Unpool | Upsampler::Bilinear => 0.0,
        };
        let proj = match &self.fusion {
            Fusion::Add(proj) => proj.flops_per_pixel() * pixels,
            Fusion::None | Fusion::Concat => 0.0,
        };
        up + proj + self.block.flops_per_pixel() * pixels
    }

    /// Training forward of the level: upsample `deep`, fuse `skip`, run the block.
    ///
    /// # Shapes
    /// - deep: `[N, H, W, C_k]`, the map from the level below
    /// - skip: `[N, 2H, 2W, C_k]`, the encoder map before pooling
    /// - indices: `[N, H, W, C_k]`, that pooling's argmax positions
    /// - returns: `[N, 2H, 2W, C_{k-1}]` (`width` channels for `k = 0`)
    pub(super) fn forward_train(&mut self, deep: &Array4<T>, skip: Array4<T>, indices: &Array4<u32>) -> Result<(Array4<T>, DecoderCache<T>)> {
        let (upsampled, up) = self.up.forward_train(deep, indices, shape4(&skip))?;
        let (fused, fusion) = self.fusion.forward_train(upsampled, skip)?;
        let (y, block) = self.block.forward_train(fused)?;
        Ok((y, DecoderCache { up, fusion, block }))
    }

    /// The gradients of `deep` and of `skip` (none without a skip).
    ///
    /// # Shapes
    /// - indices: `[N, H, W, C_k]`
    /// - dy: `[N, 2H, 2W, C_{k-1}]`
    /// - returns: `[N, H, W, C_k]` and `[N, 2H, 2W, C_k]`
    pub(super) fn backward(&mut self, cache: &DecoderCache<T>, indices: ArrayView4<u32>, dy: Array4<T>) -> (Array4<T>, Option<Array4<T>>) {
        let d_fused = self.block.backward(&cache.block, dy);
        let (d_up, d_skip) = self.fusion.backward(&cache.fusion, d_fused);
        (self.up.backward(&cache.up, indices, d_up.view()), d_skip)
    }

    /// Inference of the level from pool buffers, which it gives back (all but the result).
    /// With `trace`, also returns copies of the upsampled, skip and fused maps. With
    /// `ablated`, the skip is switched off as trained weights stay: add drops the 1x1 term
    /// (bias included: fused = upsampled), concat stacks zeros in place of the encoder map;
    /// the traced skip term is then that zero term (none for add).
    ///
    /// # Shapes
    /// as [`Self::forward_train`]
    pub(super) fn forward_eval(
        &self,
        deep: Array4<T>,
        skip: Array4<T>,
        indices: Array4<u32>,
        ws: &mut Workspace<T>,
        trace: bool,
        ablated: bool,
    ) -> (Array4<T>, Option<DecoderParts<T>>) {
        let shape = shape4(&skip);
        let mut up = ws.pool.take(shape);
        self.up.forward_into(deep.view(), indices.view(), up.view_mut(), &mut ws.scratch);
        ws.pool.give(deep);
        ws.pool.give_indices(indices);
        let mut skip = skip;
        if ablated && matches!(self.fusion, Fusion::Concat) {
            skip.fill(T::zero());
        }
        // Without a trace, the add is fused into the projection's store and the concat is
        // read by the block's first convolution from its two parts where its direct kernel
        // runs: neither sum nor stack is built (the same numbers: tested). Elsewhere the
        // stack is a pool buffer, so warm inference still allocates none.
        let (fused, projected) = match &self.fusion {
            Fusion::None => (None, None),
            Fusion::Add(_) if ablated => (None, None),
            Fusion::Add(proj) if !trace => {
                let mut sum = ws.pool.take(shape);
                proj.forward_add_into(skip.view(), up.view(), sum.view_mut(), &mut ws.scratch);
                (Some(sum), None)
            }
            Fusion::Add(proj) => {
                let mut projected = ws.pool.take(shape);
                proj.forward_into(skip.view(), projected.view_mut(), &mut ws.scratch);
                let mut sum = ws.pool.take(shape);
                fuse::add_into(up.view(), projected.view(), sum.view_mut());
                (Some(sum), Some(projected))
            }
            Fusion::Concat if !trace && self.block.first.reads_stacked() => (None, None),
            Fusion::Concat => {
                let [n, h, w, c] = shape;
                let mut stacked = ws.pool.take([n, h, w, 2 * c]);
                fuse::concat_into(up.view(), skip.view(), stacked.view_mut());
                (Some(stacked), None)
            }
        };
        let block_input = match (&fused, &self.fusion) {
            (Some(fused), _) => BlockInput::One(fused.view()),
            (None, Fusion::Concat) => BlockInput::Stacked(up.view(), skip.view()),
            (None, _) => BlockInput::One(up.view()),
        };
        let y = self.block.forward_eval(block_input, ws);
        let parts = trace.then(|| {
            let skip_shown = match &self.fusion {
                Fusion::None => None,
                Fusion::Add(_) => projected.clone().or_else(|| ablated.then(|| Array4::zeros(shape))),
                Fusion::Concat => Some(skip.clone()),
            };
            DecoderParts { upsampled: up.clone(), skip: skip_shown, fused: fused.clone().unwrap_or_else(|| up.clone()) }
        });
        for buffer in [Some(up), fused, projected, Some(skip)].into_iter().flatten() {
            ws.pool.give(buffer);
        }
        (y, parts)
    }
}

impl<T: Scalar> Module<T> for DecoderStage<T> {
    /// `up.*` (transposed only), `proj.*` (add only), then the block's `conv1`, `bn1`, ...
    fn visit(&mut self, prefix: &str, f: &mut dyn FnMut(&str, TensorMut<'_, T>)) {
        if let Upsampler::Transposed(up) = &mut self.up {
            up.visit(&join(prefix, "up"), f);
        }
        if let Fusion::Add(proj) = &mut self.fusion {
            proj.visit(&join(prefix, "proj"), f);
        }
        self.block.visit(prefix, f);
    }
}
