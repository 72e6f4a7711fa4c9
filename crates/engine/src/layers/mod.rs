//! One file per layer family. Each holds its config, forward, backward and unit tests.
//!
//! Contract shared by all layers:
//! - activations are `[N, H, W, C]` arrays in standard layout (see the crate docs);
//! - `forward_into` writes into a caller-provided output (the allocation-free inference
//!   path); `forward` allocates its output and returns the cache its `backward` needs;
//! - `backward` returns the gradient of the input and *accumulates* parameter gradients.

pub mod batch_norm;
pub mod conv2d;
pub mod conv_transpose2d;
mod direct;
pub mod fuse;
pub mod loss;
pub mod max_pool;
pub mod max_unpool;
pub mod relu;
pub mod upsample_bilinear;

use crate::Scalar;
use ndarray::{Array4, ArrayView2, ArrayView4, ArrayViewMut2};

/// Elements of one im2col / col2im block: big enough to amortise GEMM packing, small
/// enough to stay in cache (512 KiB of f32; 2^15..2^18 measured alike, 2^20 slower).
pub(crate) const BLOCK_ELEMENTS: usize = 1 << 17;

/// Grows `scratch` to at least `len` elements, never shrinking it: layers that share one
/// scratch then zero-fill it once, not each time a larger layer follows a smaller one.
pub(crate) fn grow_scratch<T: Clone + Default>(scratch: &mut Vec<T>, len: usize) {
    if scratch.len() < len {
        scratch.resize(len, T::default());
    }
}

/// `c = alpha * a @ b + beta * c` with ndarray's GEMM (matrixmultiply's sgemm/dgemm).
pub(crate) fn gemm<T: Scalar>(alpha: T, a: &ArrayView2<T>, b: &ArrayView2<T>, beta: T, c: &mut ArrayViewMut2<T>) {
    ndarray::linalg::general_mat_mul(alpha, a, b, beta, c);
}

/// `a` itself when already in standard layout, else a standard-layout copy.
pub(crate) fn into_standard_layout<T: Clone>(a: Array4<T>) -> Array4<T> {
    if a.is_standard_layout() {
        a
    } else {
        a.as_standard_layout().into_owned()
    }
}

/// The shape of an activation as an array.
pub(crate) fn dims<T>(x: &ArrayView4<T>) -> [usize; 4] {
    let d = x.dim();
    [d.0, d.1, d.2, d.3]
}

/// Per-channel sums of `x` flattened `[pixels * C]`, accumulated in f64.
pub(crate) fn channel_sums<T: Scalar>(x: &[T], c: usize) -> Vec<f64> {
    let mut sums = vec![0.0f64; c];
    for px in x.chunks_exact(c) {
        for (s, &v) in sums.iter_mut().zip(px) {
            *s += v.to_f64().unwrap_or(0.0);
        }
    }
    sums
}

/// `sums[c] += sum over pixels of x[pixel, c]`, for `x` flattened `[pixels * C]`.
pub(crate) fn add_channel_sums<T: Scalar>(x: &[T], sums: &mut [T]) {
    let totals = channel_sums(x, sums.len());
    for (s, t) in sums.iter_mut().zip(totals) {
        *s += T::of(t);
    }
}

/// `s` as `&[f32]`; only called where `T` is `f32` (a scratch downcast to `Vec<f32>` succeeded).
pub(crate) fn as_f32<T: Scalar>(s: &[T]) -> &[f32] {
    assert_eq!(std::any::TypeId::of::<T>(), std::any::TypeId::of::<f32>());
    // SAFETY: T is f32 (checked above), so the slice's memory is `len` f32 values.
    unsafe { std::slice::from_raw_parts(s.as_ptr().cast(), s.len()) }
}

/// `s` as `&mut [f32]`; only called where `T` is `f32`.
pub(crate) fn as_f32_mut<T: Scalar>(s: &mut [T]) -> &mut [f32] {
    assert_eq!(std::any::TypeId::of::<T>(), std::any::TypeId::of::<f32>());
    // SAFETY: T is f32 (checked above), so the slice's memory is `len` f32 values.
    unsafe { std::slice::from_raw_parts_mut(s.as_mut_ptr().cast(), s.len()) }
}
