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

mod blocks;
mod config;
mod trace;

pub use blocks::{ConvBnRelu, ConvBnReluCache, DecoderStage, DoubleConv, DoubleConvCache, Fusion, Upsampler};
pub(crate) use config::named_enum;
pub use config::{stage_names, ModelConfig, Skip, Upsample, Variant};
pub use trace::{DecoderParts, Stage, StageKind, TracedPass};

use crate::buffers::BufferPool;
use crate::error::Result;
use crate::layers::conv2d::{Conv2d, Conv2dCache, Conv2dConfig};
use crate::layers::max_pool;
use crate::param::{join, Module, TensorMut};
use crate::rng::Rng;
use crate::Scalar;
use blocks::DecoderCache;
use ndarray::{Array4, ArrayView4};

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

/// The network: encoder, bottleneck, decoder and head (see the module docs).
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
        Self::initialised(config, &mut Rng::new(seed))
    }

    /// A model of `config` with zero convolution weights (bilinear transposed convolutions,
    /// identity batch norms), for a loader that overwrites every tensor: no random draws.
    pub fn zeroed(config: ModelConfig) -> Result<Self> {
        Self::initialised(config, &mut Rng::zero())
    }

    fn initialised(config: ModelConfig, rng: &mut Rng) -> Result<Self> {
        config.validate()?;
        let encoder = (0..config.depth).map(|k| DoubleConv::new(config.encoder_channels(k), rng)).collect();
        let bottleneck = DoubleConv::new(config.bottleneck_channels(), rng);
        let decoder = (0..config.depth).map(|k| DecoderStage::new(&config, k, rng)).collect();
        let head = Conv2d::new(Conv2dConfig::same(config.channels(0), config.n_classes, 1), rng);
        Ok(Self { config, encoder, bottleneck, decoder, head })
    }

    /// Trainable parameters of the network its config describes, batch norms' scale and
    /// shift included (also once they are folded away).
    pub fn parameter_count(&self) -> usize {
        let c = &self.config;
        let blocks: usize = (0..c.depth).map(|k| DoubleConv::<T>::parameter_count(c.encoder_channels(k)) + DecoderStage::<T>::parameter_count(c, k)).sum();
        blocks + DoubleConv::<T>::parameter_count(c.bottleneck_channels()) + Conv2dConfig::same(c.channels(0), c.n_classes, 1).parameter_count()
    }

    /// Multiply-adds x 2 of every convolution for one `height x width` image.
    pub fn forward_flops(&self, height: usize, width: usize) -> f64 {
        let pixels = |level: usize| ((height >> level) * (width >> level)) as f64;
        let mut flops = self.head.flops_per_pixel() * pixels(0) + self.bottleneck.flops_per_pixel() * pixels(self.config.depth);
        for k in 0..self.config.depth {
            flops += self.encoder[k].flops_per_pixel() * pixels(k) + self.decoder[k].flops(pixels(k), pixels(k + 1));
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

    /// Training forward: batch norm uses batch statistics and updates its running averages.
    ///
    /// # Shapes
    /// - x: `[N, H, W, in_channels]`, `H` and `W` multiples of `2^depth`
    /// - returns: scores `[N, H, W, n_classes]`, and the cache for [`Self::backward`]
    pub fn forward_train(&mut self, x: &Array4<T>) -> Result<(Array4<T>, ModelCache<T>)> {
        self.config.check_input(shape4(x))?;
        let depth = self.config.depth;
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
        let mut decoder = Vec::with_capacity(depth);
        for ((stage, skip), (indices, _)) in self.decoder.iter_mut().zip(skips).zip(&pools).rev() {
            let (y, cache) = stage.forward_train(&h, skip, indices)?;
            decoder.push(cache);
            h = y;
        }
        decoder.reverse();
        let (scores, head) = self.head.forward_owned(h)?;
        Ok((scores, ModelCache { encoder, pools, bottleneck, decoder, head }))
    }

    /// Backward through the whole model: accumulates every parameter gradient and returns
    /// the input gradient.
    ///
    /// # Shapes
    /// - d_scores: `[N, H, W, n_classes]`
    /// - returns: `[N, H, W, in_channels]`
    ///
    /// # Panics
    /// If `cache` comes from another model, or from before [`Self::fold_batch_norm`].
    pub fn backward(&mut self, cache: &ModelCache<T>, d_scores: ArrayView4<T>) -> Array4<T> {
        let mut d = self.head.backward(&cache.head, d_scores);
        let mut d_skips = Vec::with_capacity(self.config.depth);
        for ((stage, dc), (indices, _)) in self.decoder.iter_mut().zip(&cache.decoder).zip(&cache.pools) {
            let (d_deep, d_skip) = stage.backward(dc, indices.view(), d);
            d_skips.push(d_skip);
            d = d_deep;
        }
        d = self.bottleneck.backward(&cache.bottleneck, d);
        for (((block, bc), (indices, shape)), d_skip) in self.encoder.iter_mut().zip(&cache.encoder).zip(&cache.pools).zip(d_skips).rev() {
            let mut d_enc = max_pool::backward(indices.view(), d.view(), *shape);
            if let Some(ds) = d_skip {
                d_enc += &ds;
            }
            d = block.backward(bc, d_enc);
        }
        d
    }

    /// Inference (batch norm from running statistics, or folded), kept in `ws`. Allocates
    /// nothing once `ws` is warm for this input size.
    ///
    /// # Shapes
    /// - x: `[N, H, W, in_channels]`, `H` and `W` multiples of `2^depth`
    /// - returns: scores `[N, H, W, n_classes]`
    pub fn infer<'w>(&self, x: ArrayView4<T>, ws: &'w mut Workspace<T>) -> Result<ArrayView4<'w, T>> {
        if let Some(previous) = ws.output.take() {
            ws.pool.give(previous);
        }
        let scores = self.run_eval(x, ws, &[])?;
        Ok(ws.output.insert(scores).view())
    }

    /// Inference with the skip switched off at the decoder levels `k` where `ablated[k]`
    /// (missing entries: on), the trained weights unchanged: with add, level `k` drops its
    /// 1x1 term (bias included), so the block sees the upsampled map alone; with concat, the
    /// encoder map's channels of the stack are zeros. Not a model trained without a skip:
    /// the layers after it were trained to expect the skip. A model without a skip ignores
    /// the flags.
    ///
    /// # Shapes
    /// - x: `[N, H, W, in_channels]`, `H` and `W` multiples of `2^depth`
    /// - ablated: at most `depth` entries (more is an error)
    /// - returns: scores `[N, H, W, n_classes]`
    pub fn infer_ablated<'w>(&self, x: ArrayView4<T>, ws: &'w mut Workspace<T>, ablated: &[bool]) -> Result<ArrayView4<'w, T>> {
        if let Some(previous) = ws.output.take() {
            ws.pool.give(previous);
        }
        let scores = self.run_eval(x, ws, ablated)?;
        Ok(ws.output.insert(scores).view())
    }
}

impl<T: Scalar> Module<T> for Model<T> {
    /// `enc.k.*`, `bottleneck.*`, `dec.k.*` (k ascending), `head.*`: the weights files' order.
    fn visit(&mut self, prefix: &str, f: &mut dyn FnMut(&str, TensorMut<'_, T>)) {
        for (k, b) in self.encoder.iter_mut().enumerate() {
            b.visit(&join(prefix, &format!("enc.{k}")), f);
        }
        self.bottleneck.visit(&join(prefix, "bottleneck"), f);
        for (k, s) in self.decoder.iter_mut().enumerate() {
            s.visit(&join(prefix, &format!("dec.{k}")), f);
        }
        self.head.visit(&join(prefix, "head"), f);
    }
}
