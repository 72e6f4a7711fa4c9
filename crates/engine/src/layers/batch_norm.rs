//! Batch normalisation over `N, H, W` per channel (PyTorch `nn.BatchNorm2d`, `eps = 1e-5`,
//! `momentum = 0.1`).
//!
//! Training normalises with the batch statistics (biased variance) and updates the running
//! averages (unbiased variance). Inference uses the running averages; for inference the
//! layer is folded into the preceding convolution ([`BatchNorm::fold_into`]) and vanishes.

use super::conv2d::Conv2d;
use crate::param::{join, Module, Param, TensorRole};
use crate::Scalar;
use ndarray::{Array1, Array4, ArrayD, ArrayView4, ArrayViewMut4, Axis, Zip};

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

    fn vec(a: &ArrayD<T>) -> ndarray::ArrayView1<'_, T> {
        a.view().into_dimensionality().expect("batch-norm tensors are [C]")
    }

    /// Training forward: normalises `x` `[N, H, W, C]` with its own statistics and moves
    /// the running averages towards them.
    pub fn forward_train(&mut self, x: &Array4<T>) -> (Array4<T>, BatchNormCache<T>) {
        let (n, h, w, c) = x.dim();
        let count = n * h * w;
        let flat = x.view().into_shape_with_order((count, c)).expect("standard layout");
        let mean = flat.mean_axis(Axis(0)).expect("non-empty batch");
        let var = flat.var_axis(Axis(0), T::zero());
        let inv_std = var.mapv(|v| T::one() / (v + T::of(EPS)).sqrt());
        let mut normalized = x.clone();
        for mut px in normalized.view_mut().into_shape_with_order((count, c)).expect("standard layout").rows_mut() {
            Zip::from(&mut px).and(&mean).and(&inv_std).for_each(|v, &m, &s| *v = (*v - m) * s);
        }
        let mut y = normalized.clone();
        self.scale_shift(y.view_mut());
        let m = T::of(MOMENTUM);
        let unbiased = T::of(count as f64 / (count.max(2) - 1) as f64);
        Zip::from(&mut self.running_mean).and(mean.view().into_dyn()).for_each(|r, &b| *r = (T::one() - m) * *r + m * b);
        Zip::from(&mut self.running_var).and(var.view().into_dyn()).for_each(|r, &b| *r = (T::one() - m) * *r + m * b * unbiased);
        (y, BatchNormCache { normalized, inv_std })
    }

    fn scale_shift(&self, mut y: ArrayViewMut4<T>) {
        let c = self.channels();
        let (gamma, beta) = (Self::vec(&self.gamma.value), Self::vec(&self.beta.value));
        let count = y.len() / c.max(1);
        for mut px in y.view_mut().into_shape_with_order((count, c)).expect("standard layout").rows_mut() {
            Zip::from(&mut px).and(&gamma).and(&beta).for_each(|v, &g, &b| *v = *v * g + b);
        }
    }

    /// Inference forward with the running statistics, in place.
    pub fn forward_eval_inplace(&self, mut x: ArrayViewMut4<T>) {
        let c = self.channels();
        let (mean, var) = (Self::vec(&self.running_mean), Self::vec(&self.running_var));
        let (gamma, beta) = (Self::vec(&self.gamma.value), Self::vec(&self.beta.value));
        let count = x.len() / c.max(1);
        for mut px in x.view_mut().into_shape_with_order((count, c)).expect("standard layout").rows_mut() {
            Zip::from(&mut px).and(&mean).and(&var).and(&gamma).for_each(|v, &m, &s2, &g| *v = (*v - m) * g / (s2 + T::of(EPS)).sqrt());
            px += &beta;
        }
    }

    /// Accumulates `gamma` and `beta` gradients and returns `dx`:
    /// `dx = inv_std / M * (M * g - sum(g) - x_hat * sum(g * x_hat))` with `g = dy * gamma`.
    pub fn backward(&mut self, cache: &BatchNormCache<T>, dy: ArrayView4<T>) -> Array4<T> {
        let (n, h, w, c) = dy.dim();
        let count = n * h * w;
        let dy = dy.as_standard_layout();
        let dyf = dy.view().into_shape_with_order((count, c)).expect("standard layout");
        let xhat = cache.normalized.view().into_shape_with_order((count, c)).expect("standard layout");
        let sum_dy = dyf.sum_axis(Axis(0));
        let sum_dy_xhat = (&dyf * &xhat).sum_axis(Axis(0));
        self.beta.grad += &sum_dy.view().into_dyn();
        self.gamma.grad += &sum_dy_xhat.view().into_dyn();
        let gamma = Self::vec(&self.gamma.value);
        let m = T::of(count as f64);
        let mut dx = Array4::zeros((n, h, w, c));
        {
            let mut dxf = dx.view_mut().into_shape_with_order((count, c)).expect("fresh array");
            for ((mut dxr, dyr), xr) in dxf.rows_mut().into_iter().zip(dyf.rows()).zip(xhat.rows()) {
                for ch in 0..c {
                    let k = gamma[ch] * cache.inv_std[ch] / m;
                    dxr[ch] = k * (m * dyr[ch] - sum_dy[ch] - xr[ch] * sum_dy_xhat[ch]);
                }
            }
        }
        dx
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
        for i in 0..c {
            conv.bias.value[i] = (conv.bias.value[i] - self.running_mean[i]) * scale[i] + self.beta.value[i];
        }
    }
}

impl<T: Scalar> Module<T> for BatchNorm<T> {
    fn visit_params(&mut self, prefix: &str, f: &mut dyn FnMut(&str, &mut Param<T>)) {
        f(&join(prefix, "weight"), &mut self.gamma);
        f(&join(prefix, "bias"), &mut self.beta);
    }

    fn visit_tensors(&mut self, prefix: &str, f: &mut dyn FnMut(&str, TensorRole, &mut ArrayD<T>)) {
        f(&join(prefix, "weight"), TensorRole::Trainable, &mut self.gamma.value);
        f(&join(prefix, "bias"), TensorRole::Trainable, &mut self.beta.value);
        f(&join(prefix, "running_mean"), TensorRole::Buffer, &mut self.running_mean);
        f(&join(prefix, "running_var"), TensorRole::Buffer, &mut self.running_var);
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
        let (y, cache) = bn.clone().forward_train(&x);
        let probe = random(y.raw_dim(), &mut rng);
        let dx = bn.backward(&cache, probe.view());
        let loss = |bn: &BatchNorm<f64>, x: &Array4<f64>| dot(&bn.clone().forward_train(x).0, &probe);
        assert!(input_error(&x, &dx, |x| loss(&bn, x)) < 1e-5);
        let dg = bn.gamma.grad.clone();
        assert!(param_error(&bn, |b| &mut b.gamma.value, &dg, |b| loss(b, &x)) < 1e-6);
        let db = bn.beta.grad.clone();
        assert!(param_error(&bn, |b| &mut b.beta.value, &db, |b| loss(b, &x)) < 1e-6);
    }

    #[test]
    fn running_statistics_follow_pytorch() {
        let mut bn = BatchNorm::<f64>::new(1);
        let x = Array4::from_shape_vec((1, 2, 2, 1), vec![1.0, 2.0, 3.0, 6.0]).unwrap();
        bn.forward_train(&x);
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
