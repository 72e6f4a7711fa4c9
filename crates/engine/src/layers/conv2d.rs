//! 2-D convolution, stride 1, symmetric zero padding (PyTorch `nn.Conv2d(stride=1)`).
//!
//! Computed as im2col + GEMM in row blocks of `BLOCK_ELEMENTS` elements:
//! an output pixel's column is its `KH x KW x C_in` input patch, so
//! `y[pixels, C_out] = cols[pixels, KH*KW*C_in] @ w[KH*KW*C_in, C_out] + b`.
//! A 1x1 convolution skips im2col: the NHWC input already is `[pixels, C_in]`.
//! Narrow f32 layers (few output channels) take a direct kernel instead (`layers/direct.rs`),
//! where the machine has one.

use super::direct::Input;
use super::{as_f32, as_f32_mut, gemm, BLOCK_ELEMENTS};
use crate::error::{EngineError, Result};
use crate::param::{join, Module, Param, TensorMut};
use crate::rng::Rng;
use crate::Scalar;
use ndarray::{Array4, ArrayD, ArrayView2, ArrayView4, ArrayViewMut2, ArrayViewMut4};
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Conv2dConfig {
    pub in_channels: usize,
    pub out_channels: usize,
    /// Square kernel side (1 or 3 in this model family; any odd or even size works).
    pub kernel: usize,
    /// Zero padding on every side.
    pub padding: usize,
}

impl Conv2dConfig {
    /// A convolution that keeps height and width: `padding = kernel / 2` (odd kernels).
    pub fn same(in_channels: usize, out_channels: usize, kernel: usize) -> Self {
        Self { in_channels, out_channels, kernel, padding: kernel / 2 }
    }

    /// Elements of one im2col row: `KH * KW * C_in`.
    pub fn patch_len(&self) -> usize {
        self.kernel * self.kernel * self.in_channels
    }

    /// Weights and biases: `KH * KW * C_in * C_out + C_out`.
    pub fn parameter_count(&self) -> usize {
        (self.patch_len() + 1) * self.out_channels
    }
}

/// `weight`: `[KH, KW, C_in, C_out]`; `bias`: `[C_out]`.
#[derive(Clone, Debug)]
pub struct Conv2d<T> {
    pub config: Conv2dConfig,
    pub weight: Param<T>,
    pub bias: Param<T>,
}

/// What backward needs: the input, `[N, H, W, C_in]`.
#[derive(Debug)]
pub struct Conv2dCache<T> {
    pub input: Array4<T>,
}

impl<T: Scalar> Conv2d<T> {
    /// He-normal weights (`std = sqrt(2 / fan_in)`), zero bias.
    pub fn new(config: Conv2dConfig, rng: &mut Rng) -> Self {
        let c = config;
        let std = (2.0 / c.patch_len() as f64).sqrt();
        let weight = ArrayD::from_shape_simple_fn(vec![c.kernel, c.kernel, c.in_channels, c.out_channels], || T::of(rng.normal() * std));
        Self { config, weight: Param::new(weight), bias: Param::zeros(&[c.out_channels]) }
    }

    pub fn flops_per_pixel(&self) -> f64 {
        2.0 * (self.config.patch_len() * self.config.out_channels) as f64
    }

    /// The output shape for an input shape, or an error naming the mismatch.
    ///
    /// # Shapes
    /// - input: `[N, H, W, C_in]`
    /// - returns: `[N, H + 2p - K + 1, W + 2p - K + 1, C_out]`
    pub fn output_shape(&self, input: [usize; 4]) -> Result<[usize; 4]> {
        let c = &self.config;
        let [n, h, w, ci] = input;
        if ci != c.in_channels {
            return Err(EngineError::Shape { what: "conv2d input channels".into(), expected: vec![c.in_channels], got: vec![ci] });
        }
        if h + 2 * c.padding < c.kernel || w + 2 * c.padding < c.kernel {
            return Err(EngineError::Config(format!("conv2d: a {h}x{w} input is smaller than the {0}x{0} kernel", c.kernel)));
        }
        Ok([n, h + 2 * c.padding + 1 - c.kernel, w + 2 * c.padding + 1 - c.kernel, c.out_channels])
    }

