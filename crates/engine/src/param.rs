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

/// One tensor as [`Module::visit`] hands it out: a parameter (value and gradient) or a buffer.
#[derive(Debug)]
pub enum TensorMut<'a, T> {
    Param(&'a mut Param<T>),
    /// Batch-norm running statistics: saved and loaded, never optimised.
    Buffer(&'a mut ArrayD<T>),
}

impl<T> TensorMut<'_, T> {
    pub fn role(&self) -> TensorRole {
        match self {
            TensorMut::Param(_) => TensorRole::Trainable,
            TensorMut::Buffer(_) => TensorRole::Buffer,
        }
    }

    /// The tensor's values (a parameter's `value`, or the buffer), as saved and loaded.
    pub fn value(&mut self) -> &mut ArrayD<T> {
        match self {
            TensorMut::Param(p) => &mut p.value,
            TensorMut::Buffer(b) => b,
        }
    }
}

/// A module whose tensors can be visited in a fixed order under names built by path
/// (`enc.1.conv2.weight`). The order is the same on every call; optimisers, the weights
/// files and the trainer's shard averaging rely on it.
pub trait Module<T: Scalar> {
    /// Visits every tensor, parameters and buffers, in order: the one walk over the module.
    fn visit(&mut self, prefix: &str, f: &mut dyn FnMut(&str, TensorMut<'_, T>));

    /// [`Self::visit`], keeping only the trainable parameters.
    fn visit_params(&mut self, prefix: &str, f: &mut dyn FnMut(&str, &mut Param<T>)) {
        self.visit(prefix, &mut |name, t| {
            if let TensorMut::Param(p) = t {
                f(name, p)
            }
        });
    }
}

/// Joins a path prefix and a name with a dot.
pub fn join(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_string()
    } else {
        format!("{prefix}.{name}")
    }
}
