//! Trainable parameters and the visitor that names them by path.

use crate::Scalar;
use ndarray::ArrayD;

/// A trainable tensor and the gradient that backward passes accumulate into.
///
/// Invariant: `grad` has the same shape as `value`.
#[derive(Clone, Debug)]
pub struct Param<T> {
    pub value: ArrayD<T>,
    pub grad: ArrayD<T>,
}

impl<T: Scalar> Param<T> {
    pub fn new(value: ArrayD<T>) -> Self {
        let grad = ArrayD::zeros(value.raw_dim());
        Self { value, grad }
    }

    pub fn zeros(shape: &[usize]) -> Self {
        Self::new(ArrayD::zeros(shape))
    }

    pub fn zero_grad(&mut self) {
        self.grad.fill(T::zero());
    }
}

/// What a named tensor is: optimised by gradient descent, or a statistic kept beside it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TensorRole {
    Trainable,
    /// Batch-norm running statistics: saved and loaded, never optimised.
    Buffer,
}

/// A module whose tensors can be visited in a fixed order under names built by path
/// (`enc.1.conv2.weight`). The order is the same on every call; optimisers rely on it.
pub trait Module<T: Scalar> {
    /// Visits every trainable parameter.
    fn visit_params(&mut self, prefix: &str, f: &mut dyn FnMut(&str, &mut Param<T>));

    /// Visits every tensor (parameters and buffers) with its role, for saving and loading.
    fn visit_tensors(&mut self, prefix: &str, f: &mut dyn FnMut(&str, TensorRole, &mut ArrayD<T>));
}

/// Joins a path prefix and a name with a dot.
pub fn join(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_string()
    } else {
        format!("{prefix}.{name}")
    }
}