    fn weight_matrix(&self) -> ArrayView2<'_, T> {
        let c = &self.config;
        self.weight.value.view().into_shape_with_order((c.patch_len(), c.out_channels)).expect("weight is [KH, KW, C_in, C_out]")
    }

    /// Writes the convolution of `x` into `y` (shape from [`Self::output_shape`]).
    /// `scratch` holds one im2col block; it grows once and is reused.
    ///
    /// # Shapes
    /// - x: `[N, H, W, C_in]`
    /// - y: `[N, OH, OW, C_out]` (see [`Self::output_shape`]), overwritten
    pub fn forward_into(&self, x: ArrayView4<T>, y: ArrayViewMut4<T>, scratch: &mut Vec<T>) {
        self.forward_into_with(x, y, scratch, false);
    }

    /// [`Self::forward_into`] followed by ReLU, fused into the direct kernel's epilogue
    /// where that kernel runs.
    ///
    /// # Shapes
    /// as [`Self::forward_into`]
    pub fn forward_relu_into(&self, x: ArrayView4<T>, y: ArrayViewMut4<T>, scratch: &mut Vec<T>) {
        self.forward_into_with(x, y, scratch, true);
    }

    fn forward_into_with(&self, x: ArrayView4<T>, mut y: ArrayViewMut4<T>, scratch: &mut Vec<T>, relu: bool) {
        let x = x.as_standard_layout();
        if self.forward_direct(x.view(), None, None, y.view_mut(), scratch, relu) {
            return;
        }
        self.forward_im2col(x.view(), y.view_mut(), scratch);
        if relu {
            super::relu::forward_inplace(y);
        }
    }

    /// `y = conv(x) + addend`, the add fused into the direct kernel's epilogue where that
    /// kernel runs (the sums rounded as `forward_into`, then a separate add, round them).
    ///
    /// # Shapes
    /// - x: `[N, H, W, C_in]`
    /// - addend, y: `[N, OH, OW, C_out]`; y overwritten
    pub fn forward_add_into(&self, x: ArrayView4<T>, addend: ArrayView4<T>, mut y: ArrayViewMut4<T>, scratch: &mut Vec<T>) {
        let (x, addend) = (x.as_standard_layout(), addend.as_standard_layout());
        if self.forward_direct(x.view(), None, Some(addend.view()), y.view_mut(), scratch, false) {
            return;
        }
        self.forward_im2col(x.view(), y.view_mut(), scratch);
        y += &addend;
    }

    /// [`Self::forward_relu_into`] of `[a | b]`, the two maps stacked along channels; the
    /// direct kernel reads them without building the stack.
    ///
    /// # Shapes
    /// - a: `[N, H, W, Ca]`, b: `[N, H, W, C_in - Ca]`
    /// - y: `[N, OH, OW, C_out]`, overwritten
    pub fn forward_relu_stacked_into(&self, a: ArrayView4<T>, b: ArrayView4<T>, y: ArrayViewMut4<T>, scratch: &mut Vec<T>) {
        let (a, b) = (a.as_standard_layout(), b.as_standard_layout());
        let mut y = y;
        if self.forward_direct(a.view(), Some(b.view()), None, y.view_mut(), scratch, true) {
            return;
        }
        let stacked = ndarray::concatenate(ndarray::Axis(3), &[a.view(), b.view()]).expect("a and b differ only in channels");
        self.forward_relu_into(stacked.view(), y, scratch);
    }

    /// Whether [`Self::forward_into`] takes the direct kernel (f32, few output channels,
    /// and a SIMD kernel on this machine) rather than im2col + GEMM.
    pub fn uses_direct_kernel(&self) -> bool {
        std::any::TypeId::of::<T>() == std::any::TypeId::of::<f32>() && super::direct::takes(self.config.out_channels)
    }

    /// The direct kernel, for f32 and the shapes it takes, on `x` (or `[x | more]` along
    /// channels), the addend added before ReLU; `false` where it did not run. Every array
    /// in standard layout.
    // `scratch` is a Vec, not a slice: it is downcast to `Vec<f32>`, which the kernel grows.
    #[allow(clippy::ptr_arg)]
    fn forward_direct(
        &self,
        x: ArrayView4<T>,
        more: Option<ArrayView4<T>>,
        addend: Option<ArrayView4<T>>,
        mut y: ArrayViewMut4<T>,
        scratch: &mut Vec<T>,
        relu: bool,
    ) -> bool {
        let c = &self.config;
        let Some(scratch) = (scratch as &mut dyn std::any::Any).downcast_mut::<Vec<f32>>() else { return false };
        if !super::direct::takes(c.out_channels) {
            return false;
        }
        let (Some(xs), Some(ws), Some(bs), Some(ys)) = (x.as_slice(), self.weight.value.as_slice(), self.bias.value.as_slice(), y.as_slice_mut()) else {
            return false;
        };
        let (n, h, w, ca) = x.dim();
        debug_assert!(more.as_ref().is_none_or(|b| b.dim().0 == n && b.dim().1 == h && b.dim().2 == w), "stacked maps differ beyond channels");
        let cb = more.as_ref().map_or(0, |b| b.dim().3);
        let input = match more.as_ref().map(|b| b.as_slice()) {
            None => Input::One(as_f32(xs)),
            Some(Some(more)) if ca == 0 => Input::One(as_f32(more)),
            Some(Some(_)) if cb == 0 => Input::One(as_f32(xs)),
            Some(Some(more)) => Input::Stacked { a: as_f32(xs), b: as_f32(more), ca },
            Some(None) => return false,
        };
        let addend = match addend.as_ref().map(|a| a.as_slice()) {
            None => None,
            Some(Some(a)) => Some(as_f32(a)),
            Some(None) => return false,
        };
        let cin = ca + cb;
        let shape = super::direct::Shape { n, h, w, cin, cout: c.out_channels, kernel: c.kernel, pad: c.padding };
        super::direct::conv(shape, input, as_f32(ws), as_f32(bs), addend, as_f32_mut(ys), relu, scratch)
    }

    /// The plain path, which every fast path is tested against: bias, then im2col + GEMM
    /// in blocks (GEMM alone for 1x1). Same shapes as [`Self::forward_into`].
    pub fn forward_im2col(&self, x: ArrayView4<T>, mut y: ArrayViewMut4<T>, scratch: &mut Vec<T>) {
        let x = x.as_standard_layout();
        let (n, h, w, _) = x.dim();
        let (_, oh, ow, co) = y.dim();
        let pixels = n * oh * ow;
        let k = self.config.patch_len();
        let wm = self.weight_matrix();
        let mut ym = y.view_mut().into_shape_with_order((pixels, co)).expect("output is standard layout");
        let bias = self.bias.value.as_slice().expect("bias is contiguous [C_out]");
        for px in ym.as_slice_mut().expect("output is standard layout").chunks_exact_mut(co) {
            px.copy_from_slice(bias);
        }
        if self.is_pointwise() {
            let xm = x.view().into_shape_with_order((pixels, k)).expect("input is standard layout");
            gemm(T::one(), &xm, &wm, T::one(), &mut ym);
            return;
        }
        let rows_per_block = (BLOCK_ELEMENTS / k).max(1);
        super::grow_scratch(scratch, rows_per_block * k);
        let xs = x.as_slice().expect("standard layout");
        let geometry = Geometry { h, w, oh, ow, cin: self.config.in_channels, kernel: self.config.kernel, pad: self.config.padding };
        let mut start = 0;
        while start < pixels {
            let rows = rows_per_block.min(pixels - start);
            let cols = &mut scratch[..rows * k];
            geometry.im2col(xs, start, rows, cols);
            let colm = ArrayView2::from_shape((rows, k), cols).expect("block fits");
            let mut yblock = ym.slice_mut(ndarray::s![start..start + rows, ..]);
            gemm(T::one(), &colm, &wm, T::one(), &mut yblock);
            start += rows;
        }
    }

    fn is_pointwise(&self) -> bool {
        self.config.kernel == 1 && self.config.padding == 0
    }

    /// Allocating forward for training: returns `[N, OH, OW, C_out]` and the cache.
    ///
    /// # Shapes
    /// - x: `[N, H, W, C_in]`
    /// - returns: `[N, OH, OW, C_out]` and the cache
    pub fn forward(&self, x: &Array4<T>) -> Result<(Array4<T>, Conv2dCache<T>)> {
        self.forward_owned(x.as_standard_layout().into_owned())
    }

    /// [`Self::forward`] that keeps `x` itself as the cache instead of a copy of it (for
    /// callers that no longer need their input).
    ///
    /// # Shapes
    /// - x: `[N, H, W, C_in]`
    /// - returns: `[N, OH, OW, C_out]` and the cache
    pub fn forward_owned(&self, x: Array4<T>) -> Result<(Array4<T>, Conv2dCache<T>)> {
        let shape = self.output_shape(super::dims(&x.view()))?;
        let input = super::into_standard_layout(x);
        let mut y = Array4::zeros(shape);
        with_scratch(|scratch| self.forward_into(input.view(), y.view_mut(), scratch));
        Ok((y, Conv2dCache { input }))
    }

    /// Given `dy` `[N, OH, OW, C_out]`, accumulates `weight.grad` and `bias.grad` and
    /// returns `dx` `[N, H, W, C_in]`.
    ///
    /// For f32 layers the direct kernels take what they can: the weight gradient where the
    /// output channels are few (no column matrix), and `dx`, the full convolution of `dy`
    /// with the kernel flipped and its channels swapped, where the input channels are few
    /// (no col2im). The rest is [`Self::backward_im2col`]'s GEMM over im2col blocks.
    ///
    /// # Shapes
    /// - dy: `[N, OH, OW, C_out]`
    /// - returns: dx `[N, H, W, C_in]`
    pub fn backward(&mut self, cache: &Conv2dCache<T>, dy: ArrayView4<T>) -> Array4<T> {
        let dy = dy.as_standard_layout();
        self.add_bias_gradient(dy.view());
        let dx = self.input_gradient_direct(dy.view());
        let weights_done = self.weight_gradient_direct(cache, dy.view());
        match dx {
            Some(dx) if weights_done => dx,
            dx => {
                let rest = self.im2col_gradients(cache, dy.view(), !weights_done, dx.is_none());
                dx.or(rest).expect("im2col computed dx")
            }
        }
    }

    /// The plain backward, which [`Self::backward`]'s fast paths are tested against: the
    /// weight gradient and the column gradient by GEMM over im2col blocks, then col2im.
    /// Same shapes as [`Self::backward`].
    pub fn backward_im2col(&mut self, cache: &Conv2dCache<T>, dy: ArrayView4<T>) -> Array4<T> {
        let dy = dy.as_standard_layout();
        self.add_bias_gradient(dy.view());
        self.im2col_gradients(cache, dy.view(), true, true).expect("asked for dx")
    }

    fn add_bias_gradient(&mut self, dy: ArrayView4<T>) {
        super::add_channel_sums(dy.as_slice().expect("standard layout"), self.bias.grad.as_slice_mut().expect("bias grad is contiguous"));
    }

    /// Whether [`Self::backward`] computes the weight gradient with the direct kernel.
    pub fn uses_direct_weight_gradient(&self) -> bool {
        std::any::TypeId::of::<T>() == std::any::TypeId::of::<f32>() && !self.is_pointwise() && super::direct::takes_weight_grad(self.config.out_channels)
    }

    /// Adds the weight gradient by the direct kernel; `false` where it does not run.
    fn weight_gradient_direct(&mut self, cache: &Conv2dCache<T>, dy: ArrayView4<T>) -> bool {
        if !self.uses_direct_weight_gradient() {
            return false;
        }
        let c = self.config;
        let (n, h, w, cin) = cache.input.dim();
        let (Some(xs), Some(dys)) = (cache.input.as_slice(), dy.as_slice()) else { return false };
        let Some(dw) = self.weight.grad.as_slice_mut() else { return false };
        let shape = super::direct::Shape { n, h, w, cin, cout: c.out_channels, kernel: c.kernel, pad: c.padding };
        with_scratch(|scratch| super::direct::weight_grad(shape, as_f32(xs), as_f32(dys), as_f32_mut(dw), scratch))
    }

    /// Whether [`Self::backward`] computes `dx` with the direct kernel.
    pub fn uses_direct_backward(&self) -> bool {
        let c = &self.config;
        std::any::TypeId::of::<T>() == std::any::TypeId::of::<f32>() && c.kernel > 1 && c.padding < c.kernel && super::direct::takes(c.in_channels)
    }

    /// `dx` by the direct kernel: `dy` (`[N, OH, OW, C_out]`, standard layout) padded by
    /// `K - 1 - p` and convolved with `w'[ky, kx, co, ci] = w[K-1-ky, K-1-kx, ci, co]`,
    /// which gives `[N, H, W, C_in]`. `None` where that kernel does not run.
    fn input_gradient_direct(&self, dy: ArrayView4<T>) -> Option<Array4<T>> {
        if !self.uses_direct_backward() {
            return None;
        }
        let c = self.config;
        let (n, oh, ow, co) = dy.dim();
        let (k, ci) = (c.kernel, c.in_channels);
        let w = self.weight.value.as_slice()?;
        let mut flipped = vec![0.0f32; w.len()];
        let w = as_f32(w);
        for ky in 0..k {
            for kx in 0..k {
                for i in 0..ci {
                    for o in 0..co {
                        flipped[((ky * k + kx) * co + o) * ci + i] = w[(((k - 1 - ky) * k + (k - 1 - kx)) * ci + i) * co + o];
                    }
                }
            }
        }
        let pad = k - 1 - c.padding;
        let (h, w) = (oh + 2 * pad + 1 - k, ow + 2 * pad + 1 - k);
        let mut dx = Array4::<T>::zeros((n, h, w, ci));
        let shape = super::direct::Shape { n, h: oh, w: ow, cin: co, cout: ci, kernel: k, pad };
        let (dys, dxs) = (as_f32(dy.as_slice()?), as_f32_mut(dx.as_slice_mut().expect("fresh array")));
        let ran = with_scratch(|scratch| super::direct::conv(shape, Input::One(dys), &flipped, &vec![0.0; ci], None, dxs, false, scratch));
        ran.then_some(dx)
    }

    /// If `want_dw`, accumulates `weight.grad` (`cols^T @ dy` over im2col blocks, or
    /// `x^T @ dy` for 1x1); if `want_dx`, returns `dx` (`dy @ w^T`, then col2im). `dy` is
    /// standard layout.
    fn im2col_gradients(&mut self, cache: &Conv2dCache<T>, dy: ArrayView4<T>, want_dw: bool, want_dx: bool) -> Option<Array4<T>> {
        let x = &cache.input;
        let (n, h, w, ci) = x.dim();
        let (_, oh, ow, co) = dy.dim();
        let pixels = n * oh * ow;
        let k = self.config.patch_len();
        let dym = dy.into_shape_with_order((pixels, co)).expect("standard layout");
        let (c, pointwise) = (self.config, self.is_pointwise());
        let wm = self.weight.value.view().into_shape_with_order((k, co)).expect("weight is [KH, KW, C_in, C_out]");
        let mut dwm = self.weight.grad.view_mut().into_shape_with_order((k, co)).expect("weight grad");
        let mut dx = want_dx.then(|| Array4::<T>::zeros((n, h, w, ci)));
        if pointwise {
            if want_dw {
                let xm = x.view().into_shape_with_order((pixels, k)).expect("standard layout");
                gemm(T::one(), &xm.t(), &dym, T::one(), &mut dwm);
            }
            if let Some(dx) = dx.as_mut() {
                let mut dxm = dx.view_mut().into_shape_with_order((pixels, k)).expect("standard layout");
                gemm(T::one(), &dym, &wm.t(), T::zero(), &mut dxm);
            }
            return dx;
        }
        let geometry = Geometry { h, w, oh, ow, cin: ci, kernel: c.kernel, pad: c.padding };
        let rows_per_block = (BLOCK_ELEMENTS / k).max(1);
        let block = rows_per_block.min(pixels) * k;
        let mut cols = if want_dw { vec![T::zero(); block] } else { Vec::new() };
        let mut dcols = if want_dx { vec![T::zero(); block] } else { Vec::new() };
        let xs = x.as_slice().expect("cache input is standard layout");
        let mut start = 0;
        while start < pixels {
            let rows = rows_per_block.min(pixels - start);
            let dyblock = dym.slice(ndarray::s![start..start + rows, ..]);
            if want_dw {
                geometry.im2col(xs, start, rows, &mut cols[..rows * k]);
                let colm = ArrayView2::from_shape((rows, k), &cols[..rows * k]).expect("block fits");
                gemm(T::one(), &colm.t(), &dyblock, T::one(), &mut dwm);
            }
            if let Some(dx) = dx.as_mut() {
                let mut dcolm = ArrayViewMut2::from_shape((rows, k), &mut dcols[..rows * k]).expect("block fits");
                gemm(T::one(), &dyblock, &wm.t(), T::zero(), &mut dcolm);
                geometry.col2im(&dcols[..rows * k], start, rows, dx.as_slice_mut().expect("fresh array"));
            }
            start += rows;
        }
        dx
    }
}

