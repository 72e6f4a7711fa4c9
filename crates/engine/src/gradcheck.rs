//! Central finite differences in f64, to verify every backward pass.

use crate::rng::Rng;
use ndarray::{Array, Dimension};

/// Step for central differences in f64.
pub const EPS: f64 = 1e-6;

/// Numerical gradient of `loss` at each index in `indices`: `loss(i, d)` evaluates the
/// loss with element `i` of the checked tensor moved by `d`.
pub fn central_difference(indices: &[usize], mut loss: impl FnMut(usize, f64) -> f64) -> Vec<f64> {
    indices.iter().map(|&i| (loss(i, EPS) - loss(i, -EPS)) / (2.0 * EPS)).collect()
}

/// Largest `|a - n| / max(|a| + |n|, 1e-6)` over the pairs: the relative error, with an
/// absolute floor above the round-off of central differences (about `1e-16 / EPS`), so
/// that two near-zero numbers compare as equal.
pub fn max_relative_error(analytic: &[f64], numeric: &[f64]) -> f64 {
    assert_eq!(analytic.len(), numeric.len());
    analytic.iter().zip(numeric).map(|(a, n)| (a - n).abs() / (a.abs() + n.abs()).max(1e-6)).fold(0.0, f64::max)
}

/// A random array with entries from the standard normal.
pub fn random<D: Dimension>(shape: D, rng: &mut Rng) -> Array<f64, D> {
    Array::from_shape_simple_fn(shape, || rng.normal())
}

/// Up to `count` distinct indices below `len`, spread evenly (all of them if `len <= count`).
pub fn sample_indices(len: usize, count: usize) -> Vec<usize> {
    if len <= count {
        return (0..len).collect();
    }
    (0..count).map(|i| i * len / count).collect()
}

/// `sum(y * probe)`: a scalar loss whose gradient with respect to `y` is `probe`.
pub fn dot<D: Dimension>(y: &Array<f64, D>, probe: &Array<f64, D>) -> f64 {
    y.iter().zip(probe.iter()).map(|(a, b)| a * b).sum()
}

/// Relative error between `analytic` (the gradient of `loss` at `x`) and central differences,
/// over up to 48 sampled elements of `x`.
pub fn input_error<D: Dimension>(x: &Array<f64, D>, analytic: &Array<f64, D>, loss: impl Fn(&Array<f64, D>) -> f64) -> f64 {
    let indices = sample_indices(x.len(), 48);
    let numeric = central_difference(&indices, |i, d| {
        let mut moved = x.clone();
        moved.as_slice_mut().expect("standard layout")[i] += d;
        loss(&moved)
    });
    let analytic = analytic.as_slice().expect("standard layout");
    let picked: Vec<f64> = indices.iter().map(|&i| analytic[i]).collect();
    max_relative_error(&picked, &numeric)
}

/// Relative error between `analytic` (the gradient of `loss` with respect to the tensor
/// that `tensor` selects inside `layer`) and central differences on a clone of `layer`.
pub fn param_error<L: Clone>(
    layer: &L,
    tensor: impl Fn(&mut L) -> &mut ndarray::ArrayD<f64>,
    analytic: &ndarray::ArrayD<f64>,
    loss: impl Fn(&L) -> f64,
) -> f64 {
    let indices = sample_indices(analytic.len(), 48);
    let numeric = central_difference(&indices, |i, d| {
        let mut moved = layer.clone();
        tensor(&mut moved).as_slice_mut().expect("standard layout")[i] += d;
        loss(&moved)
    });
    let analytic = analytic.as_slice().expect("standard layout");
    let picked: Vec<f64> = indices.iter().map(|&i| analytic[i]).collect();
    max_relative_error(&picked, &numeric)
}
