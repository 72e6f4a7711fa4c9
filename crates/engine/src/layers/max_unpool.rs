//! Max unpooling (PyTorch `F.max_unpool2d(x, indices, 2)`): each value goes back to the
//! position its pooling recorded; every other position of the 2x-larger map is zero.
//! Nothing is invented: where the maximum was is known, what surrounded it is gone.

use crate::error::{check_shape, Result};
use crate::Scalar;
use ndarray::{Array4, ArrayView4, ArrayViewMut4};

/// Writes the unpooled map into `y` (`[N, H_out, W_out, C]`, the pre-pooling size) from
/// `x` and `indices` (both `[N, H, W, C]`, indices as in [`max_pool`](super::max_pool)).
///
/// # Shapes
/// - x, indices: `[N, H, W, C]`
/// - y: `[N, H_out, W_out, C]`, overwritten
pub fn forward_into<T: Scalar>(x: ArrayView4<T>, indices: ArrayView4<u32>, mut y: ArrayViewMut4<T>) {
    let (x, indices) = (x.as_standard_layout(), indices.as_standard_layout());
    let (n, h, w, c) = x.dim();
    let (_, h_out, w_out, _) = y.dim();
    y.fill(T::zero());
    let (xs, is) = (x.as_slice().expect("standard layout"), indices.as_slice().expect("standard layout"));
    let ys = y.as_slice_mut().expect("output is standard layout");
    for b in 0..n {
        let plane_in = b * h * w * c;
        let plane_out = b * h_out * w_out * c;
        for p in 0..h * w {
            for ch in 0..c {
                let i = plane_in + p * c + ch;
                ys[plane_out + is[i] as usize * c + ch] = xs[i];
            }
        }
    }
}

/// Allocating forward. `output_shape` is the shape of the map that was pooled.
///
/// # Shapes
/// - x, indices: `[N, H, W, C]`
/// - returns: `output_shape`, `[N, H_out, W_out, C]`
pub fn forward<T: Scalar>(x: &Array4<T>, indices: &Array4<u32>, output_shape: [usize; 4]) -> Result<Array4<T>> {
    check_shape("max_unpool indices", x.shape(), indices.shape())?;
    let [n, h, w, c] = output_shape;
    check_shape("max_unpool input", &[n, h / 2, w / 2, c], x.shape())?;
    let mut y = Array4::zeros(output_shape);
    forward_into(x.view(), indices.view(), y.view_mut());
    Ok(y)
}

/// `dx[n, i, j, c] = dy` at the recorded position: the gradient flows back only through
/// the positions that received a value.
///
/// # Shapes
/// - indices: `[N, H, W, C]`
/// - dy: `[N, H_out, W_out, C]`
/// - returns: dx `[N, H, W, C]`
pub fn backward<T: Scalar>(indices: ArrayView4<u32>, dy: ArrayView4<T>) -> Array4<T> {
    let w_out = dy.dim().2;
    Array4::from_shape_fn(indices.dim(), |(b, iy, ix, ch)| {
        let at = indices[[b, iy, ix, ch]] as usize;
        dy[[b, at / w_out, at % w_out, ch]]
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gradcheck::{dot, input_error, random};
    use crate::layers::max_pool;
    use crate::rng::Rng;

    #[test]
    fn puts_values_back_where_the_maximum_was() {
        let plane = [[1., 5., 0., 2.], [3., 4., 1., 9.], [0., 2., 7., 6.], [8., 1., 7., 7.]];
        let x = Array4::from_shape_fn((1, 4, 4, 1), |(_, i, j, _)| plane[i][j]);
        let (pooled, idx) = max_pool::forward(&x).unwrap();
        let y = forward(&pooled, &idx, [1, 4, 4, 1]).unwrap();
        let expected = [[0., 5., 0., 0.], [0., 0., 0., 9.], [0., 0., 7., 0.], [8., 0., 0., 0.]];
        assert_eq!(y, Array4::from_shape_fn((1, 4, 4, 1), |(_, i, j, _)| expected[i][j]));
    }

    #[test]
    fn backward_matches_finite_differences() {
        let mut rng = Rng::new(9);
        let (_, idx) = max_pool::forward(&random(ndarray::Ix4(2, 4, 4, 3), &mut rng)).unwrap();
        let x = random(ndarray::Ix4(2, 2, 2, 3), &mut rng);
        let probe = random(ndarray::Ix4(2, 4, 4, 3), &mut rng);
        let dx = backward(idx.view(), probe.view());
        let loss = |x: &Array4<f64>| dot(&forward(x, &idx, [2, 4, 4, 3]).unwrap(), &probe);
        assert!(input_error(&x, &dx, loss) < 1e-6);
    }
}