thread_local! {
    /// The scratch of the allocating (training) paths: kept per thread, so that a training
    /// step's convolutions neither allocate nor zero their padded buffers each call. It
    /// holds nothing between calls (every kernel sizes and fills what it reads).
    static SCRATCH: std::cell::RefCell<Vec<f32>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Runs `f` with this thread's [`SCRATCH`] where `T` is `f32` (and it is free), else with
/// a fresh one.
fn with_scratch<T: 'static, R>(f: impl FnOnce(&mut Vec<T>) -> R) -> R {
    SCRATCH.with(|cell| match cell.try_borrow_mut() {
        Ok(mut kept) => match (&mut *kept as &mut dyn std::any::Any).downcast_mut::<Vec<T>>() {
            Some(scratch) => f(scratch),
            None => f(&mut Vec::new()),
        },
        Err(_) => f(&mut Vec::new()),
    })
}

/// Sizes that map output pixels to input patches (stride 1).
struct Geometry {
    h: usize,
    w: usize,
    oh: usize,
    ow: usize,
    cin: usize,
    kernel: usize,
    pad: usize,
}

impl Geometry {
    /// Input position of kernel tap `t` for output coordinate `o`, if inside the image.
    #[inline]
    fn source(o: usize, t: usize, pad: usize, size: usize) -> Option<usize> {
        let i = (o + t).checked_sub(pad)?;
        (i < size).then_some(i)
    }

