//! Rectified linear unit, `y = max(x, 0)`, in place on the inference path.

use crate::Scalar;
use ndarray::{Array4, ArrayView4, ArrayViewMut4, Zip};

/// Replaces every negative value of `x` by zero.
///
/// # Shapes
/// - x: `[N, H, W, C]`, in place
pub fn forward_inplace<T: Scalar>(mut x: ArrayViewMut4<T>) {
    x.mapv_inplace(|v| if v > T::zero() { v } else { T::zero() });
}

/// `dx = dy` where the output was positive, else 0. `output` is the forward's result
/// (the cache: positive output and positive input are the same pixels).
///
/// # Shapes
/// - output, dy: `[N, H, W, C]`
/// - returns: dx `[N, H, W, C]`
pub fn backward<T: Scalar>(output: ArrayView4<T>, dy: ArrayView4<T>) -> Array4<T> {
    let mut dx = dy.to_owned();
    Zip::from(&mut dx).and(&output).for_each(|d, &y| {
        if y <= T::zero() {
            *d = T::zero();
        }
    });
    dx
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gradcheck::{dot, input_error, random};
    use crate::rng::Rng;

    #[test]
    fn backward_matches_finite_differences() {
        let mut rng = Rng::new(2);
        let x = random(ndarray::Ix4(2, 3, 3, 4), &mut rng);
        let relu = |x: &Array4<f64>| {
            let mut y = x.clone();
            forward_inplace(y.view_mut());
            y
        };
        let probe = random(x.raw_dim(), &mut rng);
        let dx = backward(relu(&x).view(), probe.view());
        assert!(input_error(&x, &dx, |x| dot(&relu(x), &probe)) < 1e-6);
    }
}
