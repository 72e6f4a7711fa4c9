//! 2-D transposed convolution (PyTorch `nn.ConvTranspose2d`), used as the learned x2
//! upsampling: kernel 4, stride 2, padding 1 (FCN) or kernel 2, stride 2, padding 0.
//!
//! Output size: `(H - 1) * stride - 2 * padding + kernel` (no output padding).
//! Computed as GEMM + col2im: each input pixel spreads `x[pixel, C_in] @ w[C_in, K*K*C_out]`
//! onto a `K x K` output window at `(iy * stride - padding, ix * stride - padding)`.

use super::{as_f32, as_f32_mut, gemm, BLOCK_ELEMENTS};
use crate::error::{EngineError, Result};
use crate::param::{join, Module, Param, TensorMut};
#[cfg(test)]
use crate::rng::Rng;
use crate::Scalar;
use ndarray::{Array4, ArrayD, ArrayView2, ArrayView4, ArrayViewMut2, ArrayViewMut4};
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConvTranspose2dConfig {
    pub in_channels: usize,
    pub out_channels: usize,
    pub kernel: usize,
    pub stride: usize,
    pub padding: usize,
}

impl ConvTranspose2dConfig {
    /// The FCN x2 upsampler: kernel 4, stride 2, padding 1 (`H -> 2H`).
    pub fn x2(in_channels: usize, out_channels: usize) -> Self {
        Self { in_channels, out_channels, kernel: 4, stride: 2, padding: 1 }
    }

    fn spread_len(&self) -> usize {
        self.kernel * self.kernel * self.out_channels
    }

    /// Weights and biases: `C_in * KH * KW * C_out + C_out`.
    pub fn parameter_count(&self) -> usize {
        self.in_channels * self.spread_len() + self.out_channels
    }
}

/// `weight`: `[C_in, KH, KW, C_out]`; `bias`: `[C_out]`.
#[derive(Clone, Debug)]
pub struct ConvTranspose2d<T> {
    pub config: ConvTranspose2dConfig,
    pub weight: Param<T>,
    pub bias: Param<T>,
}

/// What backward needs: the input, `[N, H, W, C_in]`.
#[derive(Debug)]
pub struct ConvTranspose2dCache<T> {
    pub input: Array4<T>,
}

impl<T: Scalar> ConvTranspose2d<T> {
    /// Initialised to bilinear interpolation, channel by channel, as in FCN: with
    /// `x2(c, c)` the untrained layer upsamples like `upsample_bilinear` (up to the border).
    pub fn bilinear(config: ConvTranspose2dConfig) -> Self {
        let c = config;
        let k = c.kernel;
        let factor = k.div_ceil(2);
        let center = if k % 2 == 1 { factor as f64 - 1.0 } else { factor as f64 - 0.5 };
        let tap = |i: usize| 1.0 - (i as f64 - center).abs() / factor as f64;
        let mut weight = ArrayD::zeros(vec![c.in_channels, k, k, c.out_channels]);
        for ch in 0..c.in_channels.min(c.out_channels) {
            for ky in 0..k {
                for kx in 0..k {
                    weight[[ch, ky, kx, ch]] = T::of(tap(ky) * tap(kx));
                }
            }
        }
        Self { config, weight: Param::new(weight), bias: Param::zeros(&[c.out_channels]) }
    }

    /// He-normal weights, zero bias (the model starts from [`Self::bilinear`]).
    #[cfg(test)]
    pub fn new(config: ConvTranspose2dConfig, rng: &mut Rng) -> Self {
        let mut layer = Self::bilinear(config);
        let std = (2.0 / (config.in_channels * config.kernel * config.kernel) as f64).sqrt();
        layer.weight.value.mapv_inplace(|_| T::of(rng.normal() * std));
        layer
    }

    pub fn flops_per_input_pixel(&self) -> f64 {
        2.0 * (self.config.in_channels * self.config.spread_len()) as f64
    }

