//! Batch normalisation over `N, H, W` per channel (PyTorch `nn.BatchNorm2d`, `eps = 1e-5`,
//! `momentum = 0.1`).
//!
//! Training normalises with the batch statistics (biased variance) and updates the running
//! averages (unbiased variance). Inference uses the running averages; for inference the
//! layer is folded into the preceding convolution ([`BatchNorm::fold_into`]) and vanishes.

use super::conv2d::Conv2d;
use crate::param::{join, Module, Param, TensorMut};
use crate::Scalar;
use ndarray::{Array1, Array4, ArrayD, ArrayViewMut4};

pub const EPS: f64 = 1e-5;
pub const MOMENTUM: f64 = 0.1;

/// `gamma` (`weight`), `beta` (`bias`), `running_mean`, `running_var`: all `[C]`.
#[derive(Clone, Debug)]
pub struct BatchNorm<T> {
    pub gamma: Param<T>,
    pub beta: Param<T>,
    pub running_mean: ArrayD<T>,
    pub running_var: ArrayD<T>,
}

/// What backward needs: the normalised input `[N, H, W, C]` and `1 / sqrt(var + eps)` `[C]`.
pub struct BatchNormCache<T> {
    pub normalized: Array4<T>,
    pub inv_std: Array1<T>,
}

impl<T: Scalar> BatchNorm<T> {
    /// The identity at start: `gamma = 1`, `beta = 0`, running mean 0 and variance 1.
    pub fn new(channels: usize) -> Self {
        Self {
            gamma: Param::new(ArrayD::ones(vec![channels])),
            beta: Param::zeros(&[channels]),
            running_mean: ArrayD::zeros(vec![channels]),
            running_var: ArrayD::ones(vec![channels]),
        }
    }

    pub fn channels(&self) -> usize {
        self.gamma.value.len()
    }

    fn slice(a: &ArrayD<T>) -> &[T] {
        a.as_slice().expect("batch-norm tensors are contiguous [C]")
    }

    /// Per-channel mean and biased variance of `x` (`[pixels * C]`, channels innermost),
    /// accumulated in f64 (a map holds hundreds of thousands of pixels).
    fn statistics(x: &[T], c: usize) -> (Vec<T>, Vec<T>) {
        let count = (x.len() / c) as f64;
        let mean = super::channel_sums(x, c).into_iter().map(|s| s / count).collect::<Vec<f64>>();
        let mut var = vec![0.0f64; c];
        for px in x.chunks_exact(c) {
            for ((s, &v), &m) in var.iter_mut().zip(px).zip(&mean) {
                let d = v.to_f64().unwrap_or(0.0) - m;
                *s += d * d;
            }
        }
        (mean.into_iter().map(T::of).collect(), var.into_iter().map(|s| T::of(s / count)).collect())
    }

    /// `x <- x * scale + shift` per channel, in place on `[pixels * C]`.
    fn affine(x: &mut [T], scale: &[T], shift: &[T]) {
        for px in x.chunks_exact_mut(scale.len()) {
            for ((v, &a), &b) in px.iter_mut().zip(scale).zip(shift) {
                *v = *v * a + b;
            }
        }
    }

    /// Training forward: normalises `x` `[N, H, W, C]` with its own statistics and moves
    /// the running averages towards them.
    /// `x` is normalised in place and becomes the cache's `normalized`.
    ///
    /// # Shapes
    /// - x: `[N, H, W, C]`
    /// - returns: `[N, H, W, C]` and the cache
    pub fn forward_train(&mut self, x: Array4<T>) -> (Array4<T>, BatchNormCache<T>) {
        let c = self.channels();
        let mut normalized = super::into_standard_layout(x);
        let xs = normalized.as_slice_mut().expect("standard layout");
        let count = xs.len() / c;
        let (mean, var) = Self::statistics(xs, c);
        let inv_std: Vec<T> = var.iter().map(|&v| T::one() / (v + T::of(EPS)).sqrt()).collect();
        let shift: Vec<T> = mean.iter().zip(&inv_std).map(|(&m, &s)| -m * s).collect();
        Self::affine(xs, &inv_std, &shift);
        let mut y = normalized.clone();
        Self::affine(y.as_slice_mut().expect("standard layout"), Self::slice(&self.gamma.value), Self::slice(&self.beta.value));
        let m = T::of(MOMENTUM);
        let unbiased = T::of(count as f64 / (count.max(2) - 1) as f64);
        for i in 0..c {
            self.running_mean[i] = (T::one() - m) * self.running_mean[i] + m * mean[i];
            self.running_var[i] = (T::one() - m) * self.running_var[i] + m * var[i] * unbiased;
        }
        (y, BatchNormCache { normalized, inv_std: Array1::from(inv_std) })
    }