    /// Fills `cols[rows, K*K*C_in]` with the patches of output pixels `start..start+rows`
    /// (flattened `(n, oy, ox)` order); taps outside the image are zero.
    fn im2col<T: Scalar>(&self, x: &[T], start: usize, rows: usize, cols: &mut [T]) {
        let (cin, k) = (self.cin, self.kernel);
        let row_len = k * k * cin;
        for r in 0..rows {
            let p = start + r;
            let (n, rem) = (p / (self.oh * self.ow), p % (self.oh * self.ow));
            let (oy, ox) = (rem / self.ow, rem % self.ow);
            let row = &mut cols[r * row_len..(r + 1) * row_len];
            for ky in 0..k {
                let seg = &mut row[ky * k * cin..(ky + 1) * k * cin];
                let Some(iy) = Self::source(oy, ky, self.pad, self.h) else {
                    seg.fill(T::zero());
                    continue;
                };
                for kx in 0..k {
                    let dst = &mut seg[kx * cin..(kx + 1) * cin];
                    match Self::source(ox, kx, self.pad, self.w) {
                        Some(ix) => {
                            let at = ((n * self.h + iy) * self.w + ix) * cin;
                            dst.copy_from_slice(&x[at..at + cin]);
                        }
                        None => dst.fill(T::zero()),
                    }
                }
            }
        }
    }