    /// The output shape for an input shape, or an error naming the mismatch.
    ///
    /// # Shapes
    /// - input: `[N, H, W, C_in]`
    /// - returns: `[N, (H-1)*s - 2p + K, (W-1)*s - 2p + K, C_out]`
    pub fn output_shape(&self, input: [usize; 4]) -> Result<[usize; 4]> {
        let c = &self.config;
        let [n, h, w, ci] = input;
        if ci != c.in_channels {
            return Err(EngineError::Shape { what: "conv_transpose2d input channels".into(), expected: vec![c.in_channels], got: vec![ci] });
        }
        let empty = || EngineError::Config(format!("conv_transpose2d: a {h}x{w} input gives an empty output"));
        if h == 0 || w == 0 {
            return Err(empty());
        }
        let size = |s: usize| ((s - 1) * c.stride + c.kernel).checked_sub(2 * c.padding).filter(|&o| o > 0).ok_or_else(empty);
        Ok([n, size(h)?, size(w)?, c.out_channels])
    }

    /// Writes the transposed convolution of `x` into `y`; `scratch` holds one block.
    ///
    /// # Shapes
    /// - x: `[N, H, W, C_in]`
    /// - y: `[N, OH, OW, C_out]` (see [`Self::output_shape`]), overwritten
    pub fn forward_into(&self, x: ArrayView4<T>, mut y: ArrayViewMut4<T>, scratch: &mut Vec<T>) {
        let x = x.as_standard_layout();
        if !self.forward_direct(x.view(), y.view_mut(), scratch) {
            self.forward_gemm(x.view(), y, scratch);
        }
    }

    /// Whether [`Self::forward_into`] takes the direct sub-pixel kernel (f32, kernel 4,
    /// stride 2, padding 1, few output channels, a SIMD kernel on this machine) rather than
    /// GEMM + col2im.
    pub fn uses_direct_kernel(&self) -> bool {
        let c = &self.config;
        std::any::TypeId::of::<T>() == std::any::TypeId::of::<f32>() && (c.kernel, c.stride, c.padding) == (4, 2, 1) && super::direct::takes(c.out_channels)
    }

    /// The direct kernel, where [`Self::uses_direct_kernel`]; `false` where it did not run.
    // `scratch` is a Vec, not a slice: it is downcast to `Vec<f32>`, which the kernel grows.
    #[allow(clippy::ptr_arg)]
    fn forward_direct(&self, x: ArrayView4<T>, mut y: ArrayViewMut4<T>, scratch: &mut Vec<T>) -> bool {
        if !self.uses_direct_kernel() {
            return false;
        }
        let Some(scratch) = (scratch as &mut dyn std::any::Any).downcast_mut::<Vec<f32>>() else { return false };
        let (Some(xs), Some(ws), Some(bs), Some(ys)) = (x.as_slice(), self.weight.value.as_slice(), self.bias.value.as_slice(), y.as_slice_mut()) else {
            return false;
        };
        let (n, h, w, cin) = x.dim();
        let shape = super::direct::Shape { n, h, w, cin, cout: self.config.out_channels, kernel: 4, pad: 1 };
        super::direct::transposed_k4s2p1(shape, as_f32(xs), as_f32(ws), as_f32(bs), as_f32_mut(ys), scratch)
    }

    /// The plain path, which the direct kernel is tested against: GEMM into column blocks,
    /// scattered into `y` (col2im), then the bias. Same shapes as [`Self::forward_into`].
    pub fn forward_gemm(&self, x: ArrayView4<T>, mut y: ArrayViewMut4<T>, scratch: &mut Vec<T>) {
        let x = x.as_standard_layout();
        let (n, h, w, ci) = x.dim();
        let (_, oh, ow, co) = y.dim();
        let s = self.config.spread_len();
        let pixels = n * h * w;
        let bias = self.bias.value.as_slice().expect("bias is contiguous [C_out]");
        y.fill(T::zero());
        let wm = self.weight.value.view().into_shape_with_order((ci, s)).expect("weight is [C_in, K, K, C_out]");
        let xm = x.view().into_shape_with_order((pixels, ci)).expect("standard layout");
        let geometry = self.geometry(h, w, oh, ow);
        let rows_per_block = (BLOCK_ELEMENTS / s).max(1);
        super::grow_scratch(scratch, rows_per_block.min(pixels) * s);
        let ys = y.as_slice_mut().expect("output is standard layout");
        let mut start = 0;
        while start < pixels {
            let rows = rows_per_block.min(pixels - start);
            let mut colm = ArrayViewMut2::from_shape((rows, s), &mut scratch[..rows * s]).expect("block fits");
            gemm(T::one(), &xm.slice(ndarray::s![start..start + rows, ..]), &wm, T::zero(), &mut colm);
            geometry.scatter(&scratch[..rows * s], start, rows, ys);
            start += rows;
        }
        for px in y.as_slice_mut().expect("output is standard layout").chunks_exact_mut(co) {
            for (v, &b) in px.iter_mut().zip(bias) {
                *v += b;
            }
        }
    }