    /// Inference forward with the running statistics, in place.
    ///
    /// # Shapes
    /// - x: `[N, H, W, C]`, normalised in place
    pub fn forward_eval_inplace(&self, mut x: ArrayViewMut4<T>) {
        let c = self.channels();
        let (gamma, beta) = (Self::slice(&self.gamma.value), Self::slice(&self.beta.value));
        let (mean, var) = (Self::slice(&self.running_mean), Self::slice(&self.running_var));
        let scale: Vec<T> = (0..c).map(|i| gamma[i] / (var[i] + T::of(EPS)).sqrt()).collect();
        let shift: Vec<T> = (0..c).map(|i| beta[i] - mean[i] * scale[i]).collect();
        Self::affine(x.as_slice_mut().expect("standard layout"), &scale, &shift);
    }

    /// Accumulates `gamma` and `beta` gradients and returns `dx`, computed in the memory
    /// of `dy`: `dx = inv_std / M * (M * g - sum(g) - x_hat * sum(g * x_hat))` with `g = dy * gamma`.
    ///
    /// # Shapes
    /// - dy: `[N, H, W, C]`
    /// - returns: dx `[N, H, W, C]`
    pub fn backward(&mut self, cache: &BatchNormCache<T>, dy: Array4<T>) -> Array4<T> {
        let c = self.channels();
        let mut dy = super::into_standard_layout(dy);
        let dys = dy.as_slice().expect("standard layout");
        let xhat = cache.normalized.as_slice().expect("standard layout");
        let (mut sum_dy, mut sum_dy_xhat) = (vec![0.0f64; c], vec![0.0f64; c]);
        super::add_channel_terms(0..dys.len() / c, c, [&mut sum_dy, &mut sum_dy_xhat], |k| {
            [dys[k].to_f64().unwrap_or(0.0), (dys[k] * xhat[k]).to_f64().unwrap_or(0.0)]
        });
        let sum_dy: Vec<T> = sum_dy.into_iter().map(T::of).collect();
        let sum_dy_xhat: Vec<T> = sum_dy_xhat.into_iter().map(T::of).collect();
        self.input_gradient(cache, &mut dy, &sum_dy, &sum_dy_xhat);
        dy
    }

    /// Zeroes `dy` where the ReLU that follows this layer had a non-positive (or NaN) input,
    /// that is where `x_hat * gamma + beta > 0` fails: the same expression, in the same order, as
    /// [`Self::forward_train`], so the ReLU's output need not be kept.
    ///
    /// # Shapes
    /// - dy: `[N, H, W, C]`
    /// - returns: `[N, H, W, C]`
    #[allow(clippy::neg_cmp_op_on_partial_ord)] // a NaN input must count as non-positive
    pub fn relu_backward(&self, cache: &BatchNormCache<T>, dy: Array4<T>) -> Array4<T> {
        let (gamma, beta) = (Self::slice(&self.gamma.value), Self::slice(&self.beta.value));
        let xhat = cache.normalized.as_slice().expect("standard layout");
        let c = gamma.len();
        let mut dy = super::into_standard_layout(dy);
        for (g, x) in dy.as_slice_mut().expect("standard layout").chunks_exact_mut(c).zip(xhat.chunks_exact(c)) {
            for i in 0..c {
                if !(x[i] * gamma[i] + beta[i] > T::zero()) {
                    g[i] = T::zero();
                }
            }
        }
        dy
    }

