//! Fusing the skip into the decoder: **add** (FCN: the skip, after a 1x1 projection, is
//! summed into the upsampled map) or **concat** (U-Net: the skip is stacked on as extra
//! channels, and the next convolution learns how to mix them).

use crate::error::{check_shape, Result};
use crate::Scalar;
use ndarray::{s, Array4, ArrayView4, ArrayViewMut4};

/// `y = a + b`; `a`, `b`, `y` all `[N, H, W, C]`.
///
/// # Shapes
/// - a, b: `[N, H, W, C]`
/// - y: `[N, H, W, C]`, overwritten
pub fn add_into<T: Scalar>(a: ArrayView4<T>, b: ArrayView4<T>, mut y: ArrayViewMut4<T>) {
    ndarray::Zip::from(&mut y).and(&a).and(&b).for_each(|y, &a, &b| *y = a + b);
}

/// # Shapes
/// - a, b: `[N, H, W, C]`
/// - returns: `[N, H, W, C]`
pub fn add<T: Scalar>(a: &Array4<T>, b: &Array4<T>) -> Result<Array4<T>> {
    check_shape("add: second operand", a.shape(), b.shape())?;
    Ok(a + b)
}

/// `y = [a | b]` along channels: `a` `[N, H, W, Ca]`, `b` `[N, H, W, Cb]` -> `[N, H, W, Ca + Cb]`.
///
/// # Shapes
/// - a: `[N, H, W, Ca]`, b: `[N, H, W, Cb]`
/// - y: `[N, H, W, Ca + Cb]`, overwritten
pub fn concat_into<T: Scalar>(a: ArrayView4<T>, b: ArrayView4<T>, mut y: ArrayViewMut4<T>) {
    let ca = a.dim().3;
    y.slice_mut(s![.., .., .., ..ca]).assign(&a);
    y.slice_mut(s![.., .., .., ca..]).assign(&b);
}

/// # Shapes
/// - a: `[N, H, W, Ca]`, b: `[N, H, W, Cb]`
/// - returns: `[N, H, W, Ca + Cb]`
pub fn concat<T: Scalar>(a: &Array4<T>, b: &Array4<T>) -> Result<Array4<T>> {
    let (n, h, w, _) = a.dim();
    check_shape("concat: second operand (batch, height, width)", &[n, h, w], &b.shape()[..3])?;
    let mut y = Array4::zeros((n, h, w, a.dim().3 + b.dim().3));
    concat_into(a.view(), b.view(), y.view_mut());
    Ok(y)
}

/// Splits the gradient of a concatenation back into `(da, db)`; `ca` is `a`'s channel count.
///
/// # Shapes
/// - dy: `[N, H, W, Ca + Cb]`
/// - returns: `[N, H, W, Ca]` and `[N, H, W, Cb]`
pub fn concat_backward<T: Scalar>(dy: ArrayView4<T>, ca: usize) -> (Array4<T>, Array4<T>) {
    (dy.slice(s![.., .., .., ..ca]).to_owned(), dy.slice(s![.., .., .., ca..]).to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gradcheck::{dot, input_error, random};
    use crate::rng::Rng;

    #[test]
    fn concat_backward_matches_finite_differences() {
        let mut rng = Rng::new(6);
        let a = random(ndarray::Ix4(2, 3, 3, 2), &mut rng);
        let b = random(ndarray::Ix4(2, 3, 3, 3), &mut rng);
        let probe = random(ndarray::Ix4(2, 3, 3, 5), &mut rng);
        let (da, db) = concat_backward(probe.view(), 2);
        assert!(input_error(&a, &da, |a| dot(&concat(a, &b).unwrap(), &probe)) < 1e-6);
        assert!(input_error(&b, &db, |b| dot(&concat(&a, b).unwrap(), &probe)) < 1e-6);
    }

    #[test]
    fn mismatched_operands_are_errors() {
        let a = Array4::<f32>::zeros((1, 4, 4, 2));
        assert!(add(&a, &Array4::zeros((1, 4, 4, 3))).is_err());
        assert!(concat(&a, &Array4::zeros((1, 2, 4, 3))).is_err());
        assert_eq!(concat(&a, &Array4::zeros((1, 4, 4, 3))).unwrap().dim(), (1, 4, 4, 5));
    }
}