    /// Allocating forward for training.
    ///
    /// # Shapes
    /// - x: `[N, H, W, C_in]`
    /// - returns: `[N, OH, OW, C_out]` and the cache
    pub fn forward(&self, x: &Array4<T>) -> Result<(Array4<T>, ConvTranspose2dCache<T>)> {
        let shape = self.output_shape(super::dims(&x.view()))?;
        let mut y = Array4::zeros(shape);
        self.forward_into(x.view(), y.view_mut(), &mut Vec::new());
        Ok((y, ConvTranspose2dCache { input: x.as_standard_layout().into_owned() }))
    }

    /// Given `dy` `[N, OH, OW, C_out]`, accumulates the parameter gradients and returns `dx`.
    ///
    /// # Shapes
    /// - dy: `[N, OH, OW, C_out]`
    /// - returns: dx `[N, H, W, C_in]`
    pub fn backward(&mut self, cache: &ConvTranspose2dCache<T>, dy: ArrayView4<T>) -> Array4<T> {
        let x = &cache.input;
        let (n, h, w, ci) = x.dim();
        let (_, oh, ow, _) = dy.dim();
        let dy = dy.as_standard_layout();
        let s = self.config.spread_len();
        let pixels = n * h * w;
        let geometry = self.geometry(h, w, oh, ow);
        super::add_channel_sums(dy.as_slice().expect("standard layout"), self.bias.grad.as_slice_mut().expect("bias grad is contiguous"));
        let wm = self.weight.value.view().into_shape_with_order((ci, s)).expect("weight is [C_in, K, K, C_out]");
        let mut dwm = self.weight.grad.view_mut().into_shape_with_order((ci, s)).expect("weight grad");
        let xm = x.view().into_shape_with_order((pixels, ci)).expect("standard layout");
        let mut dx = Array4::<T>::zeros((n, h, w, ci));
        let mut dxm = dx.view_mut().into_shape_with_order((pixels, ci)).expect("fresh array");
        let rows_per_block = (BLOCK_ELEMENTS / s).max(1);
        let mut dcols = vec![T::zero(); rows_per_block.min(pixels) * s];
        let dys = dy.as_slice().expect("standard layout");
        let mut start = 0;
        while start < pixels {
            let rows = rows_per_block.min(pixels - start);
            geometry.gather(dys, start, rows, &mut dcols[..rows * s]);
            let dcolm = ArrayView2::from_shape((rows, s), &dcols[..rows * s]).expect("block fits");
            let xblock = xm.slice(ndarray::s![start..start + rows, ..]);
            gemm(T::one(), &xblock.t(), &dcolm, T::one(), &mut dwm);
            gemm(T::one(), &dcolm, &wm.t(), T::zero(), &mut dxm.slice_mut(ndarray::s![start..start + rows, ..]));
            start += rows;
        }
        dx
    }

    fn geometry(&self, h: usize, w: usize, oh: usize, ow: usize) -> Spread {
        let c = &self.config;
        Spread { h, w, oh, ow, cout: c.out_channels, kernel: c.kernel, stride: c.stride, pad: c.padding }
    }
}

/// Sizes that map each input pixel to its output window.
struct Spread {
    h: usize,
    w: usize,
    oh: usize,
    ow: usize,
    cout: usize,
    kernel: usize,
    stride: usize,
    pad: usize,
}

impl Spread {
    /// Output position of tap `t` for input coordinate `i`, if inside the output.
    #[inline]
    fn target(&self, i: usize, t: usize, size: usize) -> Option<usize> {
        let o = (i * self.stride + t).checked_sub(self.pad)?;
        (o < size).then_some(o)
    }