    /// [`Self::relu_backward`] then [`Self::backward`] in two passes over `dy` instead of
    /// four: the first zeroes `dy` where the ReLU was off and sums `dy` and `dy * x_hat` per
    /// channel (in f64, pixel order, as the two do), the second writes `dx` into `dy`'s
    /// memory. Equal to the two in sequence, bit for bit.
    ///
    /// # Shapes
    /// - dy: `[N, H, W, C]`, the gradient of the ReLU's output
    /// - returns: dx `[N, H, W, C]`
    pub fn backward_through_relu(&mut self, cache: &BatchNormCache<T>, dy: Array4<T>) -> Array4<T> {
        let c = self.channels();
        let mut dy = super::into_standard_layout(dy);
        let xhat = cache.normalized.as_slice().expect("standard layout");
        let (mut sum_dy, mut sum_dy_xhat) = (vec![0.0f64; c], vec![0.0f64; c]);
        {
            let (gamma, beta) = (Self::slice(&self.gamma.value), Self::slice(&self.beta.value));
            let dys = dy.as_slice_mut().expect("standard layout");
            let pixels = dys.len() / c;
            // A block of pixels at a time: masked, then summed while it is in L1.
            for start in (0..pixels).step_by(super::SUM_BLOCK) {
                let block = start..(start + super::SUM_BLOCK).min(pixels);
                let (g, x) = (&mut dys[block.start * c..block.end * c], &xhat[block.start * c..block.end * c]);
                // Zipped, not indexed: no bounds checks, and every lane written (a select,
                // not a store per lane that is off), so the channel loop vectorises.
                for (g, x) in g.chunks_exact_mut(c).zip(x.chunks_exact(c)) {
                    for ((g, &x), (&gamma, &beta)) in g.iter_mut().zip(x).zip(gamma.iter().zip(beta)) {
                        // A NaN input counts as non-positive.
                        *g = if x * gamma + beta > T::zero() { *g } else { T::zero() };
                    }
                }
                let g = &dys[..];
                super::add_channel_terms(block, c, [&mut sum_dy, &mut sum_dy_xhat], |k| {
                    [g[k].to_f64().unwrap_or(0.0), (g[k] * xhat[k]).to_f64().unwrap_or(0.0)]
                });
            }
        }
        let sum_dy: Vec<T> = sum_dy.into_iter().map(T::of).collect();
        let sum_dy_xhat: Vec<T> = sum_dy_xhat.into_iter().map(T::of).collect();
        self.input_gradient(cache, &mut dy, &sum_dy, &sum_dy_xhat);
        dy
    }

    /// Accumulates the `gamma` and `beta` gradients from the channel sums of `dy` and
    /// `dy * x_hat`, and overwrites `dy` with `dx`.
    fn input_gradient(&mut self, cache: &BatchNormCache<T>, dy: &mut Array4<T>, sum_dy: &[T], sum_dy_xhat: &[T]) {
        let c = self.channels();
        for i in 0..c {
            self.beta.grad[i] += sum_dy[i];
            self.gamma.grad[i] += sum_dy_xhat[i];
        }
        let xhat = cache.normalized.as_slice().expect("standard layout");
        let dys = dy.as_slice_mut().expect("standard layout");
        let m = T::of((dys.len() / c) as f64);
        let k: Vec<T> = (0..c).map(|i| self.gamma.value[i] * cache.inv_std[i] / m).collect();
        for (g, x) in dys.chunks_exact_mut(c).zip(xhat.chunks_exact(c)) {
            for (((g, &x), &k), (&sum_dy, &sum_dy_xhat)) in g.iter_mut().zip(x).zip(&k).zip(sum_dy.iter().zip(sum_dy_xhat)) {
                *g = k * (m * *g - sum_dy - x * sum_dy_xhat);
            }
        }
    }

    /// Folds the running statistics into `conv` (the convolution this layer follows), so
    /// that `conv'(x) == bn_eval(conv(x))`: `w' = w * s`, `b' = (b - mean) * s + beta`,
    /// with `s = gamma / sqrt(var + eps)` per output channel.
    pub fn fold_into(&self, conv: &mut Conv2d<T>) {
        let c = self.channels();
        let scale: Vec<T> = (0..c).map(|i| self.gamma.value[i] / (self.running_var[i] + T::of(EPS)).sqrt()).collect();
        let rows = conv.weight.value.len() / c;
        let mut wm = conv.weight.value.view_mut().into_shape_with_order((rows, c)).expect("weight is [.., C_out]");
        for mut row in wm.rows_mut() {
            for (v, s) in row.iter_mut().zip(&scale) {
                *v *= *s;
            }
        }
        for (i, (b, s)) in conv.bias.value.iter_mut().zip(&scale).enumerate() {
            *b = (*b - self.running_mean[i]) * *s + self.beta.value[i];
        }
    }
}

