//! Bilinear resizing with `align_corners=False` (PyTorch
//! `F.interpolate(x, size=(OH, OW), mode="bilinear", align_corners=False)`): the fixed,
//! unlearned x2 upsampler of the decoder, also used to bring scores to full resolution.
//!
//! Output pixel `o` samples the input at `max((o + 0.5) * in / out - 0.5, 0)`.

use crate::Scalar;
use ndarray::{Array4, ArrayView4, ArrayViewMut4};

/// For each output coordinate: the two input taps and their weights.
#[derive(Clone, Copy, Debug)]
struct Taps {
    lo: usize,
    hi: usize,
    w_lo: f64,
    w_hi: f64,
}

/// The taps of output coordinate `o` when resizing `input` samples to `out`.
fn tap(o: usize, out: usize, input: usize) -> Taps {
    let scale = input as f64 / out as f64;
    let src = ((o as f64 + 0.5) * scale - 0.5).max(0.0);
    let lo = (src as usize).min(input - 1);
    let hi = if lo + 1 < input { lo + 1 } else { lo };
    let w_hi = src - lo as f64;
    Taps { lo, hi, w_lo: 1.0 - w_hi, w_hi }
}

/// Resizes `x` `[N, H, W, C]` into `y` `[N, OH, OW, C]`.
///
/// # Shapes
/// - x: `[N, H, W, C]`
/// - y: `[N, H_out, W_out, C]`, overwritten
pub fn forward_into<T: Scalar>(x: ArrayView4<T>, mut y: ArrayViewMut4<T>) {
    let x = x.as_standard_layout();
    let (n, h, w, c) = x.dim();
    let (_, oh, ow, _) = y.dim();
    let xs = x.as_slice().expect("standard layout");
    let ys = y.as_slice_mut().expect("output is standard layout");
    for b in 0..n {
        let at = |iy: usize, ix: usize| ((b * h + iy) * w + ix) * c;
        for oy in 0..oh {
            let ry = tap(oy, oh, h);
            for ox in 0..ow {
                let rx = tap(ox, ow, w);
                let corners = [
                    (at(ry.lo, rx.lo), T::of(ry.w_lo * rx.w_lo)),
                    (at(ry.lo, rx.hi), T::of(ry.w_lo * rx.w_hi)),
                    (at(ry.hi, rx.lo), T::of(ry.w_hi * rx.w_lo)),
                    (at(ry.hi, rx.hi), T::of(ry.w_hi * rx.w_hi)),
                ];
                let out = &mut ys[((b * oh + oy) * ow + ox) * c..][..c];
                let [(a, wa), (b_, wb), (c_, wc), (d, wd)] = corners;
                let (xa, xb, xc, xd) = (&xs[a..a + c], &xs[b_..b_ + c], &xs[c_..c_ + c], &xs[d..d + c]);
                for ch in 0..c {
                    out[ch] = wa * xa[ch] + wb * xb[ch] + wc * xc[ch] + wd * xd[ch];
                }
            }
        }
    }
}

/// Allocating forward to `(out_h, out_w)`.
///
/// # Shapes
/// - x: `[N, H, W, C]`
/// - returns: `[N, out_h, out_w, C]`
pub fn forward<T: Scalar>(x: &Array4<T>, out_h: usize, out_w: usize) -> Array4<T> {
    let (n, _, _, c) = x.dim();
    let mut y = Array4::zeros((n, out_h, out_w, c));
    forward_into(x.view(), y.view_mut());
    y
}

/// Spreads each output gradient back onto its four input taps; `input_shape` is `x`'s.
///
/// # Shapes
/// - dy: `[N, H_out, W_out, C]`
/// - input_shape: `[N, H, W, C]`
/// - returns: dx `input_shape`
pub fn backward<T: Scalar>(dy: ArrayView4<T>, input_shape: [usize; 4]) -> Array4<T> {
    let [n, h, w, c] = input_shape;
    let (_, oh, ow, _) = dy.dim();
    let mut dx = Array4::zeros(input_shape);
    for b in 0..n {
        for oy in 0..oh {
            let ry = tap(oy, oh, h);
            for ox in 0..ow {
                let rx = tap(ox, ow, w);
                for ch in 0..c {
                    let g = dy[[b, oy, ox, ch]];
                    dx[[b, ry.lo, rx.lo, ch]] += T::of(ry.w_lo * rx.w_lo) * g;
                    dx[[b, ry.lo, rx.hi, ch]] += T::of(ry.w_lo * rx.w_hi) * g;
                    dx[[b, ry.hi, rx.lo, ch]] += T::of(ry.w_hi * rx.w_lo) * g;
                    dx[[b, ry.hi, rx.hi, ch]] += T::of(ry.w_hi * rx.w_hi) * g;
                }
            }
        }
    }
    dx
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gradcheck::{dot, input_error, random};
    use crate::rng::Rng;

    #[test]
    fn backward_matches_finite_differences() {
        let mut rng = Rng::new(4);
        let x = random(ndarray::Ix4(2, 3, 4, 2), &mut rng);
        let probe = random(ndarray::Ix4(2, 6, 8, 2), &mut rng);
        let dx = backward(probe.view(), [2, 3, 4, 2]);
        assert!(input_error(&x, &dx, |x| dot(&forward(x, 6, 8), &probe)) < 1e-6);
    }

    #[test]
    fn edges_clamp_and_interior_interpolates() {
        let x = Array4::from_shape_fn((1, 1, 2, 1), |(_, _, j, _)| [0.0, 4.0][j]);
        let y = forward(&x, 1, 4);
        assert_eq!(y.iter().copied().collect::<Vec<f64>>(), vec![0.0, 1.0, 3.0, 4.0]);
    }
}