    /// For each `(pixel, tap)`, calls `f(tap offset in the row, output offset)`.
    fn for_each_tap(&self, start: usize, rows: usize, mut f: impl FnMut(usize, usize, usize)) {
        let k = self.kernel;
        for r in 0..rows {
            let p = start + r;
            let (n, rem) = (p / (self.h * self.w), p % (self.h * self.w));
            let (iy, ix) = (rem / self.w, rem % self.w);
            for ky in 0..k {
                let Some(oy) = self.target(iy, ky, self.oh) else { continue };
                for kx in 0..k {
                    let Some(ox) = self.target(ix, kx, self.ow) else { continue };
                    f(r, (ky * k + kx) * self.cout, ((n * self.oh + oy) * self.ow + ox) * self.cout);
                }
            }
        }
    }

    /// Adds each pixel's spread `cols[rows, K*K*C_out]` onto the output.
    fn scatter<T: Scalar>(&self, cols: &[T], start: usize, rows: usize, y: &mut [T]) {
        let (row_len, co) = (self.kernel * self.kernel * self.cout, self.cout);
        self.for_each_tap(start, rows, |r, tap, at| {
            let src = &cols[r * row_len + tap..r * row_len + tap + co];
            for (d, s) in y[at..at + co].iter_mut().zip(src) {
                *d += *s;
            }
        });
    }

    /// Fills `dcols[rows, K*K*C_out]` with the output gradient under each pixel's window
    /// (zero where the window leaves the output).
    fn gather<T: Scalar>(&self, dy: &[T], start: usize, rows: usize, dcols: &mut [T]) {
        let (row_len, co) = (self.kernel * self.kernel * self.cout, self.cout);
        dcols.fill(T::zero());
        self.for_each_tap(start, rows, |r, tap, at| {
            dcols[r * row_len + tap..r * row_len + tap + co].copy_from_slice(&dy[at..at + co]);
        });
    }
}

impl<T: Scalar> Module<T> for ConvTranspose2d<T> {
    fn visit(&mut self, prefix: &str, f: &mut dyn FnMut(&str, TensorMut<'_, T>)) {
        f(&join(prefix, "weight"), TensorMut::Param(&mut self.weight));
        f(&join(prefix, "bias"), TensorMut::Param(&mut self.bias));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gradcheck::{dot, input_error, param_error, random};

    fn check(config: ConvTranspose2dConfig, input: [usize; 4]) {
        let mut rng = Rng::new(11);
        let mut layer = ConvTranspose2d::<f64>::new(config, &mut rng);
        layer.bias.value = random(ndarray::IxDyn(&[config.out_channels]), &mut rng);
        let x = random(ndarray::Dim(input), &mut rng);
        let (y, cache) = layer.forward(&x).unwrap();
        assert_eq!(y.dim().1, input[1] * 2, "x2 upsampling");
        let probe = random(y.raw_dim(), &mut rng);
        let dx = layer.backward(&cache, probe.view());
        let loss = |l: &ConvTranspose2d<f64>, x: &Array4<f64>| dot(&l.forward(x).unwrap().0, &probe);
        assert!(input_error(&x, &dx, |x| loss(&layer, x)) < 1e-6, "dx of {config:?}");
        let dw = layer.weight.grad.clone();
        assert!(param_error(&layer, |l| &mut l.weight.value, &dw, |l| loss(l, &x)) < 1e-6, "dw of {config:?}");
        let db = layer.bias.grad.clone();
        assert!(param_error(&layer, |l| &mut l.bias.value, &db, |l| loss(l, &x)) < 1e-6, "db of {config:?}");
    }

    #[test]
    fn backward_matches_finite_differences() {
        check(ConvTranspose2dConfig::x2(3, 2), [2, 3, 4, 3]);
        check(ConvTranspose2dConfig { in_channels: 2, out_channels: 3, kernel: 2, stride: 2, padding: 0 }, [1, 3, 2, 2]);
    }

    #[test]
    fn bilinear_init_interpolates_inside() {
        // A linear ramp stays a linear ramp (away from the border) at half the step.
        let layer = ConvTranspose2d::<f64>::bilinear(ConvTranspose2dConfig::x2(1, 1));
        let x = Array4::from_shape_fn((1, 4, 4, 1), |(_, _, j, _)| j as f64);
        let (y, _) = layer.forward(&x).unwrap();
        for j in 1..7 {
            assert!((y[[0, 3, j, 0]] - (j as f64 - 0.5) / 2.0).abs() < 1e-12, "column {j}");
        }
    }
}
