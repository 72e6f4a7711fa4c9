//! The optimiser over a [`Module`]'s parameters, visited in their fixed order.
//!
//! [`Adam`] follows `torch.optim.Adam`: weight decay is L2 added to the gradient
//! (`g += weight_decay * w`); with `decoupled = true` it is AdamW, as the trainer runs it.

use crate::param::Module;
use crate::Scalar;
use ndarray::{ArrayD, Zip};

/// Adam (Kingma and Ba) with bias correction.
#[derive(Clone, Debug)]
pub struct Adam<T> {
    pub lr: f64,
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
    pub weight_decay: f64,
    /// AdamW: decay the weights directly instead of adding L2 to the gradient.
    pub decoupled: bool,
    pub steps: u64,
    moments: Vec<(ArrayD<T>, ArrayD<T>)>,
}

impl<T: Scalar> Adam<T> {
    pub fn new(lr: f64, weight_decay: f64) -> Self {
        Self { lr, beta1: 0.9, beta2: 0.999, eps: 1e-8, weight_decay, decoupled: false, steps: 0, moments: Vec::new() }
    }

    /// First and second moments per parameter, in visiting order (empty before the first step).
    pub fn moments(&self) -> &[(ArrayD<T>, ArrayD<T>)] {
        &self.moments
    }

    /// Restores the state saved from [`Self::moments`] and [`Self::steps`], to resume training.
    pub fn restore(&mut self, steps: u64, moments: Vec<(ArrayD<T>, ArrayD<T>)>) {
        self.steps = steps;
        self.moments = moments;
    }

    pub fn step(&mut self, model: &mut impl Module<T>) {
        self.steps += 1;
        let t = self.steps as i32;
        let (b1, b2) = (self.beta1, self.beta2);
        let step_size = T::of(self.lr / (1.0 - b1.powi(t)));
        let c2 = T::of(1.0 / (1.0 - b2.powi(t)));
        let (b1, b2, eps) = (T::of(b1), T::of(b2), T::of(self.eps));
        let wd = T::of(self.weight_decay);
        let decay = if self.decoupled { T::one() - T::of(self.lr * self.weight_decay) } else { T::one() };
        let l2 = if self.decoupled { T::zero() } else { wd };
        let mut i = 0;
        let moments = &mut self.moments;
        model.visit_params("", &mut |_, p| {
            if moments.len() <= i {
                moments.push((ArrayD::zeros(p.value.raw_dim()), ArrayD::zeros(p.value.raw_dim())));
            }
            let (m, v) = &mut moments[i];
            Zip::from(&mut p.value).and(&p.grad).and(m).and(v).for_each(|w, &g, m, v| {
                let g = g + l2 * *w;
                *m = b1 * *m + (T::one() - b1) * g;
                *v = b2 * *v + (T::one() - b2) * g * g;
                *w = *w * decay - step_size * *m / ((*v * c2).sqrt() + eps);
            });
            i += 1;
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::param::{Param, TensorMut};

    /// One parameter `w` with loss `0.5 * |w - target|^2`.
    struct Quadratic(Param<f64>);

    impl Module<f64> for Quadratic {
        fn visit(&mut self, _: &str, f: &mut dyn FnMut(&str, TensorMut<'_, f64>)) {
            f("w", TensorMut::Param(&mut self.0))
        }
    }

    fn descend(mut step: impl FnMut(&mut Quadratic)) -> f64 {
        let mut q = Quadratic(Param::new(ArrayD::from_elem(vec![3], 5.0)));
        for _ in 0..300 {
            q.0.grad = q.0.value.mapv(|w| w - 2.0);
            step(&mut q);
        }
        q.0.value.iter().map(|w| (w - 2.0).abs()).fold(0.0, f64::max)
    }

    #[test]
    fn adam_and_adamw_converge_on_a_quadratic() {
        let mut adam = Adam::new(0.05, 0.0);
        assert!(descend(|q| adam.step(q)) < 1e-2);
        let mut adamw = Adam::new(0.05, 1e-3);
        adamw.decoupled = true;
        assert!(descend(|q| adamw.step(q)) < 2e-2);
    }

    #[test]
    fn weight_decay_by_hand() {
        // w = 5, g = 3, lr = 0.01, weight decay 0.1.
        // Adam (L2): g' = 3 + 0.1 * 5 = 3.5, first step moves by lr: 4.99.
        // AdamW: w * (1 - lr * wd) - lr = 5 * 0.999 - 0.01 = 4.985.
        let run = |step: &mut dyn FnMut(&mut Quadratic)| {
            let mut q = Quadratic(Param::new(ArrayD::from_elem(vec![1], 5.0)));
            q.0.grad.fill(3.0);
            step(&mut q);
            q.0.value[0]
        };
        assert!((run(&mut |q| Adam::new(0.01, 0.1).step(q)) - 4.99).abs() < 1e-9);
        let mut adamw = Adam::new(0.01, 0.1);
        adamw.decoupled = true;
        assert!((run(&mut |q| adamw.step(q)) - 4.985).abs() < 1e-9);
    }

    #[test]
    fn first_adam_step_moves_by_lr() {
        // With bias correction the first step is lr * sign(g).
        let mut q = Quadratic(Param::new(ArrayD::from_elem(vec![1], 5.0)));
        q.0.grad.fill(3.0);
        Adam::new(0.01, 0.0).step(&mut q);
        assert!((q.0.value[0] - 4.99).abs() < 1e-9);
    }
}