    /// Adds each patch gradient in `dcols` back onto the input positions it came from.
    fn col2im<T: Scalar>(&self, dcols: &[T], start: usize, rows: usize, dx: &mut [T]) {
        let (cin, k) = (self.cin, self.kernel);
        let row_len = k * k * cin;
        for r in 0..rows {
            let p = start + r;
            let (n, rem) = (p / (self.oh * self.ow), p % (self.oh * self.ow));
            let (oy, ox) = (rem / self.ow, rem % self.ow);
            let row = &dcols[r * row_len..(r + 1) * row_len];
            for ky in 0..k {
                let Some(iy) = Self::source(oy, ky, self.pad, self.h) else { continue };
                for kx in 0..k {
                    let Some(ix) = Self::source(ox, kx, self.pad, self.w) else { continue };
                    let at = ((n * self.h + iy) * self.w + ix) * cin;
                    let src = &row[(ky * k + kx) * cin..(ky * k + kx + 1) * cin];
                    for (d, s) in dx[at..at + cin].iter_mut().zip(src) {
                        *d += *s;
                    }
                }
            }
        }
    }
}

impl<T: Scalar> Module<T> for Conv2d<T> {
    fn visit(&mut self, prefix: &str, f: &mut dyn FnMut(&str, TensorMut<'_, T>)) {
        f(&join(prefix, "weight"), TensorMut::Param(&mut self.weight));
        f(&join(prefix, "bias"), TensorMut::Param(&mut self.bias));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gradcheck::{dot, input_error, param_error, random};

    /// Checks dx, dweight and dbias of one configuration against central differences.
    fn check(config: Conv2dConfig, input: [usize; 4]) {
        let mut rng = Rng::new(7);
        let mut conv = Conv2d::<f64>::new(config, &mut rng);
        conv.bias.value = random(ndarray::IxDyn(&[config.out_channels]), &mut rng);
        let x = random(ndarray::Dim(input), &mut rng);
        let (y, cache) = conv.forward(&x).unwrap();
        let probe = random(y.raw_dim(), &mut rng);
        let dx = conv.backward(&cache, probe.view());
        let loss = |c: &Conv2d<f64>, x: &Array4<f64>| dot(&c.forward(x).unwrap().0, &probe);
        assert!(input_error(&x, &dx, |x| loss(&conv, x)) < 1e-6, "dx of {config:?}");
        let dw = conv.weight.grad.clone();
        assert!(param_error(&conv, |c| &mut c.weight.value, &dw, |c| loss(c, &x)) < 1e-6, "dw of {config:?}");
        let db = conv.bias.grad.clone();
        assert!(param_error(&conv, |c| &mut c.bias.value, &db, |c| loss(c, &x)) < 1e-6, "db of {config:?}");
    }

    #[test]
    fn backward_matches_finite_differences() {
        check(Conv2dConfig::same(3, 4, 3), [2, 5, 6, 3]);
        check(Conv2dConfig::same(4, 2, 1), [2, 3, 4, 4]);
        check(Conv2dConfig { in_channels: 2, out_channels: 3, kernel: 3, padding: 0 }, [1, 5, 5, 2]);
    }

    #[test]
    fn blocks_cover_every_pixel() {
        // More pixels than one im2col block holds, so the block loop runs several times.
        let mut rng = Rng::new(3);
        let conv = Conv2d::<f64>::new(Conv2dConfig::same(64, 2, 3), &mut rng);
        let x = random(ndarray::Ix4(1, 40, 20, 64), &mut rng);
        let (y, _) = conv.forward(&x).unwrap();
        let (oy, ox) = (39, 19);
        let mut expected = 0.0;
        for ky in 0..3 {
            for kx in 0..3 {
                let (iy, ix) = (oy + ky, ox + kx);
                if iy < 1 || ix < 1 || iy > 40 || ix > 20 {
                    continue;
                }
                for c in 0..64 {
                    expected += x[[0, iy - 1, ix - 1, c]] * conv.weight.value[[ky, kx, c, 1]];
                }
            }
        }
        assert!((y[[0, oy, ox, 1]] - expected).abs() < 1e-9);
    }

    #[test]
    fn wrong_channel_count_is_an_error() {
        let conv = Conv2d::<f32>::new(Conv2dConfig::same(3, 4, 3), &mut Rng::new(0));
        let err = conv.forward(&Array4::zeros((1, 4, 4, 5))).unwrap_err();
        assert_eq!(err.to_string(), "conv2d input channels: expected shape [3], got [5]");
    }
}