impl<T: Scalar> Module<T> for BatchNorm<T> {
    fn visit(&mut self, prefix: &str, f: &mut dyn FnMut(&str, TensorMut<'_, T>)) {
        f(&join(prefix, "weight"), TensorMut::Param(&mut self.gamma));
        f(&join(prefix, "bias"), TensorMut::Param(&mut self.beta));
        f(&join(prefix, "running_mean"), TensorMut::Buffer(&mut self.running_mean));
        f(&join(prefix, "running_var"), TensorMut::Buffer(&mut self.running_var));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gradcheck::{dot, input_error, param_error, random};
    use crate::layers::conv2d::Conv2dConfig;
    use crate::rng::Rng;

    fn random_bn(c: usize, rng: &mut Rng) -> BatchNorm<f64> {
        let mut bn = BatchNorm::new(c);
        bn.gamma.value = random(ndarray::IxDyn(&[c]), rng);
        bn.beta.value = random(ndarray::IxDyn(&[c]), rng);
        bn.running_mean = random(ndarray::IxDyn(&[c]), rng);
        bn.running_var = random(ndarray::IxDyn(&[c]), rng).mapv(|v| v.abs() + 0.5);
        bn
    }

    #[test]
    fn backward_matches_finite_differences() {
        let mut rng = Rng::new(8);
        let mut bn = random_bn(3, &mut rng);
        let x = random(ndarray::Ix4(2, 3, 4, 3), &mut rng);
        let (y, cache) = bn.clone().forward_train(x.clone());
        let probe = random(y.raw_dim(), &mut rng);
        let dx = bn.backward(&cache, probe.clone());
        let loss = |bn: &BatchNorm<f64>, x: &Array4<f64>| dot(&bn.clone().forward_train(x.clone()).0, &probe);
        assert!(input_error(&x, &dx, |x| loss(&bn, x)) < 1e-5);
        let dg = bn.gamma.grad.clone();
        assert!(param_error(&bn, |b| &mut b.gamma.value, &dg, |b| loss(b, &x)) < 1e-6);
        let db = bn.beta.grad.clone();
        assert!(param_error(&bn, |b| &mut b.beta.value, &db, |b| loss(b, &x)) < 1e-6);
    }

    #[test]
    fn relu_backward_masks_exactly_where_relu_of_the_output_does() {
        let mut rng = Rng::new(9);
        let mut bn = random_bn(5, &mut rng);
        bn.beta.value[0] = f64::NAN; // ReLU zeroes NaN, so its gradient must be zero there
        let x = random(ndarray::Ix4(2, 3, 4, 5), &mut rng);
        let (mut y, cache) = bn.forward_train(x);
        crate::layers::relu::forward_inplace(y.view_mut());
        let dy = random(y.raw_dim(), &mut rng);
        let expected = crate::layers::relu::backward(y.view(), dy.view());
        assert!(expected.iter().any(|&v| v == 0.0) && expected.iter().any(|&v| v != 0.0));
        assert_eq!(bn.relu_backward(&cache, dy), expected);
    }

    #[test]
    fn backward_through_relu_equals_relu_backward_then_backward_bit_for_bit() {
        let mut rng = Rng::new(10);
        let mut fused = random_bn(6, &mut rng);
        fused.beta.value[1] = f64::NAN;
        let x = random(ndarray::Ix4(2, 5, 3, 6), &mut rng);
        let (_, cache) = fused.forward_train(x);
        let dy = random(ndarray::Ix4(2, 5, 3, 6), &mut rng);
        let mut plain = fused.clone();
        let expected = plain.backward(&cache, plain.relu_backward(&cache, dy.clone()));
        let got = fused.backward_through_relu(&cache, dy);
        let bits = |a: &Array4<f64>| a.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
        assert_eq!(bits(&got), bits(&expected));
        assert_eq!(fused.gamma.grad.iter().map(|v| v.to_bits()).collect::<Vec<_>>(), plain.gamma.grad.iter().map(|v| v.to_bits()).collect::<Vec<_>>());
        assert_eq!(fused.beta.grad.iter().map(|v| v.to_bits()).collect::<Vec<_>>(), plain.beta.grad.iter().map(|v| v.to_bits()).collect::<Vec<_>>());
        assert!(got.iter().any(|v| *v != 0.0));
    }

    #[test]
    fn running_statistics_follow_pytorch() {
        let mut bn = BatchNorm::<f64>::new(1);
        let x = Array4::from_shape_vec((1, 2, 2, 1), vec![1.0, 2.0, 3.0, 6.0]).unwrap();
        bn.forward_train(x.clone());
        // mean 3, unbiased variance 14/3; momentum 0.1 from (0, 1).
        assert!((bn.running_mean[0] - 0.3).abs() < 1e-12);
        assert!((bn.running_var[0] - (0.9 + 0.1 * 14.0 / 3.0)).abs() < 1e-12);
    }

    #[test]
    fn folding_equals_conv_then_eval_batch_norm() {
        let mut rng = Rng::new(12);
        let bn = random_bn(4, &mut rng);
        let mut conv = Conv2d::<f64>::new(Conv2dConfig::same(3, 4, 3), &mut rng);
        conv.bias.value = random(ndarray::IxDyn(&[4]), &mut rng);
        let x = random(ndarray::Ix4(1, 5, 5, 3), &mut rng);
        let (mut expected, _) = conv.forward(&x).unwrap();
        bn.forward_eval_inplace(expected.view_mut());
        bn.fold_into(&mut conv);
        let (folded, _) = conv.forward(&x).unwrap();
        let err = (&folded - &expected).mapv(f64::abs).fold(0.0, |a: f64, &b| a.max(b));
        assert!(err < 1e-12, "{err}");
    }
}
