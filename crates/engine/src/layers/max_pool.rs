//! 2x2 max pooling with stride 2 that records where each maximum came from
//! (PyTorch `F.max_pool2d(x, 2, return_indices=True)`).
//!
//! Index encoding: `y * W_in + x`, the flat position of the maximum inside its input
//! plane `(n, c)`; ties go to the first maximum in row-major window order. These are the
//! "switches" that [`max_unpool`](super::max_unpool) consumes.

use crate::error::{EngineError, Result};
use crate::Scalar;
use ndarray::{Array4, ArrayView4, ArrayViewMut4};

/// The output shape for an input shape, or an error for odd sides.
///
/// # Shapes
/// - input: `[N, H, W, C]`, `H` and `W` even
/// - returns: `[N, H/2, W/2, C]`
pub fn output_shape(input: [usize; 4]) -> Result<[usize; 4]> {
    let [n, h, w, c] = input;
    if h % 2 != 0 || w % 2 != 0 || h == 0 || w == 0 {
        return Err(EngineError::Config(format!("max_pool 2x2 needs an even, non-empty height and width, got {h}x{w}")));
    }
    Ok([n, h / 2, w / 2, c])
}

/// Writes the pooled map into `y` and the argmax positions into `indices` (both `[N, H/2, W/2, C]`).
///
/// # Shapes
/// - x: `[N, H, W, C]`
/// - y, indices: `[N, H/2, W/2, C]`, overwritten
pub fn forward_into<T: Scalar>(x: ArrayView4<T>, mut y: ArrayViewMut4<T>, mut indices: ArrayViewMut4<u32>) {
    let x = x.as_standard_layout();
    let (n, _, w, c) = x.dim();
    let (_, oh, ow, _) = y.dim();
    let xs = x.as_slice().expect("standard layout");
    let ys = y.as_slice_mut().expect("output is standard layout");
    let is = indices.as_slice_mut().expect("indices are standard layout");
    let row = w * c;
    for b in 0..n {
        for oy in 0..oh {
            let top = (b * 2 * oh + 2 * oy) * row;
            for ox in 0..ow {
                let out = ((b * oh + oy) * ow + ox) * c;
                let taps = [top + 2 * ox * c, top + (2 * ox + 1) * c, top + row + 2 * ox * c, top + row + (2 * ox + 1) * c];
                let positions = [2 * oy * w + 2 * ox, 2 * oy * w + 2 * ox + 1, (2 * oy + 1) * w + 2 * ox, (2 * oy + 1) * w + 2 * ox + 1];
                for ch in 0..c {
                    let mut best = xs[taps[0] + ch];
                    let mut at = positions[0];
                    for t in 1..4 {
                        let v = xs[taps[t] + ch];
                        if v > best || v.is_nan() {
                            best = v;
                            at = positions[t];
                        }
                    }
                    ys[out + ch] = best;
                    is[out + ch] = at as u32;
                }
            }
        }
    }
}

/// Allocating forward: the pooled map and its indices.
///
/// # Shapes
/// - x: `[N, H, W, C]`
/// - returns: `[N, H/2, W/2, C]` twice: the pooled map and its indices
pub fn forward<T: Scalar>(x: &Array4<T>) -> Result<(Array4<T>, Array4<u32>)> {
    let shape = output_shape(super::dims(&x.view()))?;
    let mut y = Array4::zeros(shape);
    let mut indices = Array4::zeros(shape);
    forward_into(x.view(), y.view_mut(), indices.view_mut());
    Ok((y, indices))
}

/// Routes each output gradient to the input position that won: `dx` has `input_shape`.
///
/// # Shapes
/// - indices, dy: `[N, H/2, W/2, C]`
/// - input_shape: `[N, H, W, C]`
/// - returns: dx `input_shape`
pub fn backward<T: Scalar>(indices: ArrayView4<u32>, dy: ArrayView4<T>, input_shape: [usize; 4]) -> Array4<T> {
    let mut dx = Array4::zeros(input_shape);
    let w = input_shape[2];
    for ((b, oy, ox, ch), &g) in dy.indexed_iter() {
        let at = indices[[b, oy, ox, ch]] as usize;
        dx[[b, at / w, at % w, ch]] += g;
    }
    dx
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gradcheck::{dot, input_error, random};
    use crate::rng::Rng;

    #[test]
    fn picks_maximum_and_records_its_position() {
        // One 4x4 plane; maxima at (0,1), (1,3), (3,0), and a tie in the last window.
        let plane = [[1., 5., 0., 2.], [3., 4., 1., 9.], [0., 2., 7., 7.], [8., 1., 7., 7.]];
        let x = Array4::from_shape_fn((1, 4, 4, 1), |(_, i, j, _)| plane[i][j]);
        let (y, idx) = forward(&x).unwrap();
        assert_eq!(y.iter().copied().collect::<Vec<f64>>(), vec![5., 9., 8., 7.]);
        assert_eq!(idx.iter().copied().collect::<Vec<u32>>(), vec![1, 7, 12, 10]);
    }

    #[test]
    fn backward_matches_finite_differences() {
        let mut rng = Rng::new(5);
        let x = random(ndarray::Ix4(2, 4, 6, 3), &mut rng);
        let (y, idx) = forward(&x).unwrap();
        let probe = random(y.raw_dim(), &mut rng);
        let dx = backward(idx.view(), probe.view(), [2, 4, 6, 3]);
        assert!(input_error(&x, &dx, |x| dot(&forward(x).unwrap().0, &probe)) < 1e-6);
    }

    #[test]
    fn odd_size_is_an_error() {
        assert!(forward(&Array4::<f32>::zeros((1, 3, 4, 1))).is_err());
    }
}
