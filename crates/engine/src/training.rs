//! One optimisation step, shared by the trainer and the tests.

use crate::layers::loss::CrossEntropy;
use crate::optim::{Adam, Sgd};
use crate::{Model, Result, Scalar};
use ndarray::{Array3, Array4};

/// Updates parameters from their accumulated gradients.
pub trait Optimizer<T: Scalar> {
    fn step(&mut self, model: &mut Model<T>);
}

impl<T: Scalar> Optimizer<T> for Sgd<T> {
    fn step(&mut self, model: &mut Model<T>) {
        Sgd::step(self, model)
    }
}

impl<T: Scalar> Optimizer<T> for Adam<T> {
    fn step(&mut self, model: &mut Model<T>) {
        Adam::step(self, model)
    }
}

/// Forward, loss, backward and one optimiser step on a batch `[N, H, W, C]` with labels
/// `[N, H, W]`. Returns the loss before the step.
pub fn train_step<T: Scalar>(
    model: &mut Model<T>,
    optimizer: &mut dyn Optimizer<T>,
    loss: &CrossEntropy,
    images: &Array4<T>,
    labels: &Array3<u8>,
) -> Result<T> {
    let (scores, cache) = model.forward_train(images)?;
    let (value, d_scores) = loss.forward_backward(scores.view(), labels.view())?;
    model.zero_grad();
    model.backward(&cache, d_scores.view());
    optimizer.step(model);
    Ok(value)
}
