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
    add_channel_terms(0..x.len() / c, c, [&mut sums], |k| [x[k].to_f64().unwrap_or(0.0)]);
    sums
}

/// Pixels per block of [`add_channel_terms`]: each group of channels goes over a block's
/// rows while they are in L1.
pub(crate) const SUM_BLOCK: usize = 256;

/// `sums[n][i] += term(p * c + i)[n]` for every pixel `p` of `pixels` and channel `i < c`
/// (the element index of a `[pixels * C]` map), each channel's terms added in pixel order:
/// bit for bit the plain running sum. Four channels' sums are kept in registers at a time,
/// where a loop over each pixel's channels kept them in memory, a store-to-load chain per
/// element (a sixth of a CamVid training step, in batch norm's backward).
pub(crate) fn add_channel_terms<const N: usize>(pixels: std::ops::Range<usize>, c: usize, mut sums: [&mut [f64]; N], term: impl Fn(usize) -> [f64; N]) {
    let mut start = pixels.start;
    while start < pixels.end {
        let block = start..(start + SUM_BLOCK).min(pixels.end);
        let mut i = 0;
        while i + 4 <= c {
            add_group_terms::<N, 4>(block.clone(), c, i, &mut sums, &term);
            i += 4;
        }
        for i in i..c {
            add_group_terms::<N, 1>(block.clone(), c, i, &mut sums, &term);
        }
        start = block.end;
    }
}

/// [`add_channel_terms`] for the `G` channels from `first`.
#[inline(always)]
#[allow(clippy::needless_range_loop)] // `j` is the term's offset as well as the sums' index
fn add_group_terms<const N: usize, const G: usize>(
    pixels: std::ops::Range<usize>,
    c: usize,
    first: usize,
    sums: &mut [&mut [f64]; N],
    term: &impl Fn(usize) -> [f64; N],
) {
    let mut acc = [[0.0f64; G]; N];
    for (a, s) in acc.iter_mut().zip(sums.iter()) {
        a.copy_from_slice(&s[first..first + G]);
    }
    for p in pixels {
        let k = p * c + first;
        for j in 0..G {
            let t = term(k + j);
            for n in 0..N {
                acc[n][j] += t[n];
            }
        }
    }
    for (a, s) in acc.iter().zip(sums.iter_mut()) {
        s[first..first + G].copy_from_slice(a);
    }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    /// Blocked and grouped, the sums are still each channel's running sum in pixel order:
    /// equal bit for bit, over 1 to 11 channels (groups of 4 and the rest) and 700 pixels
    /// (three blocks, the last partial), also from a sub-range and onto non-zero sums.
    #[test]
    fn channel_terms_are_the_running_sums_bit_for_bit() {
        let mut rng = Rng::new(3);
        for c in 1..=11 {
            let x: Vec<f32> = (0..700 * c).map(|_| rng.uniform() as f32 * 2.0 - 1.0).collect();
            let y: Vec<f32> = (0..700 * c).map(|_| rng.uniform() as f32 * 1e3).collect();
            for pixels in [0..700, 3..517] {
                let (mut plain_x, mut plain_xy) = (vec![0.5f64; c], vec![-0.25f64; c]);
                for p in pixels.clone() {
                    for i in 0..c {
                        plain_x[i] += x[p * c + i] as f64;
                        plain_xy[i] += (x[p * c + i] * y[p * c + i]) as f64;
                    }
                }
                let (mut sum_x, mut sum_xy) = (vec![0.5f64; c], vec![-0.25f64; c]);
                add_channel_terms(pixels, c, [&mut sum_x, &mut sum_xy], |k| [x[k] as f64, (x[k] * y[k]) as f64]);
                let bits = |v: &[f64]| v.iter().map(|s| s.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(&sum_x), bits(&plain_x), "{c} channels");
                assert_eq!(bits(&sum_xy), bits(&plain_xy), "{c} channels");
            }
            let plain: Vec<f64> = (0..c).map(|i| (0..700).fold(0.0, |s, p| s + x[p * c + i] as f64)).collect();
            assert_eq!(channel_sums(&x, c), plain);
        }
    }
}
